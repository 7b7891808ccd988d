"""Created orders expire: past WEBVIEW_ORDER_TTL an order nobody paid can no longer be paid.

A link to an old checkout page (in a chat, a browser's history) must not start a payment for
a cart the shop has long forgotten. The order moves `created` / `failed` → `expired` by a conditional
UPDATE, so an order a shopper is paying at that moment (already `authenticated`) is untouched.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from .lifecycle import PAYABLE, OrderStatus
from .records import CheckoutOrder
from .store import OrderStore


def is_past_ttl(order: CheckoutOrder, ttl_seconds: float, now: datetime | None = None) -> bool:
    """Whether a payable (created or failed) order has waited longer than its TTL."""
    if order.status not in PAYABLE:
        return False
    created = order.created_at if order.created_at.tzinfo else order.created_at.replace(tzinfo=timezone.utc)
    # In seconds since the epoch: the datetime arithmetic cost about 3 µs of every checkout view (bench/).
    return created.timestamp() + ttl_seconds <= (now.timestamp() if now is not None else time.time())


def expire_if_due(store: OrderStore, order: CheckoutOrder, ttl_seconds: float, now: datetime | None = None) -> bool:
    """Expire the order if it is created and past its TTL; whether it is (now) expired."""
    if order.status == OrderStatus.EXPIRED:
        return True
    if not is_past_ttl(order, ttl_seconds, now):
        return False
    if store.transition(order.ord_no, OrderStatus.EXPIRED, "order_expired", detail={"ttl": ttl_seconds}):
        return True
    # Lost the race to a shopper's payment: then it is not expired.
    current = store.get(order.ord_no)
    return current is not None and current.status == OrderStatus.EXPIRED
