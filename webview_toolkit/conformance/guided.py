"""The guided payment (`--pay`): a 1,004-won checkout a tester pays on a phone, then approval, inquiry, cancel.

Each step is also played against the in-process sandbox with the same fields (the
sandbox's own tid where a tid is needed) and compared. Money first: whenever the live
service may hold an approved payment, the run ends with a cancel.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from ..kispg.result_codes import AUTH_OK, DEFAULT_SUCCESS, TRX_APPROVED
from ..kispg.errors import SignatureError
from ..kispg.signing import KST, check_signature, edi_date_now, sign
from ..kispg.testing import parse_result_form
from .catcher import ResultCatcher
from .compare import CARD_DEPENDENT, NOT_COMPARABLE, Comparison, compare, mask, mask_answer
from .exchange import Answer, Endpoint
from .runner import Merchant

AMOUNT = "1004"
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the guided payment: what was sent, both answers (masked), the verdict, and findings."""

    id: str
    title_en: str
    title_ko: str
    request: Mapping[str, Any]
    target: Answer | None
    reference: Answer | None
    comparison: Comparison
    findings: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The step as the report's stable keys."""
        return {"id": self.id, "title_en": self.title_en, "title_ko": self.title_ko,
                "request": dict(self.request), "live": self.target.as_dict() if self.target else None,
                "sandbox": self.reference.as_dict() if self.reference else None,
                "verdict": self.comparison.verdict, "differences": list(self.comparison.differences),
                "findings": dict(self.findings)}


@dataclass(frozen=True, slots=True)
class GuidedPayment:
    """Where the tester pays and how long we wait for them."""

    target: Endpoint
    reference: Endpoint
    merchant: Merchant
    wait_seconds: float
    host: str = "127.0.0.1"
    port: int = 0
    public_base: str | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(KST)
    ord_no: str = field(default_factory=lambda: new_ord_no())

    def auth_form(self, ord_no: str, return_url: str) -> dict[str, str]:
        """The signed §3.1.1 auth form for the 1,004-won mobile card checkout."""
        edi_date = edi_date_now(self.clock())
        return {"payMethod": "card", "trxCd": "0", "mid": self.merchant.mid, "goodsNm": "적합성 점검",
                "currencyType": "KRW", "ordNo": ord_no, "goodsAmt": AMOUNT, "ordNm": "점검", "ordTel": "01000000000",
                "model": "MOB", "channel": "0002", "ediDate": edi_date, "returnUrl": return_url,
                "encData": sign(self.merchant.mid, edi_date, AMOUNT, self.merchant.key),
                "charset": "UTF-8", "payReqType": "1"}

    def catcher(self) -> ResultCatcher:
        """The returnUrl server, bound now (OSError if the port is taken) and started by run()."""
        auth_url = self.target.base_url.rstrip("/") + "/v2/auth"
        return ResultCatcher(auth_url, lambda return_url: self.auth_form(self.ord_no, return_url), host=self.host,
                             port=self.port, public_base=self.public_base)

    def run(self, on_ready: Callable[[str, str], None], catcher: ResultCatcher | None = None) -> list[StepResult]:
        """Serve the checkout, call on_ready(url, ordNo), wait for the result, then approve, inquire, cancel."""
        ord_no = self.ord_no
        with catcher or self.catcher() as catcher:
            on_ready(catcher.base_url + "/", ord_no)
            reason = f"no result reached returnUrl within {self.wait_seconds:g} s"
            try:
                live_result = catcher.wait(self.wait_seconds)
            except KeyboardInterrupt:
                # The tester gave up: still find out whether KISPG holds a payment, and report.
                live_result, reason = None, "the tester stopped the wait (Ctrl-C) before a result arrived"
            form = catcher.form
        if live_result is None or form is None:
            waited = StepResult("return_url", "auth result posted to returnUrl", "returnUrl로 받은 인증 결과",
                                {"ordNo": ord_no}, None, None, Comparison(NOT_COMPARABLE, (reason,)))
            return [waited] + self._after_silence(ord_no)
        first, sandbox_tid = self._return_step(form, live_result)
        return [first] + self._after_auth(live_result, sandbox_tid)

    def _after_silence(self, ord_no: str) -> list[StepResult]:
        """No result came: ask once by ordNo whether KISPG holds a payment anyway, and cancel it if so."""
        inquiry = self._step("inquiry", "inquiry by ordNo after no result", "결과 없음: 주문번호로 조회", "/v2/order",
                             lambda _: self._signed({"mid": self.merchant.mid, "ordNo": ord_no, "goodsAmt": AMOUNT}),
                             ord_no, ord_no)
        body = _body(inquiry.target)
        steps = [_with(inquiry, {"trx_status": body.get("trxStatus")})]
        if body.get("trxStatus") == TRX_APPROVED and body.get("tid"):
            method = str(body.get("payMethod") or "card").lower()
            steps.append(self._cancel(str(body["tid"]), "", method))
        return steps

    def _return_step(self, form: Mapping[str, str], live: dict[str, str]) -> tuple[StepResult, str]:
        """The returnUrl step, and the tid the sandbox authenticated for the same form ('' if none)."""
        action = "approve" if live.get("resultCd") == AUTH_OK or self._approved(live) else "fail"
        page = self.reference.session.post(self.reference.base_url + "/v2/auth",
                                           data={**form, "sandboxAction": action}, allow_redirects=False,
                                           timeout=self.reference.timeout)
        try:
            sandbox: dict[str, str] | None = parse_result_form(page.text)[1]
        except ValueError:
            sandbox = None
        live_answer = Answer(status=200, content_type=FORM_TYPE, json=live)
        sandbox_answer = (Answer(status=200, content_type=FORM_TYPE, json=sandbox) if sandbox is not None
                          else Answer(status=page.status_code, content_type=page.headers.get("Content-Type", ""),
                                      text=page.text[:500]))
        findings = {"live_encdata_verifies": self._verifies(live), "sandbox_encdata_verifies":
                    self._verifies(sandbox) if sandbox is not None else None}
        step = StepResult("return_url", "auth result posted to returnUrl", "returnUrl로 받은 인증 결과",
                          mask({k: v for k, v in form.items() if k != "returnUrl"}), mask_answer(live_answer),
                          mask_answer(sandbox_answer), compare(mask_answer(live_answer), mask_answer(sandbox_answer)),
                          findings)
        return step, (sandbox or {}).get("tid", "")

    def _after_auth(self, live: dict[str, str], sandbox_tid: str) -> list[StepResult]:
        tid, method = live.get("tid", ""), (live.get("payMethod") or "card").lower()
        if not tid:
            return []
        steps: list[StepResult] = []
        approved = self._approved(live)
        if live.get("resultCd") == AUTH_OK:
            step = self._step("approval", "approval (/v2/payment)", "승인 (/v2/payment)", "/v2/payment",
                              lambda t: self._signed({"mid": self.merchant.mid, "tid": t, "goodsAmt": AMOUNT,
                                                      "charset": "UTF-8"}), tid, sandbox_tid)
            code = _result_cd(step.target)
            approved = code is not None and DEFAULT_SUCCESS.is_success("approval", method, code)
            steps.append(_with(step, {"pay_method": method, "success_code": code, "counted_as_success": approved}))
        inquiry = self._step("inquiry", "inquiry (/v2/order)", "조회 (/v2/order)", "/v2/order",
                             lambda t: self._signed({"mid": self.merchant.mid, "tid": t, "goodsAmt": AMOUNT}),
                             tid, sandbox_tid)
        status = _body(inquiry.target).get("trxStatus")
        findings: dict[str, Any] = {"trx_status": status}
        if status is None and not approved and steps and steps[0].target is not None and steps[0].target.error:
            findings["attention"] = (f"the approval's outcome is unknown: ask KISPG about ordNo {live.get('ordNo')} "
                                     "and cancel it if approved / 승인 결과를 알 수 없습니다: 주문번호로 조회 후 취소하세요")
        steps.append(_with(inquiry, findings))
        if approved or status == TRX_APPROVED:
            steps.append(self._cancel(tid, sandbox_tid, method))
        return steps

    def _cancel(self, tid: str, sandbox_tid: str, method: str) -> StepResult:
        """Cancel the whole 1,004 won: whenever the live side may hold an approval, the run ends here."""
        return self._step("cancel", "cancel (/v2/cancel)", "취소 (/v2/cancel)", "/v2/cancel",
                          lambda t: self._signed({"payMethod": method, "tid": t, "mid": self.merchant.mid,
                                                  "canAmt": AMOUNT, "canMsg": "conformance probe",
                                                  "partCanFlg": "0", "charset": "UTF-8"}), tid, sandbox_tid)

    def _step(self, id: str, title_en: str, title_ko: str, path: str,
              fields_for: Callable[[str], dict[str, str]], tid: str, sandbox_tid: str) -> StepResult:
        live_fields = fields_for(tid)
        live = self.target.post(path, live_fields)
        sandbox = self.reference.post(path, fields_for(sandbox_tid)) if sandbox_tid else Answer(
            error="the sandbox has no tid for this step (its auth did not succeed)")
        return StepResult(id, title_en, title_ko, mask(live_fields), mask_answer(live), mask_answer(sandbox),
                          compare(mask_answer(live), mask_answer(sandbox), CARD_DEPENDENT))

    def _signed(self, fields: dict[str, str]) -> dict[str, str]:
        edi_date = edi_date_now(self.clock())
        amount = fields.get("canAmt") or fields["goodsAmt"]
        return {**fields, "ediDate": edi_date, "encData": sign(self.merchant.mid, edi_date, amount, self.merchant.key)}

    def _verifies(self, fields: Mapping[str, str]) -> bool | None:
        """Whether the posted encData is SHA-256(mid + ediDate + amt + key); None when it carries none."""
        if not fields.get("encData") or not fields.get("ediDate"):
            return None
        try:
            check_signature(fields["encData"], self.merchant.mid, fields["ediDate"], fields.get("amt", ""),
                            self.merchant.key)
        except SignatureError:
            return False
        return True

    @staticmethod
    def _approved(fields: Mapping[str, str]) -> bool:
        """An approval-success code on returnUrl: KISPG approved by itself (reported for payReqType≠1)."""
        code = fields.get("resultCd", "")
        return code != AUTH_OK and DEFAULT_SUCCESS.is_success("approval", fields.get("payMethod"), code)


def new_ord_no() -> str:
    """A fresh ordNo for one guided payment (KISPG wants a new one per attempt)."""
    return f"wvtk-conf-{datetime.now(KST):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def _body(answer: Answer | None) -> dict[str, Any]:
    return answer.json if answer is not None and isinstance(answer.json, dict) else {}


def _result_cd(answer: Answer | None) -> str | None:
    code = _body(answer).get("resultCd")
    return str(code) if code else None


def _with(step: StepResult, findings: Mapping[str, Any]) -> StepResult:
    return StepResult(step.id, step.title_en, step.title_ko, step.request, step.target, step.reference,
                      step.comparison, {**step.findings, **findings})
