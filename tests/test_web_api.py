"""Tests for the JSON API: /api/orders, /api/orders/<ordNo>, cancel, and the bearer tokens."""
import pytest

from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import ORDER, create_order, pay, service_config

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


def test_create_order(client):
    response = client.post("/api/orders", json=ORDER)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "created"
    # From WEBVIEW_PUBLIC_URL, never from the request's Host (the test client's is localhost).
    assert body["checkoutUrl"] == f"http://shop.test/checkout/{body['ordNo']}"
    assert len(body["ordNo"].encode()) <= 40
    order = client.get(f"/api/orders/{body['ordNo']}").get_json()
    assert order["status"] == "created" and order["goodsAmt"] == 39000 and order["goodsNm"] == "무선 이어폰"
    assert order["tid"] is None and order["createdAt"]


@pytest.mark.parametrize("body, field, message", [
    ({**ORDER, "goodsAmt": "12a"}, "goodsAmt", "digits only"),
    ({**ORDER, "goodsAmt": 0}, "goodsAmt", "at least 1"),
    ({**ORDER, "goodsAmt": -5}, "goodsAmt", "must be at least 1"),
    ({**ORDER, "goodsAmt": "-5"}, "goodsAmt", "must be at least 1"),
    ({**ORDER, "goodsAmt": True}, "goodsAmt", "must be a string"),
    ({**ORDER, "goodsNm": "가" * 34}, "goodsNm", "102 bytes in UTF-8, limit 100"),
    ({**ORDER, "ordTel": "010-1234-567a"}, "ordTel", "digits only"),
    ({**ORDER, "merchantOrderId": "has space"}, "merchantOrderId", "printable ASCII without spaces"),
    ({**ORDER, "merchantOrderId": "x" * 65}, "merchantOrderId", "1 to 64 characters"),
    ({**ORDER, "metadata": ["a"]}, "metadata", "must be a JSON object, got list"),
    ({**ORDER, "metadata": {"a": {"b": {"c": {}}}}}, "metadata", "nested 4 levels deep, limit 3"),
    ({**ORDER, "metadata": {"a": "x" * 5000}}, "metadata", "bytes of JSON, limit 4096"),
    ({**ORDER, "metadata": {str(n): n for n in range(51)}}, "metadata", "51 keys, limit 50"),
    ({**ORDER, "ordEmail": "x" * 61}, "ordEmail", "limit 60"),
    ({**ORDER, "payMethod": "bitcoin"}, "payMethod", "must be one of CARD, BANK, VACNT"),
    ({**ORDER, "shipTo": "x"}, "shipTo", "unknown field"),
    ({k: v for k, v in ORDER.items() if k != "ordNm"}, "ordNm", "is required"),
])
def test_invalid_fields_are_named(client, body, field, message):
    response = client.post("/api/orders", json=body)
    assert response.status_code == 400
    problems = response.get_json()["fields"]
    assert list(problems) == [field]
    assert message in problems[field]
    # The field is named once: as the key, and once in the one-line error.
    assert not problems[field].startswith(field)
    assert response.get_json()["error"].count(field) == 1


def test_a_phone_number_with_hyphens_is_normalised(client):
    ord_no = create_order(client, ordTel="010-1234-5678")
    assert services(client.application).store.get(ord_no).ord_tel == "01012345678"


def test_every_bad_field_is_named_at_once(client):
    response = client.post("/api/orders", json={"goodsAmt": "x", "ordTel": "phone"})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"goodsNm", "goodsAmt", "ordNm", "ordTel"}


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'"text"'])
def test_body_must_be_an_object(client, data):
    response = client.post("/api/orders", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"(body)": "must be a JSON object"}


def test_unknown_order_is_404(client):
    assert client.get("/api/orders/nope").status_code == 404
    assert client.post("/api/orders/nope/cancel", headers=ADMIN).status_code == 404


def test_api_token_when_configured(tmp_path):
    app = create_app(service_config(tmp_path, WEBVIEW_API_TOKEN="api-token"))
    client = app.test_client()
    assert client.post("/api/orders", json=ORDER).status_code == 401
    assert client.post("/api/orders", json=ORDER, headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.post("/api/orders", json=ORDER, headers={"Authorization": "Bearer api-token"})
    assert response.status_code == 201
    assert client.get(f"/api/orders/{response.get_json()['ordNo']}").status_code == 401


def test_cancel_needs_the_admin_token(client):
    ord_no = pay(client)
    assert client.post(f"/api/orders/{ord_no}/cancel").status_code == 401
    assert client.post(f"/api/orders/{ord_no}/cancel", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(f"/api/orders/{ord_no}").get_json()["status"] == "paid"


def test_cancel_is_refused_without_any_admin_token_configured(tmp_path):
    app = create_app(service_config(tmp_path, WEBVIEW_ADMIN_TOKEN=None))
    client = app.test_client()
    ord_no = pay(client)
    assert client.post(f"/api/orders/{ord_no}/cancel", headers={"Authorization": "Bearer "}).status_code == 401


def test_partial_then_full_cancel(client):
    ord_no = pay(client)
    first = client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 9000, "reason": "부분 반품"}, headers=ADMIN)
    assert first.status_code == 200
    assert first.get_json()["status"] == "partially_cancelled"
    assert first.get_json()["cancelledAmt"] == 9000 and first.get_json()["remainingAmt"] == 30000
    too_much = client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 30001}, headers=ADMIN)
    assert too_much.status_code == 409 and "remaining 30000" in too_much.get_json()["error"]
    rest = client.post(f"/api/orders/{ord_no}/cancel", json={}, headers=ADMIN)
    assert rest.get_json()["status"] == "cancelled" and rest.get_json()["remainingAmt"] == 0
    again = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert again.status_code == 409 and "order is cancelled" in again.get_json()["error"]
    calls = [c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "cancel"]
    assert [c["resultCd"] for c in calls] == ["2001", "2001"]


@pytest.mark.parametrize("body, field", [({"amount": "100"}, "amount"), ({"amount": 1.5}, "amount"),
                                         ({"reason": ["x"]}, "reason"), ({"reason": "가" * 40}, "reason")])
def test_cancel_body_is_checked(client, body, field):
    ord_no = pay(client)
    response = client.post(f"/api/orders/{ord_no}/cancel", json=body, headers=ADMIN)
    assert response.status_code == 400 and field in response.get_json()["fields"]
    assert client.get(f"/api/orders/{ord_no}").get_json()["status"] == "paid"


def test_cancel_of_an_unpaid_order(client):
    ord_no = create_order(client)
    response = client.post(f"/api/orders/{ord_no}/cancel", headers=ADMIN)
    assert response.status_code == 409 and "order is created" in response.get_json()["error"]


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "kispgEnv": "sandbox"}


# -- merchantOrderId, metadata, listing, history, one error shape -----------------------------------------

def test_merchant_order_id_and_metadata_come_back_on_every_read(client):
    ord_no = create_order(client, merchantOrderId="SHOP-2026-0001", metadata={"cart": {"items": [1, 2]}, "n": 1})
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert order["merchantOrderId"] == "SHOP-2026-0001"
    assert order["metadata"] == {"cart": {"items": [1, 2]}, "n": 1}
    listed = client.get("/api/orders?merchantOrderId=SHOP-2026-0001").get_json()["orders"]
    assert [o["ordNo"] for o in listed] == [ord_no] and listed[0]["metadata"]["n"] == 1
    plain = client.get(f"/api/orders/{create_order(client)}").get_json()
    assert plain["merchantOrderId"] is None and plain["metadata"] == {}


def test_a_merchant_order_id_is_unique(client):
    first = create_order(client, merchantOrderId="dup")
    response = client.post("/api/orders", json={**ORDER, "merchantOrderId": "dup"})
    assert response.status_code == 409
    assert response.get_json()["fields"]["merchantOrderId"] == f"already used by order {first}"


def listing(client, query=""):
    response = client.get(f"/api/orders{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_listing_pages_newest_first_and_is_stable_under_inserts(client):
    made = [create_order(client, merchantOrderId=f"m{n}") for n in range(7)]
    first = listing(client, "?limit=3")
    assert [o["ordNo"] for o in first["orders"]] == made[::-1][:3]
    # Orders created between pages are newer than the cursor: the next pages neither shift nor repeat.
    newer = [create_order(client) for _ in range(4)]
    second = listing(client, f"?limit=3&cursor={first['nextCursor']}")
    assert [o["ordNo"] for o in second["orders"]] == made[::-1][3:6]
    create_order(client)
    last = listing(client, f"?limit=3&cursor={second['nextCursor']}")
    assert [o["ordNo"] for o in last["orders"]] == made[:1] and last["nextCursor"] is None
    assert [o["ordNo"] for o in listing(client, "?limit=4")["orders"]][1:] == newer[::-1][:3]


def test_listing_filters(client):
    paid = pay(client)
    created = create_order(client, merchantOrderId="only-me")
    assert [o["ordNo"] for o in listing(client, "?status=paid")["orders"]] == [paid]
    assert {o["ordNo"] for o in listing(client, "?status=paid,created")["orders"]} == {paid, created}
    assert [o["ordNo"] for o in listing(client, "?merchantOrderId=only-me")["orders"]] == [created]
    stamp = client.get(f"/api/orders/{created}").get_json()["createdAt"]
    from urllib.parse import quote
    assert [o["ordNo"] for o in listing(client, f"?created_from={quote(stamp)}")["orders"]] == [created]
    assert [o["ordNo"] for o in listing(client, f"?created_to={quote(stamp)}")["orders"]] == [paid]
    assert listing(client, "?created_from=2000-01-01T09:00:00%2B09:00&created_to=2000-01-02T00:00:00Z") == {
        "orders": [], "nextCursor": None}


@pytest.mark.parametrize("query, field, problem", [
    ("?status=lost", "status", "must be one or more"),
    ("?limit=0", "limit", "from 1 to 100"),
    ("?limit=101", "limit", "from 1 to 100"),
    ("?limit=ten", "limit", "from 1 to 100"),
    ("?created_from=yesterday", "created_from", "ISO 8601 time with an offset"),
    ("?created_to=2026-12-01T09:00:00", "created_to", "with an offset"),
    ("?cursor=not-a-cursor", "cursor", "not a cursor this API returned"),
    ("?cursor=WzEsMl0", "cursor", "not a cursor"),
    ("?merchantOrderId=a%00b", "merchantOrderId", "NUL"),
    ("?page=2", "page", "unknown parameter"),
])
def test_listing_refuses_a_bad_query_naming_the_parameter(client, query, field, problem):
    response = client.get(f"/api/orders{query}")
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == [field] and problem in response.get_json()["fields"][field]


def test_the_history_has_every_step_with_iso_times(client):
    ord_no = pay(client)
    client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 9000, "reason": "부분 반품"}, headers=ADMIN)
    body = client.get(f"/api/orders/{ord_no}/events").get_json()
    assert body["ordNo"] == ord_no
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["created", "authenticated", "approval_claimed", "approved", "cancel_claimed", "cancelled"]
    from datetime import datetime
    assert all(datetime.fromisoformat(e["at"]).utcoffset() is not None for e in body["events"])
    assert body["events"][-1]["detail"] == {"amount": 9000, "cancelledAmt": 9000}
    assert client.get("/api/orders/nope/events").status_code == 404


def test_every_api_error_has_one_shape(tmp_path):
    app = create_app(service_config(tmp_path, WEBVIEW_API_TOKEN="api-token"))
    client = app.test_client()
    token = {"Authorization": "Bearer api-token"}
    answers = [
        client.get("/api/orders/nope", headers=token),            # 404, no order
        client.get("/api/nothing-here", headers=token),           # 404 from routing
        client.delete("/api/orders", headers=token),              # 405 from routing
        client.get("/api/orders"),                                # 401
        client.post("/api/orders", json={}, headers=token),       # 400
        client.post("/api/orders/x/cancel", data=b"{", content_type="application/json",
                    headers={"Authorization": "Bearer admin-token"}),  # 400, not JSON
    ]
    assert [r.status_code for r in answers] == [404, 404, 405, 401, 400, 400]
    for response in answers:
        body = response.get_json()
        assert set(body) == {"error", "fields"} and isinstance(body["error"], str) and isinstance(body["fields"], dict)
    # Outside /api/ the pages keep their own errors.
    assert client.get("/nothing-here").mimetype == "text/html"


def test_a_cancel_of_a_negative_amount_says_at_least_1(client):
    ord_no = pay(client)
    response = client.post(f"/api/orders/{ord_no}/cancel", json={"amount": -5}, headers=ADMIN)
    assert response.status_code == 400 and response.get_json()["fields"] == {"amount": "must be at least 1"}
