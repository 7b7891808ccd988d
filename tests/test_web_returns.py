"""Tests for the returnUrl: verify against the stored order, approve exactly once."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from urllib.parse import urljoin

from webview_toolkit.kispg.signing import sign
from webview_toolkit.kispg.testing import parse_result_form
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, ORDER, UA, checkout_form, create_order, pay, sandbox_result

pytestmark = pytest.mark.postgres

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
    events = services(client.application).store.events(ord_no)
    assert reason in events[-1]["detail"]["reason"]
    # The genuine result still goes through afterwards.
    assert client.post(return_url, data=fields).status_code == 303
    assert status(client, ord_no) == "paid"


def test_result_for_another_order_is_refused(client):
    first, _, fields = authenticated(client)
    second = create_order(client)
    second_return_url = checkout_form(client, second, UA["safari_ios"]).fields["returnUrl"]
    response = client.post(second_return_url, data=fields)
    assert response.status_code == 400
    assert status(client, first) == "created" and status(client, second) == "created"


def test_unknown_order_is_404(client):
    _, _, fields = authenticated(client)
    assert client.post("/kispg/return?ordNo=missing&t=x", data={**fields, "ordNo": "missing"}).status_code == 404
    assert client.post("/kispg/return", data=fields).status_code == 400


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
    from webview_toolkit.kispg.testing import FormParser
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


# -- issue 12: what an attacker or a KISPG quirk could do to money and records -------------------

def kispg_calls(client, endpoint=None) -> list:
    calls = client.get("/sandbox/kispg/_calls").get_json()
    return [c for c in calls if endpoint is None or c["endpoint"] == endpoint]


def sandbox_inquiry(client, tid, amt):
    """What the sandbox (KISPG) itself holds for a tid."""
    wired = services(client.application)
    return wired.client.inquire(tid=tid, goods_amt=amt)


def test_a_tid_of_another_paid_order_is_refused_before_kispg_hears_of_it(client):
    victim = pay(client)
    victim_tid = client.get(f"/api/orders/{victim}").get_json()["tid"]
    # The attacker's own checkout for the same amount: a genuinely signed result, another order's tid.
    attacker, return_url, fields = authenticated(client)
    before = len(kispg_calls(client))
    response = client.post(return_url, data={**fields, "tid": victim_tid})
    assert response.status_code == 400
    assert kispg_calls(client)[before:] == []  # no approval, no inquiry, no cancel of the victim's tid
    assert status(client, attacker) == "created" and status(client, victim) == "paid"
    assert sandbox_inquiry(client, victim_tid, 39000).trx_status == "승인"
    events = services(client.application).store.events(attacker)
    assert "belongs to another order" in events[-1]["detail"]["reason"]
    # The attacker's genuine result still pays the attacker's own order, once.
    assert client.post(return_url, data=fields).status_code == 303
    assert status(client, attacker) == "paid"


@pytest.mark.parametrize("tid", ["가" * 30, "T" * 31, "T" * 300], ids=["non-ascii", "31", "300"])
def test_a_tid_that_cannot_be_sent_is_refused_before_anything_is_stored(client, tid):
    ord_no, return_url, fields = authenticated(client)
    response = client.post(return_url, data={**fields, "tid": tid})
    assert response.status_code == 400
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert (order["status"], order["tid"]) == ("created", None)  # payable, never "unknown"
    assert kispg_calls(client, "payment") == []
    assert client.post(return_url, data=fields).status_code == 303 and status(client, ord_no) == "paid"


@pytest.mark.parametrize("field, value", [("resultMsg", "가" * 40), ("resultCd", "XXXXX"), ("mbsReserved", "x" * 501)])
def test_posted_fields_are_held_to_the_auth_result_table(client, field, value):
    ord_no, return_url, fields = authenticated(client)
    assert client.post(return_url, data={**fields, field: value}).status_code == 400
    assert status(client, ord_no) == "created"


def test_a_failure_post_without_the_checkout_token_changes_nothing(client):
    ord_no = create_order(client)
    for url in (f"/kispg/return?ordNo={ord_no}", f"/kispg/return?ordNo={ord_no}&t=guess"):
        response = client.post(url, data={"resultCd": "XXXX", "resultMsg": "<b>가맹점 사칭</b>"})
        assert response.status_code == 403
    assert status(client, ord_no) == "created"
    assert [e["kind"] for e in services(client.application).store.events(ord_no)] == ["created"]
    # The shopper can still pay.
    return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
    assert client.post(return_url, data=fields).status_code == 303 and status(client, ord_no) == "paid"


def test_a_genuine_failure_ends_the_attempt_and_the_shopper_pays_again_under_a_new_ord_no(client):
    ord_no = create_order(client)
    return_url, _ = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]), "fail")
    # Even with the token, the page shows the code table's words, never the posted message.
    assert client.post(return_url, data={"resultCd": "XXXX", "resultMsg": "<b>전화주세요 010-0000-0000</b>"}).status_code == 303
    page = client.get(f"/orders/{ord_no}").get_data(as_text=True)
    assert "결제 실패" in page and "전화주세요" not in page and "인증에 실패하였습니다." in page
    assert "다시 결제하기" in page
    # A second post of the same failure changes nothing more: that attempt is closed.
    client.post(return_url, data={"resultCd": "XXXX", "resultMsg": "취소"})
    second = checkout_form(client, ord_no, UA["safari_ios"])
    assert second.fields["ordNo"] == f"{ord_no}-2" and second.fields["returnUrl"] != return_url
    again_url, fields = sandbox_result(client, second)
    assert client.post(again_url, data=fields).status_code == 303
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert (order["ordNo"], order["status"]) == (ord_no, "paid")
    assert [(a["n"], a["kispgOrdNo"], a["outcome"]) for a in order["attempts"]] == [
        (1, ord_no, "failed"), (2, f"{ord_no}-2", "approved")]
    assert "token" not in str(order["attempts"])
    # The first attempt's returnUrl is dead for good.
    assert client.post(return_url, data=fields).status_code in (303, 400)
    assert len(kispg_calls(client, "payment")) == 1


def test_an_approval_code_on_return_url_is_settled_by_inquiry(client):
    """KISPG approved by itself and posted 3001 (KISPG_FACTS: self-approval): paid, not failed."""
    ord_no, return_url, fields = authenticated(client)
    wired = services(client.application)
    wired.client.approve(tid=fields["tid"], goods_amt=fields["amt"])  # KISPG's own approval
    response = client.post(return_url, data={**fields, "resultCd": "3001", "resultMsg": "카드 결제 성공"})
    assert response.status_code == 303
    order = client.get(f"/api/orders/{ord_no}").get_json()
    assert (order["status"], order["tid"]) == ("paid", fields["tid"])
    assert len(kispg_calls(client, "payment")) == 1  # ours was not sent: KISPG had approved


def test_already_processed_answer_is_settled_by_inquiry(client):
    """/v2/payment answers 'MOID 중복 또는 이미 처리된 주문' for an ordNo KISPG approved: paid, not failed."""
    ord_no, return_url, fields = authenticated(client)
    wired = services(client.application)
    wired.client.approve(tid=fields["tid"], goods_amt=fields["amt"])
    assert client.post(return_url, data=fields).status_code == 303
    assert status(client, ord_no) == "paid"
    kinds = [e["kind"] for e in wired.store.events(ord_no)]
    assert kinds[-2:] == ["approval_unknown", "reconciled_paid"]


def test_result_page_views_cannot_drive_inquiries(tmp_path, database_url):
    from webview_toolkit.web import create_app

    from .service_helpers import service_config
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, WEBVIEW_INQUIRY_INTERVAL=300))
    client = app.test_client()
    try:
        ord_no = create_order(client)
        client.post("/sandbox/kispg/_faults", json={"endpoint": "payment", "mode": "timeout", "count": 1})
        client.post("/sandbox/kispg/_faults", json={"endpoint": "order", "mode": "timeout", "count": 50})
        return_url, fields = sandbox_result(client, checkout_form(client, ord_no, UA["safari_ios"]))
        client.post(return_url, data=fields)
        assert status(client, ord_no) == "unknown"
        assert len(kispg_calls(client, "order")) == 1  # asked at once after the lost answer
        for _ in range(20):
            assert "결제 확인 중" in client.get(f"/orders/{ord_no}").get_data(as_text=True)
        assert len(kispg_calls(client, "order")) == 1  # and not again within the interval
    finally:
        services(app).store.dispose()


def test_an_approving_return_reads_its_attempt_and_order_once(app, client):
    """Round trips on the checkout's hottest request (issue 18): one read of the attempt with its order,
    the tid's owner, and the three changes (authenticated, claimed, paid), each on one pooled connection."""
    from sqlalchemy import event

    ord_no, return_url, fields = authenticated(client)
    checkouts = []
    event.listen(services(app).store.engine.pool, "checkout", lambda *args: checkouts.append(1))
    assert client.post(return_url, data=fields).status_code == 303
    assert len(checkouts) <= 5, f"{len(checkouts)} connection checkouts"
    assert status(client, ord_no) == "paid"
