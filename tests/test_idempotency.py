"""Tests for Idempotency-Key on POST /api/orders: a retry gets the first answer, never a second order."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from webview_toolkit.idempotency import KEY_TTL, keys
from webview_toolkit.web.extensions import services

from .service_helpers import ORDER

pytestmark = pytest.mark.postgres


def key_header(key):
    return {"Idempotency-Key": key}


def order_count(app):
    return services(app).store.count()


def test_the_same_key_and_body_get_the_first_response(app, client):
    first = client.post("/api/orders", json=ORDER, headers=key_header("retry-1"))
    again = client.post("/api/orders", json=dict(reversed(list(ORDER.items()))), headers=key_header("retry-1"))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotency-Replayed"] == "true" and "Idempotency-Replayed" not in first.headers
    assert order_count(app) == 1


def test_the_replay_is_the_original_even_after_the_order_moved_on(app, client):
    first = client.post("/api/orders", json=ORDER, headers=key_header("k-paid")).get_json()
    services(app).store.transition(first["ordNo"], "failed", "auth_failed")
    assert client.post("/api/orders", json=ORDER, headers=key_header("k-paid")).get_json() == first


def test_the_same_key_with_another_body_is_a_conflict(app, client):
    first = client.post("/api/orders", json=ORDER, headers=key_header("k-2")).get_json()
    response = client.post("/api/orders", json={**ORDER, "goodsAmt": 1}, headers=key_header("k-2"))
    assert response.status_code == 409
    body = response.get_json()
    assert set(body) == {"error", "fields"} and "Idempotency-Key" in body["fields"]
    assert "different request body" in body["error"] and first["ordNo"] in body["error"]
    assert order_count(app) == 1


def test_other_keys_make_other_orders(app, client):
    a = client.post("/api/orders", json=ORDER, headers=key_header("a")).get_json()
    b = client.post("/api/orders", json=ORDER, headers=key_header("b")).get_json()
    assert a["ordNo"] != b["ordNo"] and order_count(app) == 2


def test_a_key_expires_after_24_hours(app, client):
    first = client.post("/api/orders", json=ORDER, headers=key_header("old")).get_json()
    store = services(app).store
    with store.engine.begin() as conn:
        created = conn.execute(select(keys.c.created_at)).scalar_one()
        conn.execute(update(keys).values(created_at=created - KEY_TTL - timedelta(seconds=1)))
    later = client.post("/api/orders", json={**ORDER, "goodsAmt": 5}, headers=key_header("old"))
    assert later.status_code == 201 and later.get_json()["ordNo"] != first["ordNo"]
    assert "Idempotency-Replayed" not in later.headers
    assert order_count(app) == 2


def test_a_key_just_inside_24_hours_still_replays(app, client):
    first = client.post("/api/orders", json=ORDER, headers=key_header("young")).get_json()
    store = services(app).store
    with store.engine.begin() as conn:
        created = conn.execute(select(keys.c.created_at)).scalar_one()
        conn.execute(update(keys).values(created_at=created - KEY_TTL + timedelta(minutes=1)))
    assert client.post("/api/orders", json=ORDER, headers=key_header("young")).get_json() == first


@pytest.mark.parametrize("key, problem", [("", "1 to 255 characters"), ("x" * 256, "1 to 255 characters"),
                                          ("has space", "printable ASCII")])
def test_a_bad_key_is_refused(app, client, key, problem):
    response = client.post("/api/orders", json=ORDER, headers=key_header(key))
    assert response.status_code == 400 and problem in response.get_json()["fields"]["Idempotency-Key"]
    assert order_count(app) == 0


def test_a_refused_body_records_nothing_for_the_key(app, client):
    assert client.post("/api/orders", json={**ORDER, "goodsAmt": 0}, headers=key_header("fix-me")).status_code == 400
    assert client.post("/api/orders", json=ORDER, headers=key_header("fix-me")).status_code == 201


def test_a_taken_merchant_order_id_is_a_conflict_and_leaves_the_key_free(app, client):
    first = client.post("/api/orders", json={**ORDER, "merchantOrderId": "shop-7"}).get_json()
    again = client.post("/api/orders", json={**ORDER, "merchantOrderId": "shop-7"}, headers=key_header("m"))
    assert again.status_code == 409
    assert again.get_json()["fields"] == {"merchantOrderId": f"already used by order {first['ordNo']}"}
    other = client.post("/api/orders", json={**ORDER, "merchantOrderId": "shop-8"}, headers=key_header("m"))
    assert other.status_code == 201 and order_count(app) == 2


def test_twenty_concurrent_requests_with_one_key_create_one_order(live_server):
    base, app = live_server
    start = threading.Barrier(20)

    def post(_):
        start.wait()
        return requests.post(f"{base}/api/orders", json=ORDER, headers=key_header("burst"), timeout=60)

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(post, range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["ordNo"] for r in responses}) == 1
    assert sum("Idempotency-Replayed" in r.headers for r in responses) == 19
    assert order_count(app) == 1
