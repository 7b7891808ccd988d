"""Virtual accounts end to end on the service and its sandbox: issue, deposit, notice, expiry, cancel, refund."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from webview_toolkit import vbank
from webview_toolkit.kispg.signing import KST
from webview_toolkit.web import create_app
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, service_config
from .vbank_helpers import issue, kinds, notice

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def app(tmp_path, database_url):
    # Resends are driven by the tests (POST /_notices/deliver), not by a timer.
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, KISPG_SANDBOX_AUTO_RESEND=False))
    yield app
    services(app).store.dispose()


def test_an_issued_account_waits_with_its_account_shown(client):
    order = issue(client)
    account = order["virtualAccount"]
    assert order["status"] == "awaiting_deposit" and order["resultCd"] == "4100"
    assert account["bankCd"] == "004" and account["bankNm"] == "국민" and account["amount"] == 39000
    assert len(account["accountNo"]) == 14 and account["lmtDay"] and account["deadline"].endswith("23:59:59+09:00")
    html = client.get(f"/orders/{order['ordNo']}").get_data(as_text=True)
    deadline = vbank.parse_lmt_day(account["lmtDay"])
    assert 'data-status="awaiting_deposit"' in html and "입금 대기 중" in html
    assert account["accountNo"] in html and "국민" in html and "39,000원" in html and "계좌번호 복사" in html
    assert f"{deadline.year}년 {deadline.month}월 {deadline.day}일(" in html and "23:59까지" in html
    assert '<meta http-equiv="refresh" content="30">' in html and "/static/copy.js" in html
    assert "결제 완료" not in html


def test_deposit_notice_inquiry_paid_once_and_resends_change_nothing(app, client):
    order = issue(client)
    deposited = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000}).get_json()
    sent = deposited["notification"]
    assert sent["delivered"] and sent["sends"] == 1 and sent["lastResult"] == "HTTP 200 OK"
    assert sent["fields"]["resultCd"] == "4110" and MERCHANT_KEY not in str(sent)
    assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "paid"
    for _ in range(3):  # KISPG resends the same notice
        response = client.post("/kispg/noti", data=sent["fields"])
        assert (response.status_code, response.get_data(as_text=True)) == (200, "OK")
    events = kinds(app, order["ordNo"])
    assert events.count("deposit_confirmed") == 1 and events.count("notice_received") == 4
    html = client.get(f"/orders/{order['ordNo']}").get_data(as_text=True)
    assert 'data-status="paid"' in html and "입금 확인 완료" in html and "계좌번호 복사" not in html
    again = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000})
    assert again.status_code == 400 and "already" in again.get_json()["error"]


@pytest.mark.parametrize("amount, word", [(38999, "partial"), (39001, "over")])
def test_partial_and_over_deposits_are_refused(client, amount, word):
    order = issue(client)
    response = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": amount})
    assert response.status_code == 400 and word in response.get_json()["error"]
    assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "awaiting_deposit"


@pytest.mark.parametrize("change, status", [
    ({"hashStr": None}, 503),  # unsigned: a hint; KISPG still says 입금대기
    ({"hashStr": "0" * 64}, 403),
    ({"hashStr": "not-hex"}, 403),
    ({"amt": "1"}, 409),
    ({"ordNo": "nobody-ever"}, 404),
    ({"tid": "webview01m03019999999999999999"}, 409),
    ({"tid": None}, 400),
])
def test_a_forged_notice_changes_nothing(app, client, change, status):
    order = issue(client)
    before = kinds(app, order["ordNo"])
    response = client.post("/kispg/noti", data=notice(order, **change))
    assert response.status_code == status and response.get_data(as_text=True).startswith("FAIL")
    assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "awaiting_deposit"
    after = kinds(app, order["ordNo"])
    # Only a notice naming this very payment is recorded (and it was only a hint).
    assert after == before or (status == 503 and after == before + ["notice_received"])


def test_a_notice_while_inquiry_is_down_waits_and_a_resend_settles_it(tmp_path, database_url):
    moments = [datetime.now(KST)]
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, KISPG_SANDBOX_AUTO_RESEND=False,
                                    KISPG_SANDBOX_CLOCK=lambda: moments[0]))
    client = app.test_client()
    try:
        order = issue(client)
        client.post("/sandbox/kispg/_faults", json={"endpoint": "order", "mode": "error500"})
        sent = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000}).get_json()
        assert sent["notification"]["delivered"] is False and sent["notification"]["lastResult"].startswith("HTTP 503")
        assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "awaiting_deposit"
        assert client.post("/sandbox/kispg/_notices/deliver").get_json() == []  # not due yet: back-off
        moments[0] += timedelta(seconds=6)
        resent = client.post("/sandbox/kispg/_notices/deliver").get_json()
        assert [(n["sends"], n["delivered"]) for n in resent] == [(2, True)]
        assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "paid"
        assert kinds(app, order["ordNo"]).count("deposit_confirmed") == 1
    finally:
        services(app).store.dispose()


def test_a_missed_notice_is_caught_by_reconcile(tmp_path, database_url):
    app = create_app(service_config(tmp_path, WEBVIEW_DATABASE_URL=database_url, KISPG_SANDBOX_NOTI_URL=""))
    client = app.test_client()
    try:
        order = issue(client)
        sent = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000}).get_json()
        assert sent["notification"] is None  # nobody told the merchant
        assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "awaiting_deposit"
        settled = services(app).payments.reconcile_all()
        assert [(o.ord_no, o.status) for o in settled] == [(order["ordNo"], "paid")]
    finally:
        services(app).store.dispose()


def test_past_the_deadline_without_a_deposit_the_order_expires(app, client):
    order = issue(client)
    yesterday = (datetime.now(KST) - timedelta(days=1)).strftime("%Y%m%d")
    assert client.post(f"/sandbox/kispg/_vacnt/{order['tid']}/deadline", json={"lmtDay": yesterday}).status_code == 200
    refused = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000})
    assert refused.status_code == 400 and "deadline" in refused.get_json()["error"]
    payments = services(app).payments
    assert payments.reconcile(order["ordNo"]).status == "awaiting_deposit"  # our deadline is still ahead
    lmt = vbank.parse_lmt_day(order["virtualAccount"]["lmtDay"])
    payments.clock = lambda: datetime(lmt.year, lmt.month, lmt.day, tzinfo=KST) + timedelta(days=1, seconds=1)
    assert payments.reconcile(order["ordNo"]).status == "expired"
    html = client.get(f"/orders/{order['ordNo']}").get_data(as_text=True)
    assert 'data-status="expired"' in html and "입금 기한 만료" in html and "입금하지 마세요" in html
    assert "refresh" not in html


def test_a_deposit_after_we_expired_the_order_is_reported_for_a_person(app, client):
    late, never = issue(client), issue(client)
    lmt = vbank.parse_lmt_day(late["virtualAccount"]["lmtDay"])
    payments = services(app).payments
    payments.clock = lambda: datetime(lmt.year, lmt.month, lmt.day, tzinfo=KST) + timedelta(days=1, seconds=1)
    assert [payments.reconcile(o["ordNo"]).status for o in (late, never)] == ["expired", "expired"]
    # KISPG's bank still took the money (its clock, not ours): the notice is taken and flagged.
    sent = client.post("/sandbox/kispg/_deposit", json={"tid": late["tid"], "amount": 39000}).get_json()
    assert sent["notification"]["delivered"]
    assert client.get(f"/api/orders/{late['ordNo']}").get_json()["status"] == "expired"
    assert kinds(app, late["ordNo"])[-1] == "late_deposit_reported"
    # A deposit notice that KISPG does not bear out is refused, and flags nothing.
    forged = client.post("/kispg/noti", data=notice(never))
    assert forged.status_code == 409 and "late_deposit_reported" not in kinds(app, never["ordNo"])


def test_cancel_of_an_unpaid_account_closes_it(app, client):
    order = issue(client)
    part = client.post(f"/api/orders/{order['ordNo']}/cancel", json={"amount": 1000}, headers=ADMIN)
    assert part.status_code == 409 and "closed whole" in part.get_json()["error"]
    closed = client.post(f"/api/orders/{order['ordNo']}/cancel", headers=ADMIN)
    assert closed.status_code == 200 and closed.get_json()["status"] == "cancelled"
    refused = client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000})
    assert refused.status_code == 400 and "closed" in refused.get_json()["error"]
    html = client.get(f"/orders/{order['ordNo']}").get_data(as_text=True)
    assert "주문 취소됨" in html and "입금하지 마세요" in html


def test_refund_after_deposit_needs_a_valid_refund_account(app, client):
    order = issue(client)
    client.post("/sandbox/kispg/_deposit", json={"tid": order["tid"], "amount": 39000})
    url = f"/api/orders/{order['ordNo']}/cancel"
    missing = client.post(url, headers=ADMIN)
    assert missing.status_code == 409 and "refundBankCd" in missing.get_json()["error"]
    bad = client.post(url, json={"refundBankCd": "999", "refundAccnt": "12-34", "refundNm": "가" * 11}, headers=ADMIN)
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"refundBankCd", "refundAccnt", "refundNm"}
    partial = client.post(url, json={"refundBankCd": "004"}, headers=ADMIN)
    assert partial.status_code == 400 and set(partial.get_json()["fields"]) == {"refundAccnt", "refundNm"}
    assert client.get(f"/api/orders/{order['ordNo']}").get_json()["status"] == "paid"
    done = client.post(url, json={"refundBankCd": "004", "refundAccnt": "123456789012", "refundNm": "홍길동"},
                       headers=ADMIN)
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    calls = client.get("/sandbox/kispg/_calls").get_json()
    assert [c["resultCd"] for c in calls if c["endpoint"] == "cancel"] == ["2211"]
    # The shopper's account number is not kept in the order's history.
    assert "123456789012" not in str(services(app).store.events(order["ordNo"]))


def test_refund_account_fields_are_held_to_the_cancel_table():
    assert vbank.refund_account({}) == (None, {})
    refund, problems = vbank.refund_account({"refundBankCd": "088", "refundAccnt": "110123456789", "refundNm": "임꺽정"})
    assert problems == {} and (refund.bank_cd, refund.account, refund.name) == ("088", "110123456789", "임꺽정")
    _, problems = vbank.refund_account({"refundBankCd": "0040", "refundAccnt": 123, "refundNm": "x" * 31})
    assert set(problems) == {"refundBankCd", "refundAccnt", "refundNm"} and "3" in problems["refundBankCd"]
