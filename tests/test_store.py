"""Tests for the order store: conditional transitions decide who may act."""
import threading
from concurrent.futures import ThreadPoolExecutor

import dataclasses

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
                       any_store.engine)
    assert read.first(any_store.engine, ord_no_1=order.ord_no) == (order.created_at, 1000)
