"""Tests for the order store: conditional transitions decide who may act."""
import threading
from concurrent.futures import ThreadPoolExecutor

import dataclasses
import os

import pytest
from sqlalchemy import select

from webview_toolkit.store import CheckoutOrder, OrderStore, _DriverRead, new_ord_no, orders


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
    assert store.transition(order.ord_no, ("created",), "authenticated", event_kind="auth", tid="T" * 30)
    assert not store.transition(order.ord_no, ("created",), "failed", event_kind="auth_failed")
    assert not store.transition(order.ord_no, ("authenticated",), "approving", event_kind="claim", require_tid="X" * 30)
    assert store.transition(order.ord_no, ("authenticated",), "approving", event_kind="claim", require_tid="T" * 30)
    assert store.get(order.ord_no).status == "approving"
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created", "auth", "claim"]


def test_one_winner_among_concurrent_claims(store):
    order = make(store)
    barrier = threading.Barrier(16)

    def claim(_):
        barrier.wait()
        return store.transition(order.ord_no, ("created",), "approving", event_kind="claim")

    with ThreadPoolExecutor(16) as pool:
        wins = list(pool.map(claim, range(16)))
    assert wins.count(True) == 1


def test_order_numbers_are_unique_and_fit_kispg():
    numbers = {new_ord_no() for _ in range(1000)}
    assert len(numbers) == 1000 and all(len(n) == 30 for n in numbers)


def test_in_status(store):
    first, second = make(store), make(store)
    store.transition(second.ord_no, ("created",), "unknown", event_kind="x")
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
    any_store.transition(full.ord_no, ("created",), "authenticated", event_kind="auth", tid="T" * 30)
    for order in (sparse, any_store.get(full.ord_no)):
        expected = CheckoutOrder(*(getattr(order, f.name) for f in dataclasses.fields(CheckoutOrder)))
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
    any_store.transition(order.ord_no, ("created",), "authenticated", event_kind="auth", tid="T" * 30)
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
