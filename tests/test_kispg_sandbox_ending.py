"""How the sandbox's pay window ends: postMessage for the PC window, whole-page post on mobile, self-approval."""
from __future__ import annotations

import pytest

from webview_toolkit.kispg.signing import check_signature, verify_auth_result
from webview_toolkit.kispg.testing import parse_result_form, parse_result_message

from .sandbox_helpers import DESKTOP, KEY, MID, NOW, approve, form, inquire, open_window

PC = {"model": "WEB", "channel": "0001"}


def finish(web, action="approve", **extra):
    """Open the pay window, choose a card and press action; the ending page's HTML."""
    token, _ = open_window(web, DESKTOP, **extra)
    web.post("/v2/auth/choose", data={"token": token, "cardCode": "04"}, headers={"User-Agent": DESKTOP})
    response = web.post("/v2/auth/finish", data={"token": token, "action": action})
    assert response.status_code == 200, response.get_data(as_text=True)[-300:]
    return response.get_data(as_text=True)


def test_the_pc_window_ends_by_post_message_with_the_samples_wrapper(web):
    html = finish(web, **PC)
    origin, message = parse_result_message(html)
    assert origin == "https://shop.test", "posted to returnUrl's origin only"
    assert message["resultCode"] == "0000"
    data = message["data"]
    assert set(data) == {"resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "mbsReserved", "ediDate",
                         "encData"}
    assert data["resultCd"] == "0000" and verify_auth_result(data, mid=MID, merchant_key=KEY, now=NOW).amt == "3000"
    assert 'id="kispg-result"' not in html and "shop.test/kispg/return" not in html
    assert "window.parent.postMessage(message, ending.dataset.targetOrigin)" in html
    assert approve(web, data["tid"])["resultCd"] == "3001", "the authentication is approvable as on mobile"


@pytest.mark.parametrize("action, code", [("fail", "XXXX"), ("cancel", "S201")])
def test_a_pc_failure_or_cancel_is_xxxx_with_the_real_code_inside(web, action, code):
    _, message = parse_result_message(finish(web, action, **PC))
    assert message["resultCode"] == "XXXX"
    assert set(message["data"]) == {"resultCd", "resultMsg"} and message["data"]["resultCd"] == code


def test_a_pc_window_opened_as_a_whole_page_tells_nobody(web):
    """KISPG's PC window submitted whole has no parent to post to: the page says so, nothing reaches returnUrl."""
    html = finish(web, **PC)
    assert "if (window.parent === window)" in html and "결과를 받을 창이 없어" in html


def test_the_mobile_window_still_posts_the_whole_page(web):
    html = finish(web, model="MOB", channel="0002")
    action, fields = parse_result_form(html)
    assert action == "https://shop.test/kispg/return" and fields["resultCd"] == "0000"
    assert "postMessage" not in html and 'id="kispg-message"' not in html
    with pytest.raises(ValueError):
        parse_result_message(html)


@pytest.mark.parametrize("pay_req_type", [None, "0", "2"], ids=["missing", "0", "2"])
def test_without_pay_req_type_1_kispg_approves_by_itself(web, pay_req_type):
    fields = form()
    if pay_req_type is None:
        del fields["payReqType"]
    else:
        fields["payReqType"] = pay_req_type
    action, result = parse_result_form(web.post("/v2/auth", data={**fields, "sandboxAction": "approve"})
                                       .get_data(as_text=True))
    assert (result["resultCd"], result["resultMsg"]) == ("3001", "카드 결제 성공")
    check_signature(result["encData"], MID, result["ediDate"], result["amt"], KEY)
    # Already approved: the merchant's own approval is refused as the live service refuses it, and
    # the inquiry shows the payment.
    assert (approve(web, result["tid"])["resultCd"], approve(web, result["tid"])["resultMsg"]) == \
        ("A127", "MOID 중복 또는 이미 처리된 주문")
    assert inquire(web, ordNo=fields["ordNo"])["trxStatus"] == "승인"


def test_pay_req_type_1_waits_for_the_merchants_approval(web):
    fields = form()
    _, result = parse_result_form(web.post("/v2/auth", data={**fields, "sandboxAction": "approve"})
                                  .get_data(as_text=True))
    assert result["resultCd"] == "0000"
    assert inquire(web, ordNo=fields["ordNo"])["resultCd"] == "S104", "nothing approved yet"


def test_a_self_approval_on_pc_is_wrapped_as_0000(web):
    fields = {**form(**PC), "sandboxAction": "approve"}
    del fields["payReqType"]
    _, message = parse_result_message(web.post("/v2/auth", data=fields).get_data(as_text=True))
    assert message["resultCode"] == "0000" and message["data"]["resultCd"] == "3001"


def test_the_message_is_html_safe(web):
    """The payload sits in a <script> element: a goods name cannot close it."""
    html = finish(web, **PC, mbsReserved="</script><script>alert(1)</script>")
    assert "</script><script>alert(1)" not in html
    assert parse_result_message(html)[1]["data"]["mbsReserved"] == "</script><script>alert(1)</script>"
