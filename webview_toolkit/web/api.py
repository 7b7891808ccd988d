"""JSON API: create, list and read orders and their history, cancel them (`/api/orders…`).

Every error under the API's prefix, routing ones (404, 405) included, is one shape:
`{"error": "<one line>", "fields": {name: problem}}`.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .. import expiry, idempotency, vbank
from ..guards import token_matches
from ..kispg import specs
from ..payments import PaymentError
from ..lifecycle import OrderStatus
from ..records import iso
from ..store import new_ord_no
from .edge import external_base
from .extensions import payments, store
from .order_input import encode_cursor, list_query, order_problems, order_values, problems_message

PREFIX = "/api"
bp = Blueprint("api", __name__)


def bearer(setting: str):
    """Require `Authorization: Bearer <token>` when the setting is configured (always for admin)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = current_app.config.get(setting)
            if token or setting == "WEBVIEW_ADMIN_TOKEN":
                if not token_matches(request.headers.get("Authorization"), token):
                    return error(401, f"a valid bearer token ({setting}) is required")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def error(status: int, message: str, fields: dict | None = None):
    """The API's one error shape, with this status."""
    return jsonify({"error": message, "fields": fields or {}}), status


def init_errors(app: Flask, api_prefix: str) -> None:
    """Answer HTTP errors under the API's prefix (404 and 405 from routing too) in the API's shape."""
    def handle(exc: HTTPException):
        path = request.path
        if (exc.code or 500) < 400 or (path != api_prefix and not path.startswith(api_prefix + "/")):
            # Redirects stay redirects; the rest of the app (a host's own pages) keeps its error pages.
            return exc
        return error(exc.code or 500, exc.description if exc.code != 500 else "internal error")
    app.register_error_handler(HTTPException, handle)


def _created_response(ord_no: str) -> tuple[int, dict]:
    return 201, {"ordNo": ord_no, "status": OrderStatus.CREATED, "environment": current_app.config["KISPG_ENV"],
                 "checkoutUrl": external_base() + url_for("checkout.page", ord_no=ord_no)}


def _merchant_order_id_taken(merchant_order_id: str | None):
    taken = store().get_by_merchant_order_id(merchant_order_id) if merchant_order_id else None
    if taken is None:
        return None
    return error(409, f"merchantOrderId {merchant_order_id!r} is already used by order {taken.ord_no}",
                 {"merchantOrderId": f"already used by order {taken.ord_no}"})


@bp.post("/orders")
@bearer("WEBVIEW_API_TOKEN")
def create_order():
    """Create an order from JSON; 201 with ordNo and checkoutUrl, 400 naming each bad field.

    With an `Idempotency-Key` header, a repeat of the same body gets the first response again
    (and `Idempotency-Replayed: true`); another body with that key is a 409.
    """
    body = request.get_json(silent=True)
    key = request.headers.get("Idempotency-Key")
    problems = order_problems(body)
    if key is not None and idempotency.key_problem(key):
        problems["Idempotency-Key"] = idempotency.key_problem(key)
    if problems:
        return error(400, problems_message(problems), problems)
    external_base()  # before the insert: a refused Host must leave no order behind
    values = {"ord_no": new_ord_no(), "user_ip": request.remote_addr,
              "environment": current_app.config["KISPG_ENV"], **order_values(body)}
    try:
        if key is None:
            status, answer, replayed = *_created_response(store().create(**values).ord_no), False
        else:
            status, answer, replayed = idempotency.create_once(
                store(), key, idempotency.fingerprint(body), values, _created_response)
    except idempotency.IdempotencyConflict as exc:
        return error(409, str(exc), {"Idempotency-Key": "already used with a different request body"})
    except IntegrityError:
        taken = _merchant_order_id_taken(values.get("merchant_order_id"))
        if taken is None:
            raise
        return taken
    response = jsonify(answer)
    if replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return response, status


@bp.get("/orders")
@bearer("WEBVIEW_API_TOKEN")
def list_orders():
    """Orders newest first, filtered; `nextCursor` fetches the next page (null on the last)."""
    query, problems = list_query(request.args)
    if problems:
        return error(400, "invalid query: " + "; ".join(f"{k} {v}" for k, v in sorted(problems.items())), problems)
    limit = query.pop("limit")
    found = store().page(limit=limit + 1, **query)
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].ord_no) if len(found) > limit else None
    return jsonify(orders=[order.as_dict(store().attempts(order.ord_no)) for order in page],
                   nextCursor=next_cursor)


@bp.get("/orders/<ord_no>")
@bearer("WEBVIEW_API_TOKEN")
def get_order(ord_no: str):
    """The order's state as JSON; 404 when there is none."""
    order = store().get(ord_no)
    if order is None:
        return error(404, f"no order {ord_no!r}")
    if expiry.expire_if_due(store(), order, current_app.config["WEBVIEW_ORDER_TTL"]):
        order = store().get(ord_no)
    return jsonify(order.as_dict(store().attempts(ord_no)))


@bp.get("/orders/<ord_no>/events")
@bearer("WEBVIEW_API_TOKEN")
def order_events(ord_no: str):
    """The order's whole history, oldest first: every state change, refusal, cancel and webhook sent."""
    if store().get(ord_no) is None:
        return error(404, f"no order {ord_no!r}")
    history = [{"kind": e["kind"], "at": iso(e["at"]), "detail": e["detail"]} for e in store().events(ord_no)]
    return jsonify(ordNo=ord_no, events=history)


@bp.post("/orders/<ord_no>/cancel")
@bearer("WEBVIEW_ADMIN_TOKEN")
def cancel_order(ord_no: str):
    """Cancel all (or JSON `amount` of) a paid order, or close an unpaid virtual account; 4xx saying why not.

    A paid virtual account needs refundBankCd, refundAccnt and refundNm (the shopper's account).
    """
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        # A typo in the body must not read as "no amount", which cancels everything.
        return error(400, "body must be a JSON object (or empty, to cancel the whole remaining amount)",
                     {"(body)": "must be a JSON object"})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        return error(400, "body must be a JSON object", {"(body)": "must be a JSON object"})
    amount, reason = body.get("amount"), body.get("reason", "")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return error(400, "amount must be an integer number of won", {"amount": "must be an integer"})
    if amount is not None and amount < 1:
        return error(400, "amount must be at least 1", {"amount": "must be at least 1"})
    # The guide's canMsg row: 100 bytes, and encodable (a lone surrogate from JSON is not).
    if not isinstance(reason, str) or specs.field_problem("cancel_request", "canMsg", reason):
        return error(400, "reason must be a string of at most 100 bytes", {"reason": "at most 100 bytes"})
    # A refund after a virtual account was paid in goes to the shopper's account (§3.3.1).
    refund, problems = vbank.refund_account(body)
    if problems:
        return error(400, "invalid refund account: " + ", ".join(f"{k} {v}" for k, v in sorted(problems.items())),
                      problems)
    try:
        order = payments().cancel(ord_no, amount, reason, refund=refund)
    except PaymentError as exc:
        return error(exc.status, str(exc))
    return jsonify(order.as_dict(store().attempts(ord_no)))


@bp.post("/orders/<ord_no>/reconcile")
@bearer("WEBVIEW_ADMIN_TOKEN")
def reconcile_order(ord_no: str):
    """Ask KISPG what became of an order stuck in approving, unknown or cancelling, or one needing review."""
    try:
        order = payments().reconcile(ord_no, review=True)
    except PaymentError as exc:
        return error(exc.status, str(exc))
    return jsonify(order.as_dict(store().attempts(ord_no)))
