"""Tests for the outbox: which changes queue which event, in the change's own transaction, and nothing else."""
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from webview_toolkit.store import OrderStore, new_ord_no
from webview_toolkit.webhooks import outbox
from webview_toolkit.webhooks.outbox import EVENT_TYPES

from .webhook_helpers import last_step, walk

pytestmark = pytest.mark.postgres

URLS = ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")


@pytest.fixture
def store(database_url):
    store = OrderStore(database_url, webhook_urls=URLS)
    yield store
    store.dispose()


def new_order(store, **values):
    return store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=1000, ord_nm="홍길동",
                        ord_tel="01012345678", **values).ord_no


def rows(store, ord_no=None):
    query = select(outbox.outbox).order_by(outbox.outbox.c.id)
    if ord_no:
        query = query.where(outbox.outbox.c.ord_no == ord_no)
    with store.engine.connect() as conn:
        return conn.execute(query).all()


def test_the_event_types_are_exactly_these():
    assert sorted(EVENT_TYPES.values()) == sorted([
        "order.paid", "order.failed", "order.awaiting_deposit", "order.expired", "order.cancelled",
        "order.partially_cancelled", "order.needs_review"])


@pytest.mark.parametrize("status", sorted(EVENT_TYPES))
def test_a_change_into_a_state_the_shop_acts_on_queues_one_event_per_receiver(store, status):
    ord_no = new_order(store, merchant_order_id="shop-1", merchant_metadata=json.dumps({"cart": 7}))
    walk(store, ord_no, status, last=False)
    before = len(rows(store, ord_no))
    assert last_step(store, ord_no, status)
    queued = rows(store, ord_no)[before:]
    assert [r.url for r in queued] == list(URLS)
    assert {r.event_type for r in queued} == {EVENT_TYPES[status]}
    assert len({r.event_id for r in queued}) == 1 and queued[0].event_id.startswith("evt_")
    body = json.loads(queued[0].payload)
    assert body["id"] == queued[0].event_id and body["type"] == EVENT_TYPES[status]
    assert datetime.fromisoformat(body["createdAt"]).utcoffset() is not None
    # The order as the API shows it, after the change.
    assert body["order"] == store.get(ord_no).as_dict(store.attempts(ord_no))
    assert body["order"]["status"] == status
    assert body["order"]["merchantOrderId"] == "shop-1" and body["order"]["metadata"] == {"cart": 7}


@pytest.mark.parametrize("status", ["authenticated", "approving", "unknown", "cancelling"])
def test_intermediate_states_queue_nothing(store, status):
    ord_no = new_order(store)
    walk(store, ord_no, status, last=False)
    before = rows(store, ord_no)
    assert last_step(store, ord_no, status)
    assert rows(store, ord_no) == before


def test_a_lost_claim_queues_nothing(store):
    ord_no = new_order(store)
    assert store.transition(ord_no, "paid", "approved") is None  # not approving: the claim is lost
    assert rows(store) == []


def test_the_event_and_the_change_commit_together(store, monkeypatch):
    ord_no = new_order(store)
    real = outbox.enqueue_change

    def enqueue_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the process dies before the commit")

    monkeypatch.setattr(outbox, "enqueue_change", enqueue_then_crash)
    with pytest.raises(RuntimeError):
        walk(store, ord_no, "failed")
    # Neither the change nor its event: the order is as it was, the outbox is empty.
    assert store.get(ord_no).status == "created"
    assert [e["kind"] for e in store.events(ord_no)] == ["created"]
    assert rows(store) == []


def test_a_cancel_that_goes_back_out_of_cancelling_is_no_news(store):
    ord_no = new_order(store)
    walk(store, ord_no, "cancelling")
    store.transition(ord_no, "paid", "cancel_declined")
    assert [r.event_type for r in rows(store, ord_no)] == ["order.paid"] * 2
    # A partial cancel that did happen is news, and one declined after it is not.
    store.transition(ord_no, "cancelling", "cancel_claimed")
    store.transition(ord_no, "partially_cancelled", "cancelled", cancelled_amt=300)
    store.transition(ord_no, "cancelling", "cancel_claimed")
    store.transition(ord_no, "partially_cancelled", "cancel_declined")
    assert [r.event_type for r in rows(store, ord_no)] == ["order.paid"] * 2 + ["order.partially_cancelled"] * 2


def test_without_receivers_nothing_is_queued(database_url):
    store = OrderStore(database_url)
    try:
        ord_no = new_order(store)
        walk(store, ord_no, "paid")
        assert rows(store) == []
    finally:
        store.dispose()
