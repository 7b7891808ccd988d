"""The sandbox: /v2/auth and its pay window, the JSON endpoints and their refusals, /_calls, /_faults, the CLI."""
from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask import Flask

from webview_toolkit.kispg.result_codes import TRX_APPROVED, TRX_AWAITING_DEPOSIT, TRX_CANCELLED
from webview_toolkit.kispg.sandbox import create_sandbox_app, create_sandbox_blueprint
from webview_toolkit.kispg.sandbox.state import CALL_LOG_LIMIT
from webview_toolkit.kispg.signing import verify_auth_result
from webview_toolkit.kispg.specs import validate
from webview_toolkit.kispg.testing import auth_form, parse_result_form, sandbox_authenticate

from .sandbox_helpers import (ANDROID, DESKTOP, IPHONE, KEY, MID, NOW, REGISTRY, approve, cancel, error_code, form,
                              inquire, open_window, paid, signed)


# /v2/auth ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,code,message", [
    ({"goodsNm": ""}, "S100", "필수입력항목이 빠져있습니다.(goodsNm)"),
    ({"encData": "0" * 64}, "A211", None),
    ({"encData": "not-hex"}, "A211", None),
    ({"mid": "other0000m"}, "S103", None),
    ({"goodsNm": "가" * 34}, "S101", "입력값 형식 오류입니다.(goodsNm)"),
    ({"returnUrl": "javascript:alert(1)"}, "S101", "입력값 형식 오류입니다.(returnUrl)"),
    ({"sandboxAction": "explode"}, "S101", "입력값 형식 오류입니다.(sandboxAction)"),
    ({"charset": "latin-1"}, "S101", "지원하지 않는 인코딩입니다.(charset)"),
], ids=["missing", "hash", "not-hex", "mid", "too-long-utf8", "returnUrl", "action", "charset"])
def test_auth_refusals(web, change, code, message):
    response = web.post("/v2/auth", data={**form(), **change})
    assert response.status_code == 400
    got_code, got_message = error_code(response)
    assert got_code == code
    if message:
        assert got_message == message


def test_auth_refuses_a_stale_edi_date(web, clock):
    clock.now = NOW + timedelta(minutes=11)
    assert error_code(web.post("/v2/auth", data=form()))[0] == "S102"


def euc_kr_body(fields: dict, key: str = "charset") -> bytes:
    fields = {("charSet" if k == "charset" else k) if key == "charSet" else k: v for k, v in fields.items()}
    return "&".join(f"{quote(k)}={quote(v, encoding='euc-kr')}" for k, v in fields.items()).encode("ascii")


@pytest.mark.parametrize("key", ["charset", "charSet"])
def test_auth_decodes_euc_kr_and_measures_in_it(web, key):
    fields = {**form(charset="EUC-KR", goodsNm="가" * 50), "sandboxAction": "approve"}
    response = web.post("/v2/auth", data=euc_kr_body(fields, key), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)[-400:]
    assert 'accept-charset="EUC-KR"' in response.get_data(as_text=True)
    tid = parse_result_form(response.get_data(as_text=True))[1]["tid"]
    assert approve(web, tid)["goodsName"] == "가" * 50


@pytest.mark.parametrize("spelling", [{"charset": "EUC-KR"}, {"charSet": "EUC-KR"},
                                      {"charset": "euc-kr", "charSet": "EUC-KR"}, {"charset": "", "charSet": "EUC-KR"}],
                         ids=["charset", "charSet", "both-agree", "empty-charset"])
def test_either_spelling_of_charset_is_read(web, spelling):
    fields = {k: v for k, v in form(goodsNm="가" * 50).items() if k != "charset"}
    body = {**fields, **spelling, "sandboxAction": "approve"}
    encoded = "&".join(f"{quote(k)}={quote(v, encoding='euc-kr')}" for k, v in body.items()).encode("ascii")
    response = web.post("/v2/auth", data=encoded, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)[-400:]
    assert 'accept-charset="EUC-KR"' in response.get_data(as_text=True)


def test_charset_and_charset_disagreeing_is_refused_naming_both(web):
    response = web.post("/v2/auth", data={**form(), "charSet": "EUC-KR"})  # form() says charset=UTF-8
    assert response.status_code == 400
    assert error_code(response) == ("S101", "charset과 charSet의 값이 다릅니다.(charset, charSet)")


@pytest.mark.parametrize("action", ["fail", "cancel"])
def test_an_order_number_that_failed_is_refused_as_a_duplicate(web, action):
    """KISPG answers a retry with a failed attempt's ordNo by MOID 중복 (KISPG_FACTS.md): a retry needs a new one."""
    first = form()
    sandbox_authenticate(web, "/v2/auth", first, action=action)
    retry = {**first, "sandboxAction": "approve"}
    assert error_code(web.post("/v2/auth", data=retry)) == ("A127", "MOID 중복 또는 이미 처리된 주문")
    other = {**form(), "sandboxAction": "approve"}
    assert web.post("/v2/auth", data=other).status_code == 200, "a fresh ordNo goes through"


def test_an_order_number_whose_window_was_left_open_can_be_sent_again(web):
    """Own choice: a window that never ended (the shopper closed it) did not fail; its ordNo stays usable."""
    first = form()
    assert 'name="token"' in web.post("/v2/auth", data=first).get_data(as_text=True), "the window opened"
    assert web.post("/v2/auth", data={**first, "sandboxAction": "approve"}).status_code == 200


def test_the_firewall_fault_redirects_to_a_notice_page(web):
    web.post("/_faults", json={"endpoint": "payment", "mode": "firewall"})
    response = web.post("/v2/payment", json=signed("goodsAmt", tid="t" * 30, goodsAmt="3000"))
    assert response.status_code == 302 and response.headers["Location"] == "http://localhost/firewall.html"
    notice = web.get("/firewall.html")
    assert notice.status_code == 200 and notice.mimetype == "text/html" and "IP" in notice.get_data(as_text=True)
    assert web.get("/_calls").get_json()[-1] == {"endpoint": "payment", "tid": "t" * 30, "ordNo": None,
                                                 "resultCd": None, "status": 302}


def test_the_same_order_cannot_be_paid_twice(web):
    first = form()
    tid = sandbox_authenticate(web, "/v2/auth", first)["tid"]
    approve(web, tid)
    assert error_code(web.post("/v2/auth", data={**first, "sandboxAction": "approve"})) == \
        ("A127", "MOID 중복 또는 이미 처리된 주문")


def test_sandbox_action_approve_posts_a_signed_result(web):
    action, fields = parse_result_form(web.post("/v2/auth", data={**form(mbsReserved="app_scheme=myshop://"),
                                                                   "sandboxAction": "approve"}).get_data(as_text=True))
    assert action == "https://shop.test/kispg/return"
    assert set(fields) == {"resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "mbsReserved", "ediDate",
                           "encData"}
    assert fields["resultCd"] == "0000" and len(fields["tid"]) == 30 and fields["tid"].startswith(MID + "0101")
    assert fields["mbsReserved"] == "app_scheme=myshop://"
    result = verify_auth_result(fields, mid=MID, merchant_key=KEY, now=NOW)
    assert result.amt == "3000"
    validate("auth_result", fields)


@pytest.mark.parametrize("action,code", [("fail", "XXXX"), ("cancel", "S201")])
def test_failures_carry_only_result_code_and_message(web, action, code):
    fields = sandbox_authenticate(web, "/v2/auth", form(), action=action)
    assert set(fields) == {"resultCd", "resultMsg"} and fields["resultCd"] == code


def test_the_result_page_posts_itself_with_a_visible_fallback(web):
    html = web.post("/v2/auth", data={**form(), "sandboxAction": "approve"}).get_data(as_text=True)
    assert 'target="_self"' in html and 'getElementById("kispg-result").submit()' in html
    assert '<button class="wide primary" type="submit">' in html


# the pay window -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ua,expected", [
    (ANDROID, "intent://launch#Intent;scheme=mpocket.online.ansimclick;package=kr.co.samsungcard.mpocket;end"),
    (IPHONE, "mpocket.online.ansimclick://"),
    (DESKTOP, None),
], ids=["android", "ios", "desktop"])
def test_window_launches_the_card_app_and_offers_the_results(web, ua, expected):
    token, html = open_window(web, ua)
    assert 'lang="ko"' in html and 'name="viewport"' in html
    assert 'data-card-code="04"' in html and 'data-card-code="01"' in html and "카카오페이" not in html
    assert "KAKAOPAY" in html
    page = web.post("/v2/auth/choose", data={"token": token, "cardCode": "04"},
                    headers={"User-Agent": ua}).get_data(as_text=True)
    for action in ("approve", "fail", "cancel"):
        assert f'data-sandbox-action="{action}"' in page
    if expected:
        assert f'href="{expected}"' in page and "window.location.href = url" in page
    else:
        assert "data-launch-url" not in page and "window.location" not in page
    _, fields = parse_result_form(web.post("/v2/auth/finish", data={"token": token, "action": "approve"})
                                  .get_data(as_text=True))
    assert approve(web, fields["tid"])["fnNm"] == "삼성"


def test_window_easy_pay_is_approved_with_its_code(web):
    token, _ = open_window(web, IPHONE)
    page = web.post("/v2/auth/choose", data={"token": token, "easyPay": "kakaopay"},
                    headers={"User-Agent": IPHONE}).get_data(as_text=True)
    assert 'href="kakaotalk://"' in page
    _, fields = parse_result_form(web.post("/v2/auth/finish", data={"token": token, "action": "approve"})
                                  .get_data(as_text=True))
    answer = approve(web, fields["tid"])
    assert (answer["easyPayCd"], answer["easyPayNm"]) == ("02", "카카오페이")


def test_window_restricted_to_bank_transfer(web):
    token, html = open_window(web, payMethod="BANK")
    assert "data-card-code" not in html and 'data-method="bank"' in html and 'data-method="vacnt"' not in html
    web.post("/v2/auth/choose", data={"token": token, "method": "bank"})
    _, fields = parse_result_form(web.post("/v2/auth/finish", data={"token": token, "action": "approve"})
                                  .get_data(as_text=True))
    assert fields["payMethod"] == "bank" and fields["tid"][10:12] == "02"


def test_a_window_token_is_used_once(web):
    token, _ = open_window(web)
    web.post("/v2/auth/choose", data={"token": token, "cardCode": "04"})
    assert web.post("/v2/auth/finish", data={"token": token, "action": "fail"}).status_code == 200
    assert web.post("/v2/auth/finish", data={"token": token, "action": "approve"}).status_code == 400
    assert web.post("/v2/auth/choose", data={"token": "forged", "cardCode": "04"}).status_code == 400


def test_window_with_the_real_registry(clock):
    from webview_toolkit.registry import RegistryError, load_registry
    try:
        registry = load_registry()
    except RegistryError:
        pytest.skip("schemes/ does not validate yet")
    app = create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": KEY, "KISPG_SANDBOX_CLOCK": clock})
    token, html = open_window(app.test_client(), ANDROID)
    codes = re.findall(r'data-card-code="(\d+)"', html)
    assert codes and all(registry.codes.name("card_company", c) for c in codes)
    page = app.test_client().post("/v2/auth/choose", data={"token": token, "cardCode": codes[0]},
                                  headers={"User-Agent": ANDROID}).get_data(as_text=True)
    assert "intent://" in page and ";package=" in page


# the JSON endpoints ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v2/payment", "/v2/cancel", "/v2/order"])
def test_form_bodies_are_415(web, path):
    assert web.post(path, data={"mid": MID}).status_code == 415


@pytest.mark.parametrize("path,body,field", [
    ("/v2/payment", {"mid": MID, "goodsAmt": "1", "ediDate": "20240501120000", "encData": "a" * 64}, "tid"),
    ("/v2/cancel", {"payMethod": "card", "tid": "t", "mid": MID, "canAmt": "1", "canMsg": "x",
                    "ediDate": "20240501120000", "encData": "a" * 64}, "partCanFlg"),
    ("/v2/order", {"mid": MID, "tid": "t", "ediDate": "20240501120000", "encData": "a" * 64}, "goodsAmt"),
])
def test_missing_fields_are_named(web, path, body, field):
    assert web.post(path, json=body).get_json() == {"resultCd": "S100",
                                                    "resultMsg": f"필수입력항목이 빠져있습니다.({field})"}


def test_payment_refusals(web, clock):
    tid = sandbox_authenticate(web, "/v2/auth", form())["tid"]
    assert approve(web, "webview01m01012405010000009999")["resultCd"] == "S104"
    assert approve(web, tid, 2999)["resultCd"] == "A123"
    wrong = signed("goodsAmt", key="wrong", tid=tid, goodsAmt="3000")
    assert web.post("/v2/payment", json=wrong).get_json()["resultCd"] == "A211"
    assert web.post("/v2/payment", json={**signed("goodsAmt", tid=tid, goodsAmt="3000"), "mid": "other0000m"}) \
        .get_json()["resultCd"] == "S103"
    clock.now = NOW + timedelta(minutes=10, seconds=1)
    assert approve(web, tid)["resultCd"] == "S102"
    clock.now = NOW
    answer = approve(web, tid)
    assert answer["resultCd"] == "3001"
    validate("approval_response", answer)
    assert approve(web, tid)["resultCd"] == "A127"


def test_cancel_keeps_the_remaining_balance(web):
    tid = paid(web, 3000)
    first = cancel(web, tid, 500)
    assert first["resultCd"] == "2001" and first["cancelYN"] == "Y"
    validate("cancel_response", first)
    assert cancel(web, tid, 500)["resultCd"] == "2015"  # the same request again
    assert cancel(web, tid, 2501, when=NOW + timedelta(seconds=1))["resultCd"] == "2032"
    assert cancel(web, tid, 2000, partial="0", when=NOW + timedelta(seconds=2))["resultCd"] == "A123"
    assert cancel(web, tid, 0, when=NOW + timedelta(seconds=3))["resultCd"] == "S101"
    assert cancel(web, tid, 2500, partial="0", when=NOW + timedelta(seconds=4))["resultCd"] == "2001"
    assert cancel(web, tid, 1, when=NOW + timedelta(seconds=5))["resultCd"] == "2013"
    assert cancel(web, "webview01m01012405010000009999", 1)["resultCd"] == "S104"
    assert cancel(web, tid, 1, payMethod="bank", when=NOW + timedelta(seconds=6))["resultCd"] == "S101"


def test_virtual_account_refund_needs_all_refund_fields(web):
    tid = paid(web, 5000, payMethod="vacnt")
    body = dict(payMethod="vacnt", refundBankCd="004", refundAccnt="123456789")
    # Before a deposit there is nothing to refund, and the account is closed whole (our choice).
    assert cancel(web, tid, 5000, partial="0", refundNm="임꺽정", **body)["resultCd"] == "S101"
    assert cancel(web, tid, 1000, payMethod="vacnt")["resultCd"] == "S101"
    assert web.post("/_deposit", json={"tid": tid, "amount": 5000}).status_code == 200
    assert inquire(web, 5000, tid=tid)["trxStatus"] == TRX_APPROVED
    assert cancel(web, tid, 5000, partial="0", payMethod="vacnt") == {
        "resultCd": "S100", "resultMsg": "필수입력항목이 빠져있습니다.(refundBankCd)"}
    assert cancel(web, tid, 5000, partial="0", **body) == {
        "resultCd": "S100", "resultMsg": "필수입력항목이 빠져있습니다.(refundNm)"}
    assert cancel(web, tid, 5000, partial="0", refundNm="임꺽정", **body)["resultCd"] == "2211"


def test_inquiry_reports_status_and_cancel_data(web):
    tid = paid(web, 3000)
    found = inquire(web, tid=tid)
    assert (found["resultCd"], found["trxStatus"], found["cancelData"]) == ("0000", TRX_APPROVED, "")
    validate("inquiry_response", found)
    cancel(web, tid, 500)
    found = inquire(web, ordNo=found["ordNo"])
    assert found["trxStatus"] == TRX_APPROVED and found["cancelYN"] == "N"
    assert re.fullmatch(r'\[\{"tid":"webview01m0150\d{16}","ccDtm":"20240501120000","ccAmt":500,"remainAmt":2500\}\]',
                        found["cancelData"])
    cancel(web, tid, 2500, partial="0", when=NOW + timedelta(seconds=1))
    assert inquire(web, tid=tid)["trxStatus"] == TRX_CANCELLED
    assert inquire(web, 2999, tid=tid)["resultCd"] == "A123"
    assert inquire(web, ordNo="nobody")["resultCd"] == "S104"
    assert inquire(web, tid=paid(web, 3000, payMethod="vacnt"))["trxStatus"] == TRX_AWAITING_DEPOSIT


def test_one_approval_wins_under_concurrency(sandbox, web):
    tid = sandbox_authenticate(web, "/v2/auth", form())["tid"]
    results, start = [], threading.Barrier(8)

    def worker():
        client = sandbox.test_client()
        start.wait()
        results.append(approve(client, tid)["resultCd"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["3001"] + ["A127"] * 7


# /_calls, /_faults, mounting, the key ------------------------------------------------------------------

def test_calls_list_what_arrived_and_never_the_key(web):
    tid = paid(web)
    web.post("/v2/cancel", data={"x": "1"})
    calls = web.get("/_calls").get_json()
    assert [c["endpoint"] for c in calls] == ["auth", "auth_result", "payment", "cancel"]
    assert calls[2] == {"endpoint": "payment", "tid": tid, "ordNo": calls[0]["ordNo"], "resultCd": "3001",
                        "status": 200}
    assert calls[3]["status"] == 415
    assert KEY not in web.get("/_calls").get_data(as_text=True)


def test_the_key_is_in_no_page_or_answer(web):
    pages = [web.post("/v2/auth", data=form(), headers={"User-Agent": ANDROID}),
             web.post("/v2/auth", data={**form(), "encData": "0" * 64}),
             web.post("/v2/auth", data={**form(), "sandboxAction": "approve"}),
             web.post("/v2/payment", json={"mid": MID}), web.get("/_calls"), web.get("/_faults")]
    for page in pages:
        assert KEY not in page.get_data(as_text=True)


@pytest.mark.parametrize("body,message", [
    ({"endpoint": "auth", "mode": "error500"}, "endpoint must be one of payment, cancel, order"),
    ({"endpoint": "payment", "mode": "explode"}, "mode must be one of"),
    ({"endpoint": "payment", "mode": "timeout", "count": 0}, "count must be a positive integer"),
    ({"endpoint": "payment", "mode": "timeout", "delay": -1}, "delay must be seconds"),
])
def test_bad_faults_are_refused(web, body, message):
    response = web.post("/_faults", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_faults_count_down_and_clear(sandbox, web):
    slept = []
    sandbox.extensions["kispg_sandbox"].sleep = slept.append
    web.post("/_faults", json={"endpoint": "order", "mode": "error500", "count": 2})
    web.post("/_faults", json={"endpoint": "payment", "mode": "commit_then_timeout", "delay": 3})
    assert [f["count"] for f in web.get("/_faults").get_json()] == [2, 1]
    assert web.post("/v2/order", json={}).status_code == 500
    tid = sandbox_authenticate(web, "/v2/auth", form())["tid"]
    response = web.post("/v2/payment", json=signed("goodsAmt", tid=tid, goodsAmt="3000"))
    assert response.status_code == 504 and response.headers["X-Sandbox-Fault"] == "timeout" and slept == [3.0]
    assert web.post("/v2/order", json={}).status_code == 500  # the second of two
    assert web.get("/_faults").get_json() == []
    assert inquire(web, tid=tid)["trxStatus"] == TRX_APPROVED  # the approval was committed
    web.post("/_faults", json={"endpoint": "cancel", "mode": "garbled"})
    assert web.delete("/_faults").status_code == 204 and web.get("/_faults").get_json() == []


def test_mounted_inside_a_service_with_a_generated_merchant():
    service = Flask("service")
    service.register_blueprint(create_sandbox_blueprint(REGISTRY), url_prefix="/sandbox/kispg")
    mid, key = service.config["KISPG_MID"], service.config["KISPG_MERCHANT_KEY"]
    assert len(mid) == 10 and len(key) == 88
    fields = sandbox_authenticate(service.test_client(), "/sandbox/kispg/v2/auth",
                                  auth_form(mid, key, ord_no="svc-1", goods_amt=100))
    assert verify_auth_result(fields, mid=mid, merchant_key=key)
    assert service.test_client().get("/sandbox/kispg/_calls").status_code == 200


@pytest.mark.parametrize("env,generated", [({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": KEY}, False), ({}, True)])
def test_cli_prints_the_mid_never_the_key(monkeypatch, env, generated):
    from webview_toolkit.cli import main

    served = {}
    monkeypatch.delenv("KISPG_MID", raising=False)
    monkeypatch.delenv("KISPG_MERCHANT_KEY", raising=False)
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.update(kw, app=self))
    result = CliRunner().invoke(main, ["sandbox", "--host", "0.0.0.0", "--port", "9123"], env=env)
    assert result.exit_code == 0, result.output
    app = served["app"]
    assert (served["host"], served["port"]) == ("0.0.0.0", 9123)
    assert f"MID {app.config['KISPG_MID']}" in result.output
    assert app.config["KISPG_MERCHANT_KEY"] not in result.output
    assert ("generated" in result.output) == generated and (app.config["KISPG_MID"] == MID) != generated


# Bounded memory and indexed lookups (issue 18: the sandbox slowed by a third after ~3,000 payments) ------

class NoWalk(dict):
    """The sandbox's payments, refusing to be walked: a lookup must go by key."""

    def _walked(self, *args):
        raise AssertionError("the sandbox walked every payment")

    values = items = __iter__ = _walked


def test_payments_are_found_by_key_never_by_walking_them(sandbox, web):
    state = sandbox.extensions["kispg_sandbox"]
    state.payments = NoWalk(state.payments)
    tid = paid(web, 3000)  # approval checks the ordNo was not paid before
    ord_no = state.payments[tid].auth.ord_no
    assert cancel(web, tid, 500)["resultCd"] == "2001"  # a cancel tid, unique among all tids
    assert inquire(web, ordNo=ord_no)["tid"] == tid
    second = sandbox_authenticate(web, "/v2/auth", form())["tid"]
    state.auths[second] = replace(state.auths[second], ord_no=ord_no)  # KISPG refuses an ordNo it approved
    assert approve(web, second)["resultCd"] == "A127"


def test_the_call_log_keeps_the_newest_calls_up_to_its_limit(sandbox, web):
    state = sandbox.extensions["kispg_sandbox"]
    for n in range(CALL_LOG_LIMIT + 5):
        state.record_call("order", f"tid-{n}", None, "0000", 200)
    tid = paid(web)
    calls = web.get("/_calls").get_json()
    assert len(calls) == CALL_LOG_LIMIT
    assert calls[0]["tid"] == "tid-8"  # the 5 oldest and 3 more (this payment's auth, result, approval) gone
    assert calls[-1] == {"endpoint": "payment", "tid": tid, "ordNo": calls[-3]["ordNo"], "resultCd": "3001",
                         "status": 200}


def test_old_pay_windows_are_forgotten_as_new_ones_open(sandbox, clock):
    state = sandbox.extensions["kispg_sandbox"]
    web = sandbox.test_client()
    first, _ = open_window(web)
    clock.now = NOW + timedelta(minutes=31)
    later = form(now=clock.now)
    assert web.post("/v2/auth", data=later, headers={"User-Agent": ANDROID}).status_code == 200
    assert first not in state.windows and len(state.windows) == 1
