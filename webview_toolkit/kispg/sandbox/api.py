"""POST /v2/payment, /v2/cancel and /v2/order: JSON in, JSON out, refusals as KISPG-style codes."""
from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Callable

from flask import Response, current_app, jsonify, redirect, request, url_for

from .. import result_codes
from ..specs import SPECS
from ..inprocess import FAULT_HEADER
from .checks import Refusal, check_fields, check_signed, state
from .delays import CONFIG_KEY as DELAY_KEY
from ..answers import CancelEntry
from .state import AuthRecord, Payment

APP_DTM = "%Y%m%d%H%M%S"
# The HTTP status /_calls records for a fault answered before the request is read.
FAULT_STATUS = MappingProxyType({"error500": 500, "firewall": 302})
# The bank of every sandbox virtual account (§9 "004" 국민; the answer names it in fnNm, §3.2.2).
VBANK_CD = "004"


def payment() -> Response:
    """Approve an authenticated tid once, for exactly the authenticated amount."""
    return _endpoint("payment", "approval_request", "goodsAmt", _approve)


def cancel() -> Response:
    """Cancel all or part of an approved payment, keeping the remaining balance."""
    return _endpoint("cancel", "cancel_request", "canAmt", _cancel)


def order() -> Response:
    """Report a payment by tid (preferred) or ordNo, with trxStatus and cancelData."""
    return _endpoint("order", "inquiry_request", "goodsAmt", _inquire)


def _endpoint(name: str, spec: str, amount_field: str, handle: Callable[[dict[str, str]], dict[str, Any]]) -> Response:
    sandbox = state()
    delay = current_app.config.get(DELAY_KEY, {}).get(name)
    if delay:
        # Our own test aid (delays.py): before the lock, so slow calls wait side by side.
        sandbox.sleep(delay)
    if not request.is_json:
        sandbox.record_call(name, None, None, None, 415)
        return Response("Content-Type must be application/json", status=415, mimetype="text/plain")
    body = request.get_json(silent=True)
    fields = body if isinstance(body, dict) else {}
    tid, ord_no = _text(fields.get("tid")), _text(fields.get("ordNo"))
    fault = sandbox.take_fault(name)
    if fault is not None and fault.mode != "commit_then_timeout":
        sandbox.record_call(name, tid, ord_no, None, FAULT_STATUS.get(fault.mode, 200))
        return _faulty(fault.mode, fault.delay)
    try:
        if not isinstance(body, dict):
            raise Refusal(result_codes.INVALID_FIELD, "요청 본문이 JSON 객체가 아닙니다.")
        checked = check_fields(spec, fields, _text(fields.get("charset")) or "UTF-8")
        check_signed(checked, amount_field)
        with sandbox.lock:
            answer = handle(checked)
    except Refusal as refusal:
        answer = {"resultCd": refusal.result_cd, "resultMsg": refusal.result_msg}
    sandbox.record_call(name, answer.get("tid") or tid, answer.get("ordNo") or ord_no, answer["resultCd"], 200)
    if fault is not None:
        return _faulty("timeout", fault.delay)
    return jsonify(answer)


def firewall_notice() -> Response:
    """GET /firewall.html: where the firewall fault sends a server (the page is the sandbox's own wording)."""
    return Response("<html><body><h1>접근이 차단되었습니다</h1><p>등록되지 않은 IP에서 접근하였습니다. "
                    "KISPG에 서버 IP 등록을 요청하세요.</p></body></html>", status=200, mimetype="text/html")


def _faulty(mode: str, delay: float) -> Response:
    if mode == "firewall":
        # KISPG sends the request to kisvan.co.kr/firewall.html (Stevewon/live-commerce-platform 4507dcf);
        # the sandbox's own notice page keeps the redirect on this host (own choice).
        return redirect(url_for("kispg_sandbox.firewall_notice", _external=True), code=302)
    if mode == "error500":
        return Response("<html><body>500 Internal Server Error</body></html>", status=500, mimetype="text/html")
    if mode == "garbled":
        return Response('{"resultCd":"00', status=200, mimetype="application/json")
    # Over a socket the client's read timeout fires during the delay; in-process the header says so.
    state().sleep(delay)
    return Response("", status=504, headers={FAULT_HEADER: "timeout"})


def _approve(fields: dict[str, str]) -> dict[str, Any]:
    sandbox = state()
    auth = sandbox.auths.get(fields["tid"])
    if auth is None:
        raise Refusal(result_codes.UNKNOWN_TRANSACTION)
    if fields["tid"] in sandbox.payments or sandbox.payment_by_ord_no(auth.ord_no) is not None:
        raise Refusal(result_codes.DUPLICATE_ORDER)
    if int(fields["goodsAmt"]) != auth.amt:
        raise Refusal(result_codes.AMOUNT_MISMATCH)
    paid = record_payment(auth)
    return _payment_fields(paid, paid.result_cd)


def record_payment(auth: AuthRecord) -> Payment:
    """Approve an authentication (the caller holds the lock): by /v2/payment, or by KISPG itself."""
    sandbox = state()
    now = sandbox.now()
    vacnt = auth.pay_method == "vacnt"
    paid = Payment(auth=auth, result_cd=result_codes.SANDBOX_APPROVAL_CD.get(auth.pay_method, "3001"),
                   app_dtm=now.strftime(APP_DTM), app_no=f"{secrets.randbelow(10**8):08d}",
                   vacnt_no=f"5620{secrets.randbelow(10**10):010d}" if vacnt else "",
                   lmt_day=(now + timedelta(days=3)).strftime("%Y%m%d") if vacnt else "",
                   vbank_cd=VBANK_CD if vacnt else "")
    sandbox.put_payment(paid)
    return paid


def _cancel(fields: dict[str, str]) -> dict[str, Any]:
    sandbox = state()
    paid = sandbox.payments.get(fields["tid"])
    if paid is None:
        raise Refusal(result_codes.UNKNOWN_TRANSACTION)
    if fields["payMethod"].lower() != paid.auth.pay_method:
        raise Refusal(result_codes.INVALID_FIELD, "입력값 형식 오류입니다.(payMethod)")
    amount, partial = int(fields["canAmt"]), fields["partCanFlg"]
    if partial not in ("0", "1") or amount == 0:
        raise Refusal(result_codes.INVALID_FIELD,
                      f"입력값 형식 오류입니다.({'partCanFlg' if amount else 'canAmt'})")
    key = (fields["ediDate"], fields["canAmt"], partial)
    if key in paid.cancel_keys:
        raise Refusal(result_codes.DUPLICATE_CANCEL)
    if paid.remaining == 0:
        raise Refusal(result_codes.ALREADY_CANCELLED)
    if amount > paid.remaining:
        raise Refusal(result_codes.CANCEL_OVER_BALANCE)
    if partial == "0" and amount != paid.remaining:
        raise Refusal(result_codes.AMOUNT_MISMATCH)
    refund = [fields.get(n) for n in ("refundBankCd", "refundAccnt", "refundNm")]
    unpaid_account = paid.auth.pay_method == "vacnt" and not paid.deposited
    if unpaid_account and (partial == "1" or any(refund)):
        # Nothing was paid in: the account is closed whole, with nothing to refund (our choice).
        raise Refusal(result_codes.INVALID_FIELD,
                      f"입력값 형식 오류입니다.({'partCanFlg' if partial == '1' else 'refundAccnt'})")
    if paid.auth.pay_method == "vacnt" and paid.deposited and not all(refund):
        # §3.3.1: refundBankCd, refundAccnt, refundNm "환불일 때 필수".
        missing = ("refundBankCd", "refundAccnt", "refundNm")[[bool(v) for v in refund].index(False)]
        raise Refusal(result_codes.MISSING_FIELD, result_codes.missing_field_message(missing))
    if any(refund) and not all(refund):
        missing = ("refundBankCd", "refundAccnt", "refundNm")[[bool(v) for v in refund].index(False)]
        raise Refusal(result_codes.MISSING_FIELD, result_codes.missing_field_message(missing))
    result_cd = result_codes.REFUNDED if paid.auth.pay_method == "vacnt" and any(refund) else result_codes.CANCELLED
    row = CancelEntry(tid=sandbox.new_tid(paid.auth.tid[:10], paid.auth.pay_method, result_codes.TID_KIND_CANCEL),
                    cc_dtm=sandbox.now().strftime(APP_DTM), cc_amt=amount, remain_amt=paid.remaining - amount)
    sandbox.put_payment(replace(paid, cancels=paid.cancels + (row,), cancel_keys=paid.cancel_keys | {key}))
    return {"resultCd": result_cd, "resultMsg": result_codes.MESSAGES[result_cd], "payMethod": paid.auth.pay_method,
            "tid": paid.auth.tid, "appDtm": paid.app_dtm, "appNo": paid.app_no, "ordNo": paid.auth.ord_no,
            "amt": str(amount), "cancelYN": "Y", "mbsReserved": fields.get("mbsReserved", "")}


def _inquire(fields: dict[str, str]) -> dict[str, Any]:
    sandbox = state()
    if fields.get("tid"):
        paid = sandbox.payments.get(fields["tid"])
    else:
        paid = sandbox.payment_by_ord_no(fields["ordNo"])
    if paid is None:
        raise Refusal(result_codes.UNKNOWN_TRANSACTION)
    if int(fields["goodsAmt"]) != paid.auth.amt:
        raise Refusal(result_codes.AMOUNT_MISMATCH)
    listed = SPECS["inquiry_response"].names
    answer = {k: v for k, v in _payment_fields(paid, result_codes.INQUIRY_FOUND).items() if k in listed}
    if paid.remaining == 0:
        status = result_codes.TRX_CANCELLED
    elif paid.auth.pay_method == "vacnt" and not paid.deposited:
        status = result_codes.TRX_AWAITING_DEPOSIT
    else:
        status = result_codes.TRX_APPROVED
    rows = [{"tid": r.tid, "ccDtm": r.cc_dtm, "ccAmt": r.cc_amt, "remainAmt": r.remain_amt} for r in paid.cancels]
    answer.update(trxStatus=status, cancelYN="Y" if paid.remaining == 0 else "N",
                  cancelData=json.dumps(rows, separators=(",", ":")) if rows else "")
    return answer


def _payment_fields(paid: Payment, result_cd: str) -> dict[str, Any]:
    auth: AuthRecord = paid.auth
    registry = state().registry()
    tables = registry.codes if registry is not None else None
    is_card = auth.pay_method == "card"
    card_name = tables.name("card_company", auth.card_code) if tables and auth.card_code else None
    easy_name = tables.name("easypay", auth.easypay_code) if tables and auth.easypay_code else None
    vbank_name = tables.name("vbank", paid.vbank_cd) if tables and paid.vbank_cd else None
    bank_name = (vbank_name or "국민") if not is_card else ""
    return {
        "resultCd": result_cd, "resultMsg": result_codes.MESSAGES.get(result_cd, ""), "payMethod": auth.pay_method,
        "tid": auth.tid, "appDtm": paid.app_dtm, "appNo": paid.app_no, "ordNo": auth.ord_no,
        "goodsName": auth.goods_nm, "amt": str(auth.amt), "ordNm": auth.ord_nm,
        "fnNm": (card_name or "") if is_card else bank_name, "cancelYN": "N",
        "appCardCd": auth.card_code if is_card else "", "acqCardCd": auth.card_code if is_card else "",
        "quota": "00" if is_card else "", "nointFlg": "0", "usePointAmt": "0",
        "cardType": "0" if is_card else "", "authType": "02" if is_card else "",
        "cashCrctFlg": "0", "vacntNo": paid.vacnt_no, "lmtDay": paid.lmt_day, "socHpNo": "",
        "cardNo": "53692100****1234" if is_card else "", "mbsReserved": auth.mbs_reserved,
        "crctType": "0", "crctNo": "", "easyPayCd": auth.easypay_code, "easyPayNm": easy_name or "",
        "discountType": "00", "discountAmt": "0", "mbsFeeType": "00", "mbsFeeAmt": "0",
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
