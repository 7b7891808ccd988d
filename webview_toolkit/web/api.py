"""JSON API: create orders, read them, cancel them (`/api/orders…`)."""
from __future__ import annotations

import hmac
from functools import wraps

from flask import Blueprint, current_app, jsonify, request, url_for

from .. import vbank
from ..kispg import specs
from ..kispg.errors import FieldError
from ..payments import PaymentError
from ..store import new_ord_no
from .extensions import payments, store

bp = Blueprint("api", __name__, url_prefix="/api")

# API field → (store column, required); limits come from the guide's auth request table.
ORDER_FIELDS = {
    "goodsNm": ("goods_nm", True), "goodsAmt": ("goods_amt", True), "ordNm": ("ord_nm", True),
    "ordTel": ("ord_tel", True), "ordEmail": ("ord_email", False), "payMethod": ("pay_method", False),
    "mbsUsrId": ("mbs_usr_id", False),
}
PAY_METHODS = ("CARD", "BANK", "VACNT")


def bearer(setting: str):
    """Require `Authorization: Bearer <token>` when the setting is configured (always for admin)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = current_app.config.get(setting)
            if token or setting == "WEBVIEW_ADMIN_TOKEN":
                given = request.headers.get("Authorization", "")
                expected = f"Bearer {token}" if token else None
                if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
                    return _error(401, f"a valid bearer token ({setting}) is required")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _error(status: int, message: str, fields: dict | None = None):
    body = {"error": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


def order_problems(body: object) -> dict[str, str]:
    """Field → what is wrong with it, for a POST /api/orders body."""
    if not isinstance(body, dict):
        return {"(body)": "must be a JSON object"}
    # A name is echoed in the JSON answer: one with a lone surrogate (a valid JSON escape) must still encode.
    problems = {name.encode("utf-8", "backslashreplace").decode("utf-8"): "unknown field"
                for name in body if name not in ORDER_FIELDS}
    for name, (_, required) in ORDER_FIELDS.items():
        value = body.get(name)
        if value is None or value == "":
            if required:
                problems[name] = "is required"
            continue
        if name == "goodsAmt" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            problems[name] = f"must be a string, got {type(value).__name__}"
            continue
        if "\x00" in value:
            problems[name] = "must not contain NUL characters"
            continue
        if name == "payMethod" and value.upper() not in PAY_METHODS:
            problems[name] = f"must be one of {', '.join(PAY_METHODS)}"
            continue
        error = specs.field_problem("auth_request", name, value)
        if error:
            problems[name] = error
        elif name == "goodsAmt" and int(value) < 1:
            problems[name] = "must be at least 1"
    return problems


@bp.post("/orders")
@bearer("WEBVIEW_API_TOKEN")
def create_order():
    """Create an order from JSON; 201 with ordNo and checkoutUrl, 400 naming each bad field."""
    body = request.get_json(silent=True)
    problems = order_problems(body)
    if problems:
        return _error(400, "invalid order: " + ", ".join(f"{k} {v}" for k, v in sorted(problems.items())), problems)
    values = {column: body[name] for name, (column, _) in ORDER_FIELDS.items() if body.get(name) not in (None, "")}
    values["goods_amt"] = int(values["goods_amt"])
    if values.get("pay_method"):
        values["pay_method"] = values["pay_method"].upper()
    order = store().create(ord_no=new_ord_no(), user_ip=request.remote_addr, **values)
    return jsonify(ordNo=order.ord_no, status=order.status,
                   checkoutUrl=url_for("checkout.page", ord_no=order.ord_no, _external=True)), 201


@bp.get("/orders/<ord_no>")
@bearer("WEBVIEW_API_TOKEN")
def get_order(ord_no: str):
    """The order's state as JSON; 404 when there is none."""
    order = store().get(ord_no)
    if order is None:
        return _error(404, f"no order {ord_no!r}")
    return jsonify(order.as_dict(store().attempts(ord_no)))


@bp.post("/orders/<ord_no>/cancel")
@bearer("WEBVIEW_ADMIN_TOKEN")
def cancel_order(ord_no: str):
    """Cancel all (or JSON `amount` of) a paid order, or close an unpaid virtual account; 4xx saying why not.

    A paid virtual account needs refundBankCd, refundAccnt and refundNm (the shopper's account).
    """
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        # A typo in the body must not read as "no amount", which cancels everything.
        return _error(400, "body must be a JSON object (or empty, to cancel the whole remaining amount)")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    amount, reason = body.get("amount"), body.get("reason", "")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return _error(400, "amount must be an integer number of won", {"amount": "must be an integer"})
    # The guide's canMsg row: 100 bytes, and encodable (a lone surrogate from JSON is not).
    if not isinstance(reason, str) or specs.field_problem("cancel_request", "canMsg", reason):
        return _error(400, "reason must be a string of at most 100 bytes", {"reason": "at most 100 bytes"})
    # A refund after a virtual account was paid in goes to the shopper's account (§3.3.1).
    refund, problems = vbank.refund_account(body)
    if problems:
        return _error(400, "invalid refund account: " + ", ".join(f"{k} {v}" for k, v in sorted(problems.items())),
                      problems)
    try:
        order = payments().cancel(ord_no, amount, reason, refund=refund)
    except PaymentError as exc:
        return _error(exc.status, str(exc))
    return jsonify(order.as_dict(store().attempts(ord_no)))


@bp.post("/orders/<ord_no>/reconcile")
@bearer("WEBVIEW_ADMIN_TOKEN")
def reconcile_order(ord_no: str):
    """Ask KISPG what became of an order stuck in approving, unknown or cancelling, or one needing review."""
    try:
        order = payments().reconcile(ord_no, review=True)
    except PaymentError as exc:
        return _error(exc.status, str(exc))
    return jsonify(order.as_dict(store().attempts(ord_no)))
