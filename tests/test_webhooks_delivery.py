"""Tests for the webhook worker against a receiver on loopback: signed, once per change, in order,
retried with back-off while the receiver is down, dead after a day, and redelivered (same event id)
after a worker dies mid-post."""
import os
import random
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from webview_toolkit.web import create_app
from webview_toolkit.webhooks.delivery import Backoff, Deliverer, Pass, retry_dead
from webview_toolkit.webhooks.outbox import outbox
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, pay, service_config
from .webhook_helpers import SECRET, Receiver

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def receiver():
    # Not started: these tests start it, or leave it down to see refusals (conftest's starts it at once).
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def shop(tmp_path, database_url, receiver, merchant_key_scan):
    merchant_key_scan.keys.add(SECRET)  # the suite's scan now fails on the webhook secret too
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url,
                                    WEBVIEW_WEBHOOK_URL=receiver.url, WEBVIEW_WEBHOOK_SECRET=SECRET))
    yield app
    services(app).store.dispose()


def deliverer(shop) -> Deliverer:
    return services(shop).webhooks


def outbox_rows(shop):
    with services(shop).store.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def now():
    return datetime.now(timezone.utc)


def test_each_change_reaches_the_receiver_once_signed(shop, receiver):
    receiver.start()
    client = shop.test_client()
    ord_no = pay(client, merchantOrderId="shop-42", metadata={"cart": [1, 2]})
    client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 9000}, headers=ADMIN)
    client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    done = deliverer(shop).deliver_due()
    assert (done.delivered, done.failed) == (3, 0)
    events = receiver.events()  # each verified with the package's own verify
    assert [e["type"] for e in events] == ["order.paid", "order.partially_cancelled", "order.cancelled"]
    assert len({e["id"] for e in events}) == 3
    assert [e["order"]["cancelledAmt"] for e in events] == [0, 9000, 39000]
    assert {e["order"]["merchantOrderId"] for e in events} == {"shop-42"}
    assert events[0]["order"]["metadata"] == {"cart": [1, 2]}
    headers = receiver.posts[0][0]
    assert headers["Content-Type"] == "application/json" and headers["Webview-Event-Id"] == events[0]["id"]
    # Delivered means done: another pass sends nothing more.
    assert deliverer(shop).deliver_due().attempted == 0
    assert len(receiver.posts) == 3
    history = client.get(f"/api/orders/{ord_no}/events").get_json()["events"]
    sent = [e["detail"] for e in history if e["kind"] == "webhook_delivered"]
    assert [s["type"] for s in sent] == ["order.paid", "order.partially_cancelled", "order.cancelled"]
    assert sent[0]["eventId"] == events[0]["id"] and sent[0]["httpStatus"] == 200


def test_a_failed_attempt_is_an_event(shop, receiver):
    receiver.start()
    pay(shop.test_client(), action="fail")
    deliverer(shop).deliver_due()
    assert [e["type"] for e in receiver.events()] == ["order.failed"]


def test_the_receiver_down_for_a_while_gets_it_when_it_is_back(shop, receiver):
    pay(shop.test_client())
    t0 = now()
    first = deliverer(shop).deliver_due(now=t0)  # nothing listens: refused
    assert (first.delivered, first.failed) == (0, 1)
    row = outbox_rows(shop)[0]
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "ConnectionError"
    assert deliverer(shop).deliver_due(now=t0 + timedelta(seconds=4)).attempted == 0  # backing off
    second = deliverer(shop).deliver_due(now=t0 + timedelta(seconds=11))
    assert second.failed == 1 and outbox_rows(shop)[0].attempts == 2
    receiver.start()
    assert deliverer(shop).deliver_due(now=t0 + timedelta(hours=1)).delivered == 1
    assert [e["type"] for e in receiver.events()] == ["order.paid"]
    assert outbox_rows(shop)[0].status == "delivered"


@pytest.mark.parametrize("trouble", ["status 503", "status 302", "read timeout"])
def test_non_2xx_redirects_and_timeouts_are_retried(shop, receiver, trouble):
    receiver.start()
    if trouble.startswith("status"):
        receiver.status = int(trouble.split()[1])
    else:
        receiver.hold = threading.Event()
        deliverer(shop).timeout = (1.0, 0.2)
    pay(shop.test_client())
    t0 = now()
    assert deliverer(shop).deliver_due(now=t0).failed == 1
    assert outbox_rows(shop)[0].last_error == {"status 503": "HTTP 503", "status 302": "HTTP 302",
                                               "read timeout": "ReadTimeout"}[trouble]
    if receiver.hold:
        receiver.hold.set()
    receiver.hold, receiver.status = None, 200
    assert deliverer(shop).deliver_due(now=t0 + timedelta(hours=1)).delivered == 1
    ids = {e["id"] for e in receiver.events()}
    assert len(ids) == 1  # the retry is the same event


def test_events_of_one_order_go_in_order(shop, receiver):
    receiver.start()
    receiver.status = 500
    client = shop.test_client()
    ord_no = pay(client)
    client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 1000}, headers=ADMIN)
    other = pay(client)
    t0 = now()
    deliverer(shop).deliver_due(now=t0)
    # The cancel waits behind the paid event that failed; another order's event does not.
    assert [e["order"]["ordNo"] for e in receiver.events()] == [ord_no, other]
    receiver.status = 200
    deliverer(shop).deliver_due(now=t0 + timedelta(hours=1))
    mine = [e["type"] for e in receiver.events()[2:] if e["order"]["ordNo"] == ord_no]
    assert mine == ["order.paid", "order.partially_cancelled"]


def test_after_24_hours_of_failures_it_is_dead_and_can_be_retried(shop, receiver):
    receiver.start()
    receiver.status = 500
    ord_no = pay(shop.test_client())
    row = outbox_rows(shop)[0]
    assert row.give_up_at - row.created_at == timedelta(hours=24)
    created = row.created_at.replace(tzinfo=timezone.utc) if row.created_at.tzinfo is None else row.created_at
    deliverer(shop).deliver_due(now=created + timedelta(hours=23))
    assert outbox_rows(shop)[0].status == "pending"
    assert deliverer(shop).deliver_due(now=created + timedelta(hours=25)).dead == 1
    assert outbox_rows(shop)[0].status == "dead"
    kinds = [e["kind"] for e in services(shop).store.events(ord_no)]
    assert kinds[-1] == "webhook_dead"
    receiver.status = 200
    assert deliverer(shop).deliver_due(now=created + timedelta(hours=26)).attempted == 0
    assert retry_dead(services(shop).store, row.event_id) == 1
    assert deliverer(shop).deliver_due().delivered == 1
    assert receiver.events()[-1]["id"] == row.event_id


def test_a_dead_event_does_not_hold_back_the_next(shop, receiver):
    receiver.start()
    receiver.answers = [500]
    client = shop.test_client()
    ord_no = pay(client)
    client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    created = outbox_rows(shop)[0].created_at.replace(tzinfo=timezone.utc)
    deliverer(shop).deliver_due(now=created + timedelta(hours=25))
    assert [r.status for r in outbox_rows(shop)] == ["dead", "delivered"]
    assert [e["type"] for e in receiver.events()] == ["order.paid", "order.cancelled"]


def test_a_lease_keeps_others_off_until_it_runs_out(shop, receiver):
    receiver.start()
    pay(shop.test_client())
    t0 = now()
    first = deliverer(shop)
    assert len(first._claim(t0)) == 1  # claimed, then the worker says nothing more (it died)
    other = Deliverer(services(shop).store, SECRET, allow_private=True)
    assert other.deliver_due(now=t0 + timedelta(seconds=59)).attempted == 0
    assert other.deliver_due(now=t0 + timedelta(seconds=61)).delivered == 1
    # The first worker's late answer cannot overwrite what the second did.
    assert outbox_rows(shop)[0].status == "delivered"


def test_a_worker_whose_lease_ran_out_cannot_settle_the_row(shop, receiver):
    receiver.start()
    pay(shop.test_client())
    t0 = now()
    slow, fast = deliverer(shop), Deliverer(services(shop).store, SECRET, allow_private=True)
    row_slow, = slow._claim(t0)
    row_fast, = fast._claim(t0 + timedelta(seconds=61))  # the slow one's lease has run out
    late, done = Pass(), Pass()
    slow._deliver(row_slow, t0 + timedelta(seconds=62), late)
    assert late.lost == 1 and late.delivered == 0
    row = outbox_rows(shop)[0]
    assert row.status == "pending" and row.leased_by == fast.worker_id  # the slow one changed nothing
    fast._deliver(row_fast, t0 + timedelta(seconds=63), done)
    assert outbox_rows(shop)[0].status == "delivered"


# A worker thread that died ("database is locked" on SQLite, when a claim's read upgraded to a write) fails it.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_several_workers_deliver_each_event_once(shop, receiver):
    receiver.start()
    client = shop.test_client()
    orders = [pay(client) for _ in range(12)]
    store = services(shop).store
    workers = [Deliverer(store, SECRET, allow_private=True, batch=3) for _ in range(4)]
    start = threading.Barrier(len(workers))
    threads = [threading.Thread(target=lambda w=w: (start.wait(), w.deliver_due())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == len(set(ids)) == len(orders)
    assert {r.status for r in outbox_rows(shop)} == {"delivered"}


def test_a_worker_killed_mid_delivery_is_redelivered_after_restart(shop, receiver, database_url, tmp_path):
    receiver.hold = threading.Event()
    receiver.start()
    pay(shop.test_client())
    env = {**os.environ, "KISPG_ENV": "sandbox", "KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY,
           "WEBVIEW_DATABASE_URL": database_url, "WEBVIEW_WEBHOOK_URL": receiver.url,
           "WEBVIEW_WEBHOOK_SECRET": SECRET}
    worker = subprocess.Popen([sys.executable, "-c", "from webview_toolkit.cli import main; main()",
                               "worker", "--idle", "0.1"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert receiver.arrived.wait(60), "the worker posted the event"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.hold.set()
    receiver.hold = None
    assert outbox_rows(shop)[0].status == "pending"  # it never heard the answer
    # Restarted (here in-process), it takes the row over once the dead worker's lease has run out.
    later = now() + timedelta(minutes=2)
    assert deliverer(shop).deliver_due(now=later).delivered == 1
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 2 and len(set(ids)) == 1  # the duplicate is the same event
    assert outbox_rows(shop)[0].status == "delivered"


def test_a_receiver_name_that_resolves_to_a_private_address_is_not_posted(shop, receiver):
    receiver.start()
    pay(shop.test_client())
    store = services(shop).store
    careful = Deliverer(store, SECRET, allow_private=False, resolve=lambda host: ["10.0.0.5"])
    with store.engine.begin() as conn:
        conn.execute(update(outbox).values(url="http://hooks.shop.example/kispg"))
    assert careful.deliver_due().failed == 1
    assert "private" in outbox_rows(shop)[0].last_error and receiver.posts == []


def test_backoff_grows_with_jitter_up_to_its_cap():
    backoff, rng = Backoff(base=10, cap=3600), random.Random(7)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (8, 1280), (9, 2560), (10, 3600), (40, 3600)]:
        delays = [backoff.delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
    # Retries over a day: the waits up to 24 hours come to well over a dozen attempts.
    total, attempts = 0.0, 0
    while total < 24 * 3600:
        attempts += 1
        total += backoff.delay(attempts, rng)
    assert attempts > 20


def test_the_secret_never_appears_in_the_payload_or_the_history(shop, receiver):
    receiver.start()
    client = shop.test_client()
    ord_no = pay(client)
    deliverer(shop).deliver_due()
    headers, body = receiver.posts[0]
    assert SECRET.encode() not in body and SECRET not in str(headers)
    assert SECRET not in client.get(f"/api/orders/{ord_no}/events").get_data(as_text=True)
    assert SECRET not in repr(deliverer(shop)) and SECRET not in repr(services(shop))
