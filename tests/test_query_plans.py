"""Every query reconcile, inquiry scheduling, expiry, the deposit deadline and the webhook worker run uses an index.

The statements are not copied here: each test runs the code itself (reconcile_all, check,
expire_if_due, deliver_due, ...) with a listener on the engine, then asks the database how it
would run each statement it saw, `EXPLAIN QUERY PLAN` on SQLite and `EXPLAIN (FORMAT JSON)`
on PostgreSQL. A full scan of a table that grows with the orders fails the test: SQLite's
`SCAN <table>` (with or without an index: a whole index walked in order is still every row),
PostgreSQL's `Seq Scan`, or an index scan with no condition on the index's first column. The one
scan allowed is a page of the first rows in an index's order, with no condition and nothing to
sort (`webhooks list`): it stops after LIMIT rows. PostgreSQL prefers a
sequential scan on a table this small whatever the indexes, so it plans with `enable_seqscan`
off: a sequential scan it still picks is one no index can replace.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import event, inspect

from webview_toolkit import expiry
from webview_toolkit.lifecycle import OrderStatus as S
from webview_toolkit.payments import Payments
from webview_toolkit.store import OrderStore, new_ord_no
from webview_toolkit.tables import orders
from webview_toolkit.webhooks import delivery

from .fake_kispg import FakeKispg
from .webhook_helpers import SECRET

pytestmark = pytest.mark.postgres

# The tables that grow with the orders: a query reading all of one does not stay flat.
GROWING = frozenset({"orders", "order_attempts", "order_events", "webhook_outbox"})
# Aliases the code gives them (delivery's "earlier" outbox rows).
ALIASES = frozenset({"earlier"})
RECEIVER = "http://127.0.0.1:9/hooks"
AMOUNT = 39000
PAST_DEADLINE = "20000101"


@pytest.fixture
def store(database_url) -> Iterator[OrderStore]:
    """An empty store with one webhook receiver, on SQLite and on the session's PostgreSQL (the marker)."""
    store = OrderStore(database_url, webhook_urls=[RECEIVER])
    yield store
    store.dispose()


@pytest.fixture
def kispg() -> FakeKispg:
    return FakeKispg(lmt_day=PAST_DEADLINE)


@pytest.fixture
def payments(store, kispg) -> Payments:
    return Payments(store, kispg, mid=kispg.mid, merchant_key="plan-test-key-" + "p" * 20,
                    settle_after=0, check_interval=0)


@contextmanager
def statements(store: OrderStore) -> Iterator[list[tuple[str, object]]]:
    """Every statement the store's engine sends meanwhile, with its parameters."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def full_scans(store: OrderStore, statement: str, parameters) -> list[str]:
    """What the database's plan for the statement reads in full, of the GROWING tables."""
    connection = store.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if store.engine.dialect.name == "sqlite":
            return sqlite_full_scans(cursor, statement, parameters)
        return postgresql_full_scans(cursor, statement, parameters, leading_columns(store))
    finally:
        connection.rollback()
        connection.close()


def sqlite_full_scans(cursor, statement: str, parameters) -> list[str]:
    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    details = [row[-1] for row in cursor.fetchall()]
    if first_rows_in_order(statement) and not any("TEMP B-TREE" in d for d in details):
        return []  # rows read in the index's order and none sorted: it stops after LIMIT of them
    return [d for d in details if d.startswith("SCAN ") and d.split()[1] in GROWING | ALIASES]


def postgresql_full_scans(cursor, statement: str, parameters, leading: dict[str, str]) -> list[str]:
    cursor.execute("SET enable_seqscan = off")
    cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
    (plan,) = cursor.fetchone()
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    if first_rows_in_order(statement) and plan["Node Type"] == "Limit" and "Filter" not in plan["Plans"][0]:
        return []
    return [f"{node['Node Type']} on {node['Relation Name']}" for node in nodes(plan)
            if node.get("Relation Name") in GROWING and (
                node["Node Type"] == "Seq Scan"
                # A condition not on the index's first column (or none) walks the whole index.
                or node["Node Type"] in ("Index Scan", "Index Only Scan")
                and not re.search(rf"\b{leading[node['Index Name']]}\b", node.get("Index Cond", "")))]


def leading_columns(store: OrderStore) -> dict[str, str]:
    """The first column of every index on the growing tables, by index name (primary keys included)."""
    found = {}
    with store.engine.connect() as conn:
        inspector = inspect(conn)
        for table in GROWING:
            keys = [inspector.get_pk_constraint(table), *inspector.get_unique_constraints(table),
                    *inspector.get_indexes(table)]
            found.update({key["name"]: (key.get("constrained_columns") or key["column_names"])[0] for key in keys})
    return found


def first_rows_in_order(statement: str) -> bool:
    """A newest-first page with no condition: walking an index in order stops after LIMIT rows."""
    return " WHERE " not in f" {statement.upper()} ".replace("\n", " ") and "LIMIT" in statement.upper()


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def assert_no_full_scan(store: OrderStore, seen: list[tuple[str, object]]) -> None:
    """Explain each statement seen (queries and changes; BEGIN and the like have no plan)."""
    planned = [(s, p) for s, p in seen if s.lstrip().split()[0].upper() in ("SELECT", "UPDATE", "DELETE", "WITH")]
    assert planned, "the code under test sent no query"
    scans = [f"{', '.join(found)} in: {' '.join(statement.split())}" for statement, parameters in planned
             if (found := full_scans(store, statement, parameters))]
    assert not scans, "full scans:\n" + "\n".join(scans)


def order(store: OrderStore) -> str:
    return store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=AMOUNT, ord_nm="홍길동",
                        ord_tel="01012345678").ord_no


def approving(store: OrderStore, kispg: FakeKispg, method: str = "card") -> tuple[str, str]:
    """An order whose approval was claimed: (ordNo, tid)."""
    ord_no = order(store)
    tid = kispg.authenticate(ord_no, AMOUNT, method)
    store.transition(ord_no, S.AUTHENTICATED, "authenticated", bind_tid=tid)
    store.transition(ord_no, S.APPROVING, "approval_claimed")
    return ord_no, tid


def stuck_orders(store: OrderStore, kispg: FakeKispg) -> dict[str, str]:
    """One order in each state a reconcile pass settles, and settled ones it must not read; ordNo by state."""
    made = {}
    made["approving"], _ = approving(store, kispg)
    made["unknown"], _ = approving(store, kispg)
    store.transition(made["unknown"], S.UNKNOWN, "approval_unknown")
    made["awaiting_deposit"], tid = approving(store, kispg, "vacnt")
    kispg.approve(tid, AMOUNT)
    store.transition(made["awaiting_deposit"], S.AWAITING_DEPOSIT, "vbank_issued", vacnt_no="56211234567890",
                     vbank_cd="004", lmt_day=PAST_DEADLINE)
    made["cancelling"], tid = approving(store, kispg)
    kispg.approve(tid, AMOUNT)
    store.transition(made["cancelling"], S.PAID, "approved")
    store.transition(made["cancelling"], S.CANCELLING, "cancel_claimed", status_before_cancel=S.PAID,
                     pending_cancel_amt=AMOUNT)
    made["paid"], tid = approving(store, kispg)
    kispg.approve(tid, AMOUNT)
    store.transition(made["paid"], S.PAID, "approved")
    return made


def test_a_reconcile_pass_reads_only_the_orders_it_settles(store, kispg, payments):
    made = stuck_orders(store, kispg)
    with statements(store) as seen:
        looked_at = payments.reconcile_all()
    assert {o.ord_no for o in looked_at} == {made[s] for s in ("approving", "unknown", "awaiting_deposit", "cancelling")}
    # The deadline check ran: past lmtDay and still 입금대기 at KISPG, the account expired.
    assert store.get(made["awaiting_deposit"]).status == S.EXPIRED
    assert_no_full_scan(store, seen)


def test_the_due_orders_query_itself(store, kispg, payments):
    stuck_orders(store, kispg)
    with statements(store) as seen:
        payments.stuck_orders()
    queries = [s for s, _ in seen if s.startswith("SELECT")]
    assert queries and all("next_check_at" in q and "LIMIT" in q.upper() for q in queries)
    assert_no_full_scan(store, seen)


def settled_history(store: OrderStore, n: int) -> None:
    """n settled orders (and some waiting accounts asked about lately), then the planner's statistics of them.

    With statistics a planner weighs its choices by the rows it expects: PostgreSQL walked the
    whole (created_at, ord_no) index in order for `due_for_check` rather than sort a few rows.
    """
    now = datetime.now(timezone.utc)
    rows = [{"ord_no": f"H{i:029d}", "status": S.AWAITING_DEPOSIT if i % 16 == 0 else S.PAID, "goods_nm": "상품",
             "goods_amt": AMOUNT, "ord_nm": "홍길동", "ord_tel": "01012345678", "cancelled_amt": 0,
             "created_at": now - timedelta(minutes=i), "updated_at": now - timedelta(minutes=i), "attempt_no": 1,
             "next_check_at": now + timedelta(hours=1) if i % 16 == 0 else None} for i in range(n)]
    with store.engine.begin() as conn:
        conn.execute(orders.insert(), rows)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def test_the_due_orders_query_with_a_history_to_plan_by(store, kispg, payments):
    settled_history(store, 50_000)
    stuck_orders(store, kispg)
    payments.reconcile_all()  # every one asked once: none is due, the planner guesses otherwise
    with statements(store) as seen:
        payments.stuck_orders()
    assert_no_full_scan(store, seen)


def test_scheduling_an_inquiry_reads_one_order(store, kispg, payments):
    ord_no, _ = approving(store, kispg)
    store.transition(ord_no, S.UNKNOWN, "approval_unknown")
    with statements(store) as seen:
        payments.check(store.get(ord_no))
    assert any("next_check_at" in s for s, _ in seen)
    assert_no_full_scan(store, seen)


def test_expiring_an_order_reads_one_order(store):
    ord_no = order(store)
    with statements(store) as seen:
        assert expiry.expire_if_due(store, store.checkout_order(ord_no), ttl_seconds=0)
    assert_no_full_scan(store, seen)


class Answers(requests.Session):
    """A receiver that answers each post in turn from `statuses` (no network)."""

    def __init__(self, *statuses: int):
        super().__init__()
        self.statuses = list(statuses)

    def post(self, url, **kwargs):
        response = requests.Response()
        response.status_code = self.statuses.pop(0) if self.statuses else 200
        response._content, response._content_consumed = b"", True
        return response


def worker(store: OrderStore, session: requests.Session) -> delivery.Deliverer:
    return delivery.Deliverer(store, SECRET, session=session, allow_private=True, resolve=lambda host: ["127.0.0.1"])


def test_a_webhook_worker_pass_reads_only_the_due_rows(store, kispg):
    for _ in range(3):
        stuck_orders(store, kispg)  # each change the shop is told of queued an event
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with statements(store) as seen:
        done = worker(store, Answers(500)).deliver_due()  # one failure: the retry is scheduled
        worker(store, Answers()).deliver_due(now=later)
    assert done.delivered and done.failed == 1
    assert_no_full_scan(store, seen)


def test_the_webhook_commands_read_only_the_rows_they_show(store, kispg):
    stuck_orders(store, kispg)
    with statements(store) as seen:
        delivery.listing(store, dead_only=True)
        delivery.listing(store)
        delivery.retry_dead(store, "evt_" + "0" * 24)
    assert_no_full_scan(store, seen)


def test_a_health_check_reads_one_row(store):
    order(store)
    with statements(store) as seen:
        store.ping()
    assert_no_full_scan(store, seen)


def test_the_check_fails_on_a_full_scan(store):
    """The detector itself: a query with no usable index is reported."""
    order(store)
    with statements(store) as seen:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT ord_no FROM orders WHERE goods_nm = 'x'").all()
    with pytest.raises(AssertionError):
        assert_no_full_scan(store, seen)


def reconcile_pass(store, kispg, payments) -> None:
    stuck_orders(store, kispg)
    with statements(store) as seen:
        payments.reconcile_all()
    assert_no_full_scan(store, seen)


def worker_pass(store, kispg, payments) -> None:
    stuck_orders(store, kispg)
    with statements(store) as seen:
        worker(store, Answers()).deliver_due()
    assert_no_full_scan(store, seen)


@pytest.mark.parametrize("index, flow", [
    ("ix_orders_status_next_check_at", reconcile_pass),  # added by 0007_scale_indexes
    ("ix_webhook_outbox_due", worker_pass),
], ids=lambda value: value if isinstance(value, str) else value.__name__)
def test_without_its_index_the_flow_scans_a_table(store, kispg, payments, index, flow):
    """Each index the flows rely on is needed: drop it, and the check above catches the full scan."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {index}")
    with pytest.raises(AssertionError, match="full scans"):
        flow(store, kispg, payments)
