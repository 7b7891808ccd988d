"""Tests for the order store: conditional transitions decide who may act."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from webview_toolkit.store import OrderStore, new_ord_no


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
