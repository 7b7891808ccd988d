"""Seed a store's tables with settled orders fast: bulk inserts (executemany) of orders, attempts, events and outbox rows.

    seed(engine, 100_000)          # settled history, in the mix of STATUS_MIX
    due = seed_due(engine, 100)    # ordNos of `unknown` orders a reconcile pass must ask about

The history is what a shop accumulates: mostly paid, then failed, expired and cancelled
orders, virtual accounts still waiting (asked about lately, so not due), a few for review;
each with its one attempt, two events and the delivered webhook it sent. The same
fixed set of due rows goes into every size, so a pass over them should cost the same.
"""
from __future__ import annotations

import json
import random
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from webview_toolkit.tables import attempts, events, orders
from webview_toolkit.webhooks.outbox import DELIVERED, PENDING, RETRY_FOR, event_type_for, outbox

# status: (share, the attempt's outcome, the event that put it there)
STATUS_MIX = {
    "paid": (0.60, "approved", "approved"),
    "failed": (0.12, "failed", "auth_failed"),
    "expired": (0.12, "expired", "order_expired"),
    "cancelled": (0.09, "approved", "cancelled"),
    "awaiting_deposit": (0.06, "approved", "vbank_issued"),
    "needs_review": (0.01, "needs_review", "approval_mismatch"),
}
CHUNK = 10_000
RECEIVER = "http://127.0.0.1:9/hooks"


def _statuses(n: int, rng: random.Random) -> list[str]:
    names = list(STATUS_MIX)
    return rng.choices(names, weights=[STATUS_MIX[s][0] for s in names], k=n)


def _rows(start: int, statuses: list[str], now: datetime, rng: random.Random, *, due: bool = False):
    order_rows, attempt_rows, event_rows, outbox_rows = [], [], [], []
    for offset, status in enumerate(statuses):
        serial = start + offset
        created = now - timedelta(seconds=rng.randrange(90 * 86400)) if not due else now - timedelta(hours=1)
        ord_no = created.strftime("%Y%m%d%H%M%S") + f"{serial:016x}"
        charged = status in ("paid", "cancelled", "awaiting_deposit", "needs_review") or due
        tid = f"seed{serial:026d}" if charged else None
        amount = rng.choice((9_900, 19_800, 39_000, 129_000))
        outcome, event = ("unknown", "approval_unknown") if due else STATUS_MIX[status][1:]
        order_rows.append({
            "ord_no": ord_no, "status": status, "goods_nm": "무선 이어폰", "goods_amt": amount, "ord_nm": "홍길동",
            "ord_tel": "01012345678", "pay_method": "card", "tid": tid,
            "result_cd": "3001" if charged else None, "cancelled_amt": amount if status == "cancelled" else 0,
            "created_at": created, "updated_at": created + timedelta(minutes=2), "attempt_no": 1,
            # A waiting account was asked about lately: its next inquiry is not due yet.
            "next_check_at": now + timedelta(hours=1) if status == "awaiting_deposit" else None,
            "environment": "sandbox",
            "vacnt_no": "56211234567890" if status == "awaiting_deposit" else None,
            "lmt_day": (now + timedelta(days=3)).strftime("%Y%m%d") if status == "awaiting_deposit" else None,
        })
        attempt_rows.append({"ord_no": ord_no, "n": 1, "kispg_ord_no": ord_no, "token": secrets.token_urlsafe(24),
                             "tid": tid, "outcome": outcome, "result_cd": "3001" if charged else None,
                             "created_at": created, "updated_at": created + timedelta(minutes=2)})
        event_rows.append({"ord_no": ord_no, "at": created, "kind": "created", "detail": "{}"})
        event_rows.append({"ord_no": ord_no, "at": created + timedelta(minutes=2), "kind": event, "detail": "{}"})
        event_type = event_type_for(status)
        if event_type and not due:
            body = json.dumps({"id": f"evt_seed{serial:020d}", "type": event_type, "order": {"ordNo": ord_no}})
            outbox_rows.append({
                "event_id": f"evt_seed{serial:020d}", "event_type": event_type, "ord_no": ord_no, "url": RECEIVER,
                "payload": body, "status": DELIVERED, "attempts": 1, "created_at": created,
                "next_attempt_at": created, "give_up_at": created + RETRY_FOR, "delivered_at": created})
    return order_rows, attempt_rows, event_rows, outbox_rows


def _insert(engine: Engine, batches) -> None:
    with engine.begin() as conn:
        for table, rows in zip((orders, attempts, events, outbox), batches):
            if rows:
                conn.execute(insert(table), rows)


def seed(engine: Engine, n: int, *, seed_value: int = 18) -> None:
    """Insert n settled orders with their attempts, events and delivered webhooks, CHUNK rows per transaction."""
    rng = random.Random(seed_value)
    now = datetime.now(timezone.utc)
    for start in range(0, n, CHUNK):
        _insert(engine, _rows(start, _statuses(min(CHUNK, n - start), rng), now, rng))
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time a shop has this many orders (it would
        # otherwise start on the fresh rows in the middle of the measurements).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def seed_due(engine: Engine, n: int) -> list[str]:
    """Insert n `unknown` orders whose inquiry is due (the same n at every size); their ordNos."""
    rng = random.Random(19)
    batches = _rows(10**9, ["unknown"] * n, datetime.now(timezone.utc), rng, due=True)
    _insert(engine, batches)
    return [row["ord_no"] for row in batches[0]]


def seed_pending_webhooks(engine: Engine, ord_nos: list[str]) -> list[int]:
    """One pending, due webhook row per order; their ids (a worker pass posts exactly these)."""
    now = datetime.now(timezone.utc) - timedelta(seconds=1)
    rows = [{"event_id": f"evt_due{n:021d}", "event_type": "order.paid", "ord_no": ord_no, "url": RECEIVER,
             "payload": json.dumps({"id": f"evt_due{n:021d}", "type": "order.paid", "order": {"ordNo": ord_no}}),
             "status": PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now, "give_up_at": now + RETRY_FOR}
            for n, ord_no in enumerate(ord_nos)]
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)
        chosen = outbox.select().where(outbox.c.event_id.in_([row["event_id"] for row in rows]))
        return [row.id for row in conn.execute(chosen)]
