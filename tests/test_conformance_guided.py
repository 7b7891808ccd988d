"""The guided payment end to end, with the sandbox standing in for live KISPG and a scripted tester."""
from __future__ import annotations

import json

import requests

from webview_toolkit.conformance.catcher import ResultCatcher
from webview_toolkit.conformance.compare import MATCH, NOT_COMPARABLE
from webview_toolkit.conformance.exchange import Endpoint, Pacer, reference_sandbox
from webview_toolkit.conformance.guided import GuidedPayment
from webview_toolkit.conformance.runner import Merchant
from webview_toolkit.kispg.client import KispgClient
from webview_toolkit.kispg.testing import FormParser, parse_result_form, wsgi_session

from .conformance_helpers import KEY, MID, pay_through_window, sandbox_app
from .loopback import served

MERCHANT = Merchant(MID, KEY)
IN_PROCESS = "http://kispg.test"


def guided(base: str, wait: float = 30.0, budget: int = 3) -> tuple[GuidedPayment, Pacer]:
    pacer = Pacer(0, budget)
    _, reference = reference_sandbox(MID, KEY)
    return GuidedPayment(Endpoint(base, requests.Session(), (2.0, 10.0), pacer), reference, MERCHANT, wait), pacer


def calls(base: str) -> list[tuple[str, str | None]]:
    return [(c["endpoint"], c["resultCd"]) for c in requests.get(base + "/_calls", timeout=5).json()]


def test_a_paid_checkout_is_verified_approved_inquired_and_cancelled_and_matches_the_sandbox():
    shown = []

    def tester(url: str, ord_no: str) -> None:
        shown.append((url, ord_no))
        # Not the sandbox's default card: the card-dependent fields must not count as differences.
        answer = pay_through_window(url, "approve", card_index=2)
        assert answer.status_code == 200 and "결과를 받았습니다" in answer.text

    with served(sandbox_app()) as base:
        payment, pacer = guided(base)
        steps = {step.id: step for step in payment.run(tester)}
        live_calls = calls(base)
    (url, ord_no), = shown
    assert url.startswith("http://127.0.0.1:") and ord_no.startswith("wvtk-conf-")
    assert list(steps) == ["return_url", "approval", "inquiry", "cancel"]
    assert {s.id: (s.comparison.verdict, s.comparison.differences) for s in steps.values()} == {
        s: (MATCH, ()) for s in steps}
    assert steps["return_url"].findings == {"live_encdata_verifies": True, "sandbox_encdata_verifies": True}
    assert steps["approval"].findings == {"pay_method": "card", "success_code": "3001", "counted_as_success": True}
    assert steps["inquiry"].findings == {"trx_status": "승인"}
    # The live side really was approved once and cancelled (money first), and got nothing else.
    assert [c for c in live_calls if c[0] in ("payment", "order", "cancel")] == [
        ("payment", "3001"), ("order", "0000"), ("cancel", "2001")]
    assert pacer.sent == 3


def test_personal_data_and_card_numbers_are_masked_in_every_step():
    with served(sandbox_app()) as base:
        payment, _ = guided(base)
        steps = payment.run(lambda url, ord_no: pay_through_window(url))
    text = json.dumps([s.as_dict() for s in steps], ensure_ascii=False)
    assert '"cardNo": "************1234"' in text and "53692100" not in text
    assert '"ordNm": "점*"' in text and "01000000000" not in text
    assert KEY not in text


def test_a_failed_auth_is_compared_and_nothing_is_approved():
    with served(sandbox_app()) as base:
        payment, pacer = guided(base)
        steps = payment.run(lambda url, ord_no: pay_through_window(url, "fail"))
        live_calls = calls(base)
    (step,) = steps
    assert step.id == "return_url" and step.comparison.verdict == MATCH
    assert step.target.json == {"resultCd": "XXXX", "resultMsg": "인증에 실패하였습니다."}
    assert step.findings == {"live_encdata_verifies": None, "sandbox_encdata_verifies": None}
    assert pacer.sent == 0 and not any(c[0] in ("payment", "cancel") for c in live_calls)


def test_a_tester_who_never_pays_ends_the_wait_with_one_inquiry_by_ordno():
    with served(sandbox_app()) as base:
        payment, pacer = guided(base, wait=0.05)
        waited, inquiry = payment.run(lambda url, ord_no: None)
    assert waited.comparison.verdict == NOT_COMPARABLE
    assert waited.comparison.differences == ("no result reached returnUrl within 0.05 s",)
    assert inquiry.request["ordNo"] == payment.ord_no and inquiry.comparison.verdict == MATCH
    assert inquiry.target.json["resultCd"] == "S104" and pacer.sent == 1


def test_a_payment_whose_result_never_arrived_is_found_by_ordno_and_cancelled():
    def lost_result(url: str, ord_no: str) -> None:
        # The shopper paid and KISPG approved, but the post to returnUrl never arrived.
        form = FormParser("conformance-auth")
        form.feed(requests.get(url, timeout=5).text)
        result_page = requests.post(form.action, data={**form.fields, "sandboxAction": "approve"}, timeout=5)
        fields = parse_result_form(result_page.text)[1]
        KispgClient(form.action[: -len("/v2/auth")], MID, KEY).approve(fields["tid"], fields["amt"])

    with served(sandbox_app()) as base:
        payment, pacer = guided(base, wait=0.05)
        steps = {s.id: s for s in payment.run(lost_result)}
        live_calls = calls(base)
    assert list(steps) == ["return_url", "inquiry", "cancel"]
    assert steps["inquiry"].findings == {"trx_status": "승인"}
    assert steps["cancel"].target.json["resultCd"] == "2001"
    assert steps["cancel"].comparison.verdict == NOT_COMPARABLE  # the sandbox holds no such payment to cancel
    assert [c for c in live_calls if c[0] in ("payment", "cancel")] == [("payment", "3001"), ("cancel", "2001")]
    assert pacer.sent == 2


def test_the_returnurl_server_listens_on_loopback_only_and_refuses_other_paths(caplog):
    seen = {}

    def look(url: str, ord_no: str) -> None:
        seen["other"] = requests.get(url + "admin", timeout=5).status_code
        seen["page"] = requests.get(url, timeout=5).text
        pay_through_window(url)

    with served(sandbox_app()) as base:
        payment, _ = guided(base)
        payment.run(look)
    assert seen["other"] == 404
    assert f'action="{base}/v2/auth"' in seen["page"] and KEY not in seen["page"]
    assert 'name="returnUrl" value="http://127.0.0.1:' in seen["page"]
    # Its access lines would break into the command's output (the sandbox's own lines are its business).
    assert not [r for r in caplog.records if r.name == "werkzeug" and ("/return" in r.getMessage()
                                                                    or "GET / " in r.getMessage())]


def test_a_forged_encdata_on_returnurl_is_reported_as_not_verifying():
    def forger(url: str, ord_no: str) -> None:
        page = requests.get(url, timeout=5).text
        assert "conformance-auth" in page
        requests.post(url + "return", data={"resultCd": "0000", "resultMsg": "ok", "payMethod": "card",
                                            "tid": f"{MID}01012612011500001234", "ordNo": ord_no, "amt": "1004",
                                            "mbsReserved": "", "ediDate": "20261201150000",
                                            "encData": "f" * 64}, timeout=5)

    with served(sandbox_app()) as base:
        payment, _ = guided(base)
        steps = {s.id: s for s in payment.run(forger)}
    assert steps["return_url"].findings["live_encdata_verifies"] is False
    # The live side does not know that tid: approval is refused, the inquiry finds nothing, nothing to cancel.
    assert list(steps) == ["return_url", "approval", "inquiry"]


def test_a_payment_kispg_approved_by_itself_is_not_approved_again_but_inquired_and_cancelled():
    def self_approving(url: str, ord_no: str) -> None:
        # What public integrations saw from the real service: KISPG approves, then posts 3001 to returnUrl.
        page = requests.get(url, timeout=5).text
        form = FormParser("conformance-auth")
        form.feed(page)
        result_page = requests.post(form.action, data={**form.fields, "sandboxAction": "approve"}, timeout=5)
        return_url, fields = parse_result_form(result_page.text)
        KispgClient(form.action[: -len("/v2/auth")], MID, KEY).approve(fields["tid"], fields["amt"])
        requests.post(return_url, data={**fields, "resultCd": "3001", "resultMsg": "카드 결제 성공"}, timeout=5)

    with served(sandbox_app()) as base:
        payment, pacer = guided(base)
        steps = {s.id: s for s in payment.run(self_approving)}
        live_calls = calls(base)
    assert list(steps) == ["return_url", "inquiry", "cancel"]
    assert steps["return_url"].comparison.differences == ('resultCd: live "3001", sandbox "0000"',
                                                          'resultMsg: live "카드 결제 성공", sandbox "정상처리되었습니다."')
    assert steps["inquiry"].findings == {"trx_status": "승인"}
    assert [c for c in live_calls if c[0] in ("payment", "cancel")] == [("payment", "3001"), ("cancel", "2001")]
    assert pacer.sent == 2


def in_process_target(*faults: dict) -> tuple[GuidedPayment, Pacer, requests.Session]:
    """A target sandbox reached in-process, where a timeout fault is a ReadTimeout without any waiting."""
    app = sandbox_app()
    session = wsgi_session(app, IN_PROCESS)
    for fault in faults:
        assert session.post(IN_PROCESS + "/_faults", json=fault, timeout=5).status_code == 201
    payment, pacer = guided(IN_PROCESS)
    return (GuidedPayment(Endpoint(IN_PROCESS, session, (2.0, 10.0), pacer), payment.reference, MERCHANT, 30.0),
            pacer, session)


def test_an_approval_lost_in_a_timeout_is_inquired_and_cancelled_once_found():
    # The approval is processed, then its answer is lost (the sandbox's commit_then_timeout).
    payment, _, session = in_process_target({"endpoint": "payment", "mode": "commit_then_timeout"})
    steps = {s.id: s for s in payment.run(lambda url, ord_no: pay_through_window(url, session=session))}
    live_calls = [(c["endpoint"], c["resultCd"]) for c in session.get(IN_PROCESS + "/_calls", timeout=5).json()]
    assert steps["approval"].target.error.startswith("read timeout")
    assert steps["approval"].comparison.verdict == NOT_COMPARABLE
    assert steps["inquiry"].findings == {"trx_status": "승인"}
    assert [c for c in live_calls if c[0] in ("payment", "cancel")] == [("payment", "3001"), ("cancel", "2001")]


def test_an_outcome_nobody_can_tell_is_flagged_for_the_tester():
    payment, _, session = in_process_target({"endpoint": "payment", "mode": "commit_then_timeout"},
                                            {"endpoint": "order", "mode": "error500"})
    steps = {s.id: s for s in payment.run(lambda url, ord_no: pay_through_window(url, session=session))}
    assert list(steps) == ["return_url", "approval", "inquiry"]
    assert steps["inquiry"].target.status == 500
    assert steps["inquiry"].findings["attention"].startswith(
        f"the approval's outcome is unknown: ask KISPG about ordNo {payment.ord_no}")


def test_a_tester_who_stops_the_wait_still_gets_the_ordno_inquiry_and_a_report():
    class Interrupted(ResultCatcher):
        def wait(self, timeout):
            raise KeyboardInterrupt

    with served(sandbox_app()) as base:
        payment, pacer = guided(base)
        catcher = Interrupted(base + "/v2/auth", lambda return_url: payment.auth_form(payment.ord_no, return_url))
        waited, inquiry = payment.run(lambda url, ord_no: None, catcher)
    assert waited.comparison.differences == ("the tester stopped the wait (Ctrl-C) before a result arrived",)
    assert inquiry.request["ordNo"] == payment.ord_no and pacer.sent == 1
