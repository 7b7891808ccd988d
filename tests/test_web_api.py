"""Tests for the JSON API: /api/orders, /api/orders/<ordNo>, cancel, and the bearer tokens."""
import pytest

from webview_toolkit.web import create_app

from .conftest import ORDER, create_order, pay, service_config

ADMIN = {"Authorization": "Bearer admin-token"}


def test_create_order(client):
    response = client.post("/api/orders", json=ORDER)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "created"
    assert body["checkoutUrl"] == f"http://localhost/checkout/{body['ordNo']}"
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
    assert client.application.extensions["webview_toolkit"].store.get(ord_no).ord_tel == "01012345678"


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
