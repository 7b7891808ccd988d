"""`POST /kispg/return`: the returnUrl. Verify the auth result, approve once, show the result."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..payments import PaymentError
from .extensions import payments

bp = Blueprint("returns", __name__)

RETURN_PATH = "/kispg/return"
# The per-checkout token's query parameter in returnUrl (ordNo names the attempt KISPG saw).
TOKEN_PARAM = "t"


@bp.post(RETURN_PATH)
def kispg_return():
    """Hand the posted result to the payment flow; 303 to the result page, or a refusal page."""
    try:
        outcome = payments().handle_return(request.form.to_dict(flat=True), request.args.get("ordNo"),
                                           request.args.get(TOKEN_PARAM))
    except PaymentError as exc:
        current_app.logger.warning("returnUrl refused for order %s: %s", exc.ord_no, exc)
        return render_template("errors/message.html", title="결제 결과를 확인할 수 없습니다",
                               message="결제 결과가 주문과 일치하지 않아 승인하지 않았습니다. "
                                       "결제가 진행되지 않았으니 다시 시도해 주세요.",
                               ), exc.status
    return redirect(url_for("results.page", ord_no=outcome.order.ord_no), code=303)
