"""Virtual accounts in the sandbox: the account page, deposits, and a deadline a test can move.

`POST /_deposit` {tid, amount} pays the whole amount in (a partial or larger deposit is refused:
our choice, as KISPG's handling of a wrong amount is not public); afterwards `/v2/order` says `승인`
and a notification goes to the merchant (notify.py). A deposit after the end of `lmtDay` (KST) is
refused, so an expiry can be tested; `POST /_vacnt/<tid>/deadline` {lmtDay} moves it.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from flask import Response, current_app, jsonify, render_template, request, url_for

from .. import result_codes
from ..signing import deposit_deadline, edi_date_now
from .checks import merchant, state
from .state import Payment

DEPOSIT_CD = "4110"  # NICE family "가상계좌 입금" (KISPG_FACTS.md "Notifications"); unverified for KISPG
DEPOSIT_MSG = "가상계좌 입금 완료"  # our wording


class DepositRefused(Exception):
    """A deposit the sandbox's bank would not take."""


def account_page(tid: str):
    """The issued account with a button that deposits the amount."""
    paid = state().payments.get(tid)
    if paid is None or paid.auth.pay_method != "vacnt":
        return render_template("kispg_sandbox/error.html", result_cd=result_codes.UNKNOWN_TRANSACTION,
                               result_msg="가상계좌가 없습니다."), 404
    return render_template("kispg_sandbox/vacnt.html", paid=paid, bank=_bank_name(paid.vbank_cd),
                           message=request.args.get("message", ""))


def deposit():
    """Pay the whole amount into an issued account; JSON {tid, amount} or the account page's form."""
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    body = body if isinstance(body, dict) else {}
    tid, amount = str(body.get("tid") or ""), body.get("amount")
    try:
        notice = _deposit(tid, amount)
    except DepositRefused as refused:
        if not request.is_json and tid in state().payments:
            return _back_to_page(tid, f"입금 거절: {refused}")
        return jsonify(error=str(refused)), 400
    if not request.is_json:
        return _back_to_page(tid, "입금되었습니다.")
    return jsonify(tid=tid, deposited=True, notification=notice.as_dict() if notice else None)


def move_deadline(tid: str):
    """Set an account's lmtDay (yyyyMMdd), for tests of expiry."""
    body = request.get_json(silent=True) or {}
    lmt_day = str(body.get("lmtDay") or "")
    sandbox = state()
    with sandbox.lock:
        paid = sandbox.payments.get(tid)
        if paid is None or paid.auth.pay_method != "vacnt":
            return jsonify(error=f"no virtual account under tid {tid!r}"), 404
        if len(lmt_day) != 8 or deposit_deadline(lmt_day) is None:
            return jsonify(error="lmtDay must be a date as yyyyMMdd"), 400
        sandbox.put_payment(replace(paid, lmt_day=lmt_day))
    return jsonify(tid=tid, lmtDay=lmt_day)


def notices():
    """The notifications sent or waiting, oldest first."""
    notifier = state().notifier
    return jsonify([n.as_dict() for n in notifier.notices] if notifier else [])


def deliver_notices():
    """Send every notification that is due now (resends included)."""
    notifier = state().notifier
    return jsonify([n.as_dict() for n in notifier.deliver_due()] if notifier else [])


def _deposit(tid: str, amount):
    sandbox = state()
    with sandbox.lock:
        paid = sandbox.payments.get(tid)
        if paid is None or paid.auth.pay_method != "vacnt":
            raise DepositRefused(f"no virtual account under tid {tid!r}")
        if paid.deposited:
            raise DepositRefused("this account was already paid in")
        if paid.remaining < paid.auth.amt:
            raise DepositRefused("this account was closed")
        if isinstance(amount, bool) or not str(amount or "").isdigit():
            raise DepositRefused("amount must be a whole number of won")
        if int(amount) != paid.auth.amt:
            raise DepositRefused(f"the amount must be exactly {paid.auth.amt}: "
                                 f"{'partial' if int(amount) < paid.auth.amt else 'over'}-deposits are refused")
        if _past(paid.lmt_day, sandbox.now()):
            raise DepositRefused(f"the deadline {paid.lmt_day} has passed")
        now = sandbox.now()
        paid = replace(paid, deposited=now.strftime("%Y%m%d%H%M%S"))
        sandbox.put_payment(paid)
        notifier, url = sandbox.notifier, sandbox.noti_url
    if notifier is None or not url:
        return None
    notice = notifier.enqueue(url, notice_fields(paid, now))
    notifier.deliver_due()  # the first send at once; resends follow the back-off
    return notifier.get(notice.id)


def notice_fields(paid: Payment, now: datetime) -> dict[str, str]:
    """The deposit notice, in the field names of the approval answer and KORPAY's notification spec."""
    mid, key = merchant()
    edi_date = edi_date_now(now)
    amount = str(paid.auth.amt)
    return {
        "mid": mid, "tid": paid.auth.tid, "ordNo": paid.auth.ord_no, "amt": amount, "payMethod": "vacnt",
        "resultCd": DEPOSIT_CD, "resultMsg": DEPOSIT_MSG, "cancelYN": "N", "appDtm": paid.deposited,
        "appNo": paid.app_no, "goodsName": paid.auth.goods_nm, "ordNm": paid.auth.ord_nm,
        "vacntNo": paid.vacnt_no, "fnNm": _bank_name(paid.vbank_cd), "lmtDay": paid.lmt_day,
        "ediDate": edi_date, "charSet": "UTF-8",
        "hashStr": hashlib.sha256(f"{mid}{edi_date}{amount}{key}".encode("utf-8")).hexdigest(),
    }


def _bank_name(code: str) -> str:
    registry = state().registry()
    return (registry.codes.name("vbank", code) if registry is not None else None) or code


def _past(lmt_day: str, now: datetime) -> bool:
    deadline = deposit_deadline(lmt_day)
    return deadline is not None and now > deadline


def _back_to_page(tid: str, message: str) -> Response:
    target = url_for(".account_page", tid=tid, message=message)
    return current_app.redirect(target, 303)
