"""The order lifecycle: every state, and every allowed change with the event that causes it.

This table is the only place a state change is declared: `OrderStore.transition` refuses any
change not listed here, and the diagram below (also in README) is checked against it by a test.

```
created / failed ──authenticated──▶ authenticated   (each attempt has its own KISPG ordNo)
authenticated ──approval_claimed──▶ approving
created / failed ──auth_failed──▶ failed          (the attempt failed; the shopper may pay again)
created / failed ──already_approved──▶ unknown    (an approval code on returnUrl: ask KISPG)
created / failed ──failure_unconfirmed──▶ unknown (a failure post, but KISPG holds a payment or cannot say)
created / failed ──order_expired──▶ expired       (past WEBVIEW_ORDER_TTL, never paid)
approving ──approved──▶ paid
approving ──vbank_issued──▶ awaiting_deposit
approving ──approval_declined──▶ failed
approving ──approval_not_sent──▶ failed           (refused before it left: nothing was sent)
approving ──approval_unknown──▶ unknown           (timeout, garbled, "already processed")
approving ──approval_mismatch──▶ needs_review     (an answer naming another order or amount)
created / failed ──failure_unconfirmed──▶ needs_review (a failure post; KISPG holds another amount)
approving / unknown / needs_review ──reconciled_paid──▶ paid
approving / unknown / needs_review ──reconciled_partially_cancelled──▶ partially_cancelled
approving / unknown / needs_review ──reconciled_awaiting_deposit──▶ awaiting_deposit
approving / unknown / needs_review ──reconciled_not_approved──▶ failed
approving / unknown / needs_review ──reconciled_cancelled──▶ cancelled
approving / unknown ──reconcile_mismatch──▶ needs_review
awaiting_deposit ──reconcile_mismatch──▶ needs_review (an inquiry naming another order or amount)
awaiting_deposit ──reconciled_cancelled──▶ cancelled  (closed at KISPG before any deposit)
awaiting_deposit ──deposit_confirmed──▶ paid
awaiting_deposit ──deposit_expired──▶ expired
awaiting_deposit ──cancel_claimed──▶ cancelling
paid / partially_cancelled ──cancel_claimed──▶ cancelling
cancelling ──cancelled──▶ partially_cancelled | cancelled
cancelling ──cancel_declined──▶ paid | partially_cancelled | awaiting_deposit
cancelling ──reconciled_cancel──▶ paid | partially_cancelled | cancelled | awaiting_deposit
cancelling ──cancel_mismatch──▶ needs_review
```
"""
from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Mapping, NamedTuple


class OrderStatus(StrEnum):
    """Where an order stands; the values are what the API and the database show."""

    CREATED = "created"
    AUTHENTICATED = "authenticated"
    APPROVING = "approving"
    PAID = "paid"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"
    AWAITING_DEPOSIT = "awaiting_deposit"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    PARTIALLY_CANCELLED = "partially_cancelled"
    CANCELLED = "cancelled"


S = OrderStatus


class Transition(NamedTuple):
    """One allowed change: from `source` to `target`, caused by `event`."""

    source: OrderStatus
    target: OrderStatus
    event: str


def _rows(sources, targets, event: str) -> list[Transition]:
    return [Transition(s, t, event) for s in sources for t in targets]


PAYABLE = (S.CREATED, S.FAILED)
SETTLEABLE = (S.APPROVING, S.UNKNOWN, S.NEEDS_REVIEW)
CHARGED = (S.PAID, S.PARTIALLY_CANCELLED)

TRANSITIONS: tuple[Transition, ...] = tuple(
    _rows(PAYABLE, [S.AUTHENTICATED], "authenticated")
    + _rows([S.AUTHENTICATED], [S.APPROVING], "approval_claimed")
    + _rows(PAYABLE, [S.FAILED], "auth_failed")
    + _rows(PAYABLE, [S.UNKNOWN], "already_approved")
    + _rows(PAYABLE, [S.UNKNOWN, S.NEEDS_REVIEW], "failure_unconfirmed")
    + _rows(PAYABLE, [S.EXPIRED], "order_expired")
    + _rows([S.APPROVING], [S.PAID], "approved")
    + _rows([S.APPROVING], [S.AWAITING_DEPOSIT], "vbank_issued")
    + _rows([S.APPROVING], [S.FAILED], "approval_declined")
    + _rows([S.APPROVING], [S.FAILED], "approval_not_sent")
    + _rows([S.APPROVING], [S.UNKNOWN], "approval_unknown")
    + _rows([S.APPROVING], [S.NEEDS_REVIEW], "approval_mismatch")
    + _rows(SETTLEABLE, [S.PAID], "reconciled_paid")
    + _rows(SETTLEABLE, [S.PARTIALLY_CANCELLED], "reconciled_partially_cancelled")
    + _rows(SETTLEABLE, [S.AWAITING_DEPOSIT], "reconciled_awaiting_deposit")
    + _rows(SETTLEABLE, [S.FAILED], "reconciled_not_approved")
    + _rows(SETTLEABLE, [S.CANCELLED], "reconciled_cancelled")
    + _rows([S.APPROVING, S.UNKNOWN], [S.NEEDS_REVIEW], "reconcile_mismatch")
    + _rows([S.AWAITING_DEPOSIT], [S.NEEDS_REVIEW], "reconcile_mismatch")
    + _rows([S.AWAITING_DEPOSIT], [S.CANCELLED], "reconciled_cancelled")
    + _rows([S.AWAITING_DEPOSIT], [S.PAID], "deposit_confirmed")
    + _rows([S.AWAITING_DEPOSIT], [S.EXPIRED], "deposit_expired")
    + _rows((S.AWAITING_DEPOSIT,) + CHARGED, [S.CANCELLING], "cancel_claimed")
    + _rows([S.CANCELLING], [S.PARTIALLY_CANCELLED, S.CANCELLED], "cancelled")
    + _rows([S.CANCELLING], CHARGED + (S.AWAITING_DEPOSIT,), "cancel_declined")
    + _rows([S.CANCELLING], CHARGED + (S.CANCELLED, S.AWAITING_DEPOSIT), "reconciled_cancel")
    + _rows([S.CANCELLING], [S.NEEDS_REVIEW], "cancel_mismatch")
)

# States a reconcile pass settles by asking KISPG (`approving` only once it is due).
STUCK = (S.APPROVING, S.UNKNOWN, S.CANCELLING)
# Virtual accounts waiting for the money: asked about (throttled) by result pages and reconcile,
# in case KISPG's deposit notification never arrived, and expired past their deadline.
WAITING = (S.AWAITING_DEPOSIT,)
# States whose result page refreshes itself: the outcome is not settled yet.
PENDING = (S.AUTHENTICATED, S.APPROVING, S.UNKNOWN, S.CANCELLING, S.AWAITING_DEPOSIT)
# States no automatic step leaves; a human (or, for needs_review, a later inquiry) may.
FINAL = (S.CANCELLED, S.EXPIRED)


def sources(target: OrderStatus, event: str) -> tuple[OrderStatus, ...]:
    """The states from which `event` may move an order to `target`; empty when the change is not declared."""
    return _SOURCES.get((target, event), ())


def _sources_by_change() -> Mapping[tuple[OrderStatus, str], tuple[OrderStatus, ...]]:
    table: dict[tuple[OrderStatus, str], tuple[OrderStatus, ...]] = {}
    for row in TRANSITIONS:
        table[(row.target, row.event)] = table.get((row.target, row.event), ()) + (row.source,)
    return MappingProxyType(table)


_SOURCES = _sources_by_change()


def diagram_edges(docstring: str) -> set[tuple[str, str, str]]:
    """The (source, event, target) edges drawn in a diagram like this module's, for the consistency test."""
    edges = set()
    for line in docstring.splitlines():
        parts = [p.strip() for p in line.split("──")]
        if len(parts) != 3 or "▶" not in parts[2]:
            continue
        left, event, right = parts
        targets = right.split("▶", 1)[1].split("(")[0]
        for source in left.split("/"):
            for target in targets.split("|"):
                edges.add((source.strip(), event, target.strip()))
    return edges
