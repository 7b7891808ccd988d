"""The webhook outbox: one row per event and receiver, written in the transaction of the change.

A crash can then neither change an order without its event nor leave an event for a change
that did not commit. The worker (`delivery`) reads the rows; nothing here talks to the network.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint, insert, select
from sqlalchemy.engine import Connection

from ..lifecycle import OrderStatus as S
from ..records import iso
from ..tables import metadata

# The one mapping from an order's new state to the event the shop is told of.
EVENT_TYPES = {
    S.PAID: "order.paid",
    S.FAILED: "order.failed",  # this attempt failed, nothing charged; the shopper may pay again
    S.AWAITING_DEPOSIT: "order.awaiting_deposit",
    S.EXPIRED: "order.expired",
    S.CANCELLED: "order.cancelled",
    S.PARTIALLY_CANCELLED: "order.partially_cancelled",
    S.NEEDS_REVIEW: "order.needs_review",
}

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
# Stripe retries for three days, Toss Payments for about a day: at least 24 hours here.
RETRY_FOR = timedelta(hours=24)

outbox = Table(
    "webhook_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # delivery order within one order
    Column("event_id", String(40), nullable=False, index=True),
    Column("event_type", String(40), nullable=False),
    Column("ord_no", String(40), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("give_up_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("leased_by", String(80)),
    Column("last_error", String(300)),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "url", name="uq_webhook_outbox_event_url"),
    Index("ix_webhook_outbox_due", "status", "next_attempt_at"),
    Index("ix_webhook_outbox_order", "ord_no", "url", "status"),
)


def new_event_id() -> str:
    """A unique event id (`evt_` and 96 random bits)."""
    return "evt_" + secrets.token_hex(12)


def event_type_for(status: str) -> str | None:
    """The event a change into `status` sends, or None when the shop is not told of it."""
    return EVENT_TYPES.get(status)


def payload(event_id: str, event_type: str, at: datetime, order: dict[str, Any]) -> str:
    """The JSON body every receiver gets for this event (the same bytes on every retry)."""
    return json.dumps({"id": event_id, "type": event_type, "createdAt": iso(at), "order": order},
                      ensure_ascii=False, separators=(",", ":"))


def enqueue(conn: Connection, ord_no: str, event_type: str, order: dict[str, Any], urls: Iterable[str],
            at: datetime) -> str | None:
    """Write the event for each receiver on the caller's connection (its transaction); the event id."""
    urls = tuple(urls)
    if not urls:
        return None
    event_id = new_event_id()
    body = payload(event_id, event_type, at, order)
    conn.execute(insert(outbox), [{
        "event_id": event_id, "event_type": event_type, "ord_no": ord_no, "url": url, "payload": body,
        "status": PENDING, "attempts": 0, "created_at": at, "next_attempt_at": at, "give_up_at": at + RETRY_FOR,
    } for url in urls])
    return event_id


def last_event(conn: Connection, ord_no: str) -> tuple[str, dict] | None:
    """The type and order snapshot of the order's newest event, or None."""
    row = conn.execute(select(outbox.c.event_type, outbox.c.payload).where(outbox.c.ord_no == ord_no)
                       .order_by(outbox.c.id.desc()).limit(1)).first()
    return (row.event_type, json.loads(row.payload)["order"]) if row else None


def enqueue_change(conn: Connection, ord_no: str, status: str, order: dict[str, Any], urls: Iterable[str],
                   at: datetime, *, out_of_cancelling: bool = False) -> str | None:
    """Enqueue the event for a change into `status`, if the shop is told of it; the event id or None.

    A cancel that KISPG declined (or that never happened) moves the order back out of `cancelling`
    to what it was: that is no news to the shop, which was never told of the attempt.
    """
    event_type = event_type_for(status)
    if event_type is None:
        return None
    if out_of_cancelling:
        last = last_event(conn, ord_no)
        if last and last[0] == event_type and last[1].get("cancelledAmt") == order.get("cancelledAmt"):
            return None
    return enqueue(conn, ord_no, event_type, order, urls, at)
