"""Tests for the returnUrl: verify against the stored order, approve exactly once."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from urllib.parse import urljoin

from webview_toolkit.kispg.signing import sign
from webview_toolkit.kispg.testing import parse_result_form

from .conftest import MERCHANT_KEY, MID, ORDER, UA, checkout_form, create_order, pay, sandbox_result

KST = timezone(timedelta(hours=9))


def payment_calls(client) -> list:
    return [c for c in client.get("/sandbox/kispg/_calls").get_json() if c["endpoint"] == "payment"]


def authenticated(client, **order_fields):
    """An order authenticated at the sandbox, and the result fields it posts to returnUrl."""
    ord_no = create_order(client, **order_fields)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    return ord_no, return_url, fields


def status(client, ord_no):
    return client.get(f"/api/orders/{ord_no}").get_json()["status"]


def test_approved_once_and_paid(client):
    ord_no, return_url, fields = authenticated(client)
    assert fields["resultCd"] == "0000" and len(fields["tid"]) == 30 and fields["amt"] == "39000"
    response = client.post(return_url, data=fields)
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{ord_no}"
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert order["status"] == "paid" and order["tid"] == fields["tid"] and order["appNo"]
    assert len(payment_calls(client)) == 1


def test_replayed_post_does_not_approve_again(client):
    ord_no, return_url, fields = authenticated(client)
    for _ in range(3):
        assert client.post(return_url, data=fields).status_code == 303
    assert status(client, ord_no) == "paid"
    assert len(payment_calls(client)) == 1


def _resign(fields, **changes):
    fields = {**fields, **changes}
    fields["encData"] = sign(MID, fields["ediDate"], fields["amt"], MERCHANT_KEY)
    return fields


@pytest.mark.parametrize("tamper, reason", [
    (lambda f: {**f, "amt": "1000"}, "amount"),
    (lambda f: _resign(f, amt="1000"), "amount"),
    (lambda f: {**f, "encData": "0" * 64}, "encData does not match"),
    (lambda f: {**f, "encData": "not-hex"}, "encData must be 64 hex"),
    (lambda f: {k: v for k, v in f.items() if k != "encData"}, "encData is missing"),
    (lambda f: _resign(f, ediDate=(datetime.now(KST) - timedelta(minutes=11)).strftime("%Y%m%d%H%M%S")), "minutes"),
    (lambda f: {**f, "tid": f["tid"][:-1]}, "tid must be 30"),
])
def test_tampered_results_are_refused_without_approval(client, tamper, reason):
    ord_no, return_url, fields = authenticated(client)
    response = client.post(return_url, data=tamper(fields))
    assert response.status_code == 400
    assert "승인하지 않았습니다" in response.get_data(as_text=True)
    assert status(client, ord_no) == "created"
    assert payment_calls(client) == []
    events = client.application.extensions["webview_toolkit"].store.events(ord_no)
    assert reason in events[-1]["detail"]["reason"]
    # The genuine result still goes through afterwards.
    assert client.post(return_url, data=fields).status_code == 303
    assert status(client, ord_no) == "paid"


def test_result_for_another_order_is_refused(client):
    first, _, fields = authenticated(client)
    second = create_order(client)
    response = client.post(f"/kispg/return?ordNo={second}", data=fields)
    assert response.status_code == 400
    assert status(client, first) == "created" and status(client, second) == "created"


def test_unknown_order_is_404(client):
    _, _, fields = authenticated(client)
    assert client.post("/kispg/return", data={**fields, "ordNo": "missing"}).status_code == 404


def test_failed_auth_fails_the_order(client):
    ord_no = create_order(client)
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]), "fail")
    assert set(fields) == {"resultCd", "resultMsg"}
    assert client.post(return_url, data=fields).status_code == 303
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert order["status"] == "failed" and order["resultCd"] == fields["resultCd"]
    page = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert "결제 실패" in page
    assert payment_calls(client) == []


def test_a_late_failure_does_not_undo_a_payment(client):
    ord_no = pay(client)
    client.post(f"/kispg/return?ordNo={ord_no}", data={"resultCd": "XXXX", "resultMsg": "취소"})
    assert status(client, ord_no) == "paid"


def test_concurrent_duplicate_returns_approve_once(live_server):
    base, app = live_server
    session = requests.Session()
    ord_no = session.post(f"{base}/api/orders", json=ORDER).json()["ordNo"]
    from .conftest import FormParser
    form = FormParser("kispg-auth")
    form.feed(session.get(f"{base}/checkout/{ord_no}", headers={"User-Agent": UA["kakaotalk_ios"]}).text)
    page = session.post(urljoin(base, form.action), data={**form.fields, "sandboxAction": "approve"})
    return_url, fields = parse_result_form(page.text)
    barrier = threading.Barrier(12)

    def post(_):
        barrier.wait()
        return requests.post(return_url, data=fields, allow_redirects=False).status_code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(post, range(12)))
    assert codes == [303] * 12
    assert session.get(f"{base}/api/orders/{ord_no}").json()["status"] == "paid"
    calls = [c for c in session.get(f"{base}/sandbox/kispg/_calls").json() if c["endpoint"] == "payment"]
    assert len(calls) == 1
