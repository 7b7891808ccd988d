"""POST /v2/auth and the pay window: check the form, let the shopper choose, launch the app, end it (ending.py)."""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping


from flask import render_template, request

from .. import result_codes
from ..signing import edi_date_now, sign
from .checks import Refusal, check_fields, check_signed, decode_form, merchant, state
from ...registry import launch_url
from .api import record_payment
from .ending import render_ending, self_approves
from .launch import app_for_card, card_choices, easypay_choices, find_app, platform_of
from .state import AuthRecord, PendingWindow

SANDBOX_FIELDS = ("sandboxAction", "sandboxCardCode")
ACTIONS = ("approve", "fail", "cancel")
METHODS = ("card", "bank", "vacnt")
DEFAULT_CARD = "04"


def auth() -> tuple[str, int] | str:
    """Check the auth form; answer at once for sandboxAction, else open the pay window."""
    sandbox = state()
    try:
        raw, charset = decode_form()
        action, card_code = raw.pop("sandboxAction", ""), raw.pop("sandboxCardCode", "")
        fields = check_fields("auth_request", raw, charset)
        check_signed(fields, "goodsAmt")
        if not fields["returnUrl"].startswith(("https://", "http://")):
            raise Refusal(result_codes.INVALID_FIELD, "입력값 형식 오류입니다.(returnUrl)")
        if sandbox.ord_no_used(fields["ordNo"]):
            # Seen from KISPG after an approval and on a retry with a failed attempt's ordNo (KISPG_FACTS.md,
            # Stevewon/live-commerce-platform b146ea9): "MOID 중복 또는 이미 처리된 주문".
            raise Refusal(result_codes.DUPLICATE_ORDER)
        if action and action not in ACTIONS:
            raise Refusal(result_codes.INVALID_FIELD, "입력값 형식 오류입니다.(sandboxAction)")
    except Refusal as refusal:
        sandbox.record_call("auth", None, _raw_ord_no(), refusal.result_cd, 400)
        return _error(refusal.result_cd, refusal.result_msg), 400
    sandbox.record_call("auth", None, fields["ordNo"], None, 200)
    method = fields.get("payMethod", "").lower()
    window = PendingWindow(fields=fields, charset=charset, opened=sandbox.now(),
                           method=method if method in METHODS else "")
    if action:
        window = replace(window, method=window.method or "card", card_code=card_code or DEFAULT_CARD)
        return _finish(window, action)
    token = sandbox.open_window(window)
    registry = sandbox.registry()
    return render_template("kispg_sandbox/pay_window.html", token=token, fields=fields,
                           method=window.method, cards=card_choices(registry),
                           easypays=easypay_choices(registry), registry_ok=registry is not None)


def choose() -> tuple[str, int] | str:
    """Remember the shopper's choice and show the launch page with approve / fail / cancel."""
    sandbox = state()
    token = request.form.get("token", "")
    with sandbox.lock:
        window = sandbox.windows.get(token)
        if window is None:
            return _error(result_codes.AUTH_FAILED, "결제창이 만료되었습니다."), 400
        registry = sandbox.registry()
        if request.form.get("cardCode"):
            code = request.form["cardCode"]
            app = app_for_card(registry, code)
            window = replace(window, method="card", card_code=code, app_id=app.id if app else "")
        elif request.form.get("easyPay"):
            app = find_app(registry, request.form["easyPay"])
            if app is None:
                return _error(result_codes.AUTH_FAILED, "알 수 없는 간편결제입니다."), 400
            window = replace(window, method="card", app_id=app.id,
                             easypay_code=app.easypay_codes[0] if app.easypay_codes else "")
        elif request.form.get("method") in ("bank", "vacnt"):
            window = replace(window, method=request.form["method"])
        else:
            return _error(result_codes.AUTH_FAILED, "결제수단을 선택하세요."), 400
        sandbox.windows[token] = window
    app = find_app(registry, window.app_id)
    platform = platform_of(request.headers.get("User-Agent", ""))
    return render_template("kispg_sandbox/launch.html", token=token, fields=window.fields, app=app,
                           platform=platform, launch_url=launch_url(app, platform) if app else None, window=window)


def finish() -> tuple[str, int] | str:
    """Close the window with the shopper's action: postMessage to the PC page around it, else post to returnUrl."""
    sandbox = state()
    action = request.form.get("action", "")
    with sandbox.lock:
        window = sandbox.windows.pop(request.form.get("token", ""), None)
    if window is None or action not in ACTIONS:
        return _error(result_codes.AUTH_FAILED, "결제창이 만료되었습니다."), 400
    return _finish(window, action)


def _finish(window: PendingWindow, action: str) -> str:
    sandbox = state()
    fields = window.fields
    if action != "approve":
        result_cd = result_codes.AUTH_FAILED if action == "fail" else result_codes.AUTH_CANCELLED
        result = {"resultCd": result_cd, "resultMsg": result_codes.MESSAGES[result_cd]}
        with sandbox.lock:
            sandbox.failed_ord_nos.add(fields["ordNo"])
    else:
        result = _authenticate(window)
    sandbox.record_call("auth_result", result.get("tid"), fields["ordNo"], result["resultCd"], 200)
    return render_ending(fields, window.charset, result)


def _authenticate(window: PendingWindow) -> dict[str, str]:
    """Record a successful authentication (approved at once without payReqType=1); the returnUrl fields."""
    sandbox = state()
    fields = window.fields
    mid, key = merchant()
    method = window.method or "card"
    tid = sandbox.new_tid(mid, method, result_codes.TID_KIND_PAYMENT)
    record = AuthRecord(tid=tid, ord_no=fields["ordNo"], amt=int(fields["goodsAmt"]), pay_method=method,
                        card_code=window.card_code if method == "card" else "",
                        easypay_code=window.easypay_code, goods_nm=fields["goodsNm"],
                        ord_nm=fields["ordNm"], mbs_reserved=fields.get("mbsReserved", ""))
    result_cd = result_codes.AUTH_OK
    with sandbox.lock:
        sandbox.auths[tid] = record
        if self_approves(fields):
            result_cd = record_payment(record).result_cd
    edi_date = edi_date_now(sandbox.now())
    return {"resultCd": result_cd, "resultMsg": result_codes.MESSAGES[result_cd], "payMethod": method,
            "tid": tid, "ordNo": record.ord_no, "amt": str(record.amt), "mbsReserved": record.mbs_reserved,
            "ediDate": edi_date, "encData": sign(mid, edi_date, record.amt, key)}


def _error(result_cd: str, result_msg: str) -> str:
    return render_template("kispg_sandbox/error.html", result_cd=result_cd, result_msg=result_msg)


def _raw_ord_no() -> str | None:
    """The ordNo of the posted form, for the call log, even when the form is refused."""
    value: Mapping[str, str] = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    try:
        return value.get("ordNo")
    except UnicodeDecodeError:
        return None
