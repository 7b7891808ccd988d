"""Tests for the order store: conditional transitions decide who may act."""
import threading
from concurrent.futures import ThreadPoolExecutor

import dataclasses
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webview_toolkit.lifecycle import OrderStatus as S
from webview_toolkit.store import (CheckoutOrder, OrderStore, TidInUse, UndeclaredTransition, _DriverRead, new_ord_no,
                                   orders)

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(tmp_path):
    store = OrderStore(f"sqlite:///{tmp_path / 'orders.sqlite3'}")
    yield store
    store.dispose()


def make(store):
    return store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=1000, ord_nm="홍길동", ord_tel="010")


def test_create_and_get(store):
    order = make(store)
    assert order.status == "created" and order.remaining_amt == 1000
    assert store.get(order.ord_no) == order
    assert store.get("missing") is None
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created"]


def test_transition_only_from_allowed_states(store):
    order = make(store)
    moved = store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert (moved.status, moved.tid) == ("authenticated", "T" * 30)  # the row as updated, no re-read
    assert store.transition(order.ord_no, S.FAILED, "auth_failed") is None  # not from authenticated
    assert store.transition(order.ord_no, S.APPROVING, "approval_claimed", expect_tid="X" * 30) is None
    assert store.transition(order.ord_no, S.APPROVING, "approval_claimed", expect_tid="T" * 30).status == "approving"
    assert store.get(order.ord_no).status == "approving"
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created", "authenticated", "approval_claimed"]


def test_an_undeclared_transition_is_a_bug_and_changes_nothing(store):
    order = make(store)
    with pytest.raises(UndeclaredTransition, match="paid"):
        store.transition(order.ord_no, S.PAID, "authenticated")
    assert store.get(order.ord_no) == order


def test_a_tid_belongs_to_one_attempt_forever(store):
    first, second = make(store), make(store)
    store.transition(first.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    with pytest.raises(TidInUse):
        store.transition(second.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert store.get(second.ord_no) == second  # the refused change left nothing behind
    assert [e["kind"] for e in store.events(second.ord_no)] == ["created"]
    assert store.tid_owner("T" * 30) == first.ord_no
    # The database itself refuses a second order with that tid, whatever the code does.
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.ord_no == second.ord_no).values(tid="T" * 30))


def test_a_failed_attempt_opens_the_next_under_its_own_kispg_ord_no(store):
    order = make(store)
    store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="A" * 30)
    store.transition(order.ord_no, S.APPROVING, "approval_claimed")
    failed = store.transition(order.ord_no, S.FAILED, "approval_declined", new_attempt=True, result_cd="3011")
    assert (failed.status, failed.attempt_no, failed.kispg_ord_no) == ("failed", 2, f"{order.ord_no}-2")
    first, second = store.attempts(order.ord_no)
    assert (first.outcome, first.tid, first.result_cd) == ("failed", "A" * 30, "3011")
    assert (second.n, second.kispg_ord_no, second.outcome, second.tid) == (2, f"{order.ord_no}-2", "open", None)
    assert first.token != second.token and len(second.token) >= 32
    assert store.attempt(f"{order.ord_no}-2") == second
    # The old tid cannot come back on the new attempt.
    with pytest.raises(TidInUse):
        store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", attempt=2, bind_tid="A" * 30)
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", attempt=1) is None  # not current


def test_one_inquiry_per_interval_whoever_asks(store):
    order = make(store)
    assert store.claim_check(order.ord_no, timedelta(minutes=5))
    assert not store.claim_check(order.ord_no, timedelta(minutes=5))
    with store.engine.begin() as conn:
        conn.execute(orders.update().values(next_check_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert store.claim_check(order.ord_no, timedelta(minutes=5))


def test_one_winner_among_concurrent_claims(store):
    order = make(store)
    barrier = threading.Barrier(16)

    def claim(_):
        barrier.wait()
        return store.transition(order.ord_no, S.UNKNOWN, "already_approved")

    with ThreadPoolExecutor(16) as pool:
        wins = list(pool.map(claim, range(16)))
    assert sum(win is not None for win in wins) == 1


def test_order_numbers_are_unique_and_fit_kispg():
    numbers = {new_ord_no() for _ in range(1000)}
    assert len(numbers) == 1000 and all(len(n) == 30 for n in numbers)


def test_in_status(store):
    first, second = make(store), make(store)
    store.transition(second.ord_no, S.UNKNOWN, "already_approved")
    assert [o.ord_no for o in store.in_status(("unknown",))] == [second.ord_no]
    assert store.count() == 2


@pytest.fixture
def any_store(database_url):
    """A store on SQLite and, in this module, on PostgreSQL too (conftest.POSTGRES_MODULES)."""
    store = OrderStore(database_url)
    yield store
    store.dispose()


def test_checkout_order_is_the_checkout_columns_of_get(any_store):
    """The checkout page's driver-level read returns what `get` does, NULLs, Korean and 15-digit amounts included."""
    sparse = make(any_store)
    full = any_store.create(ord_no=new_ord_no(), goods_nm="무선 이어폰 \"<&>\"", goods_amt=999_999_999_999_999,
                            ord_nm="홍길동", ord_tel="01012345678", ord_email="a@b.kr", pay_method="CARD",
                            mbs_usr_id="user-1", user_ip="10.0.0.1")
    any_store.transition(full.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    for order in (sparse, any_store.get(full.ord_no)):
        [attempt] = any_store.attempts(order.ord_no)
        expected = CheckoutOrder(*(attempt.token if f.name == "token" else getattr(order, f.name)
                                   for f in dataclasses.fields(CheckoutOrder)))
        got = any_store.checkout_order(order.ord_no)
        assert got == expected
        assert type(got.goods_amt) is int and type(got.goods_nm) is str
    assert any_store.checkout_order(full.ord_no).status == "authenticated"
    assert any_store.checkout_order("missing") is None
    assert any_store.checkout_order("bad\x00ordNo") is None


def test_driver_read_applies_the_dialects_result_processing(any_store):
    """A column the driver does not hand back as its Python type (SQLite stores datetimes as text) is converted."""
    order = make(any_store)
    read = _DriverRead(select(orders.c.created_at, orders.c.goods_amt).where(orders.c.ord_no == order.ord_no),
                       any_store.engine, keep=1)
    assert read.first(ord_no_1=order.ord_no) == (order.created_at, 1000)
    read.close()


def idle_connections(store) -> list:
    return list(store._checkout_read.idle)


def open_transactions(store) -> int:
    """Transactions left open by the checkout read's connections."""
    if store.engine.dialect.name == "sqlite":
        return sum(c.dbapi_connection.in_transaction for c in idle_connections(store))
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND state LIKE 'idle in transaction%%'").scalar_one()


def test_checkout_reads_reuse_one_connection_and_leave_no_transaction_open(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    [kept] = idle_connections(any_store)
    assert open_transactions(any_store) == 0
    any_store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert any_store.checkout_order(order.ord_no).status == "authenticated"  # a write made since is seen
    assert idle_connections(any_store) == [kept] and open_transactions(any_store) == 0
    assert any_store.engine.pool.checkedout() == 0  # kept apart: the pool's limits hold for the writes


def test_checkout_reads_from_many_threads_keep_at_most_the_pool_size(any_store):
    order = make(any_store)
    with ThreadPoolExecutor(16) as pool:
        statuses = set(pool.map(lambda _: any_store.checkout_order(order.ord_no).status, range(200)))
    assert statuses == {"created"}
    assert 1 <= len(idle_connections(any_store)) <= any_store.engine.pool.size()


def lose_connection(store, kept) -> None:
    """The database side of a kept connection goes away (a restarted server, a killed session)."""
    if store.engine.dialect.name == "sqlite":
        kept.dbapi_connection.close()
        return
    pid = kept.dbapi_connection.info.backend_pid
    with store.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")


def test_a_lost_connection_is_replaced_once(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    [kept] = idle_connections(any_store)
    lose_connection(any_store, kept)
    assert any_store.checkout_order(order.ord_no).ord_no == order.ord_no
    assert idle_connections(any_store) != [kept]


def test_any_other_driver_error_is_raised_and_its_connection_dropped(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    any_store._checkout_read.sql = "SELECT no_such_column FROM orders"
    with pytest.raises(any_store.engine.dialect.loaded_dbapi.Error):
        any_store.checkout_order(order.ord_no)
    assert idle_connections(any_store) == []


def test_dispose_closes_the_kept_connections(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    [kept] = idle_connections(any_store)
    driver_connection = kept.dbapi_connection
    any_store.dispose()
    with pytest.raises(any_store.engine.dialect.loaded_dbapi.Error):
        driver_connection.cursor().execute("SELECT 1")
    assert any_store.checkout_order(order.ord_no).ord_no == order.ord_no  # and reopens on demand


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    [kept] = idle_connections(any_store)
    driver_connection = kept.dbapi_connection
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        ok = idle_connections(any_store) == [] and any_store.checkout_order(order.ord_no) is not None
        any_store.dispose()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert idle_connections(any_store) == [kept]
    cursor = driver_connection.cursor()
    cursor.execute("SELECT 1")
    assert cursor.fetchone()[0] == 1
