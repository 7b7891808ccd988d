"""`POST /kispg/return`: the returnUrl. Verify the auth result, approve once, show the result."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from .. import expiry
from ..kispg.result_codes import AUTH_OK
from ..logs import log_order_event
from ..payments import PaymentError
from .extensions import payments, store

bp = Blueprint("returns", __name__)

RETURN_PATH = "/kispg/return"
# The per-checkout token's query parameter in returnUrl (ordNo names the attempt KISPG saw).
TOKEN_PARAM = "t"


@bp.post(RETURN_PATH)
def kispg_return():
    """Hand the posted result to the payment flow; 303 to the result page, or a refusal page."""
    kispg_ord_no, token = request.args.get("ordNo"), request.args.get(TOKEN_PARAM)
    try:
        # One read of the attempt and its order, its token checked, for both the expiry and the flow.
        returning = payments().returning(kispg_ord_no, token)
        order = returning[1]
        # Only an authentication waits for our approval: any other result (KISPG approved by itself, or a
        # failure it must confirm) goes to the payment flow, expired or not, so that no charge is ignored.
        if (request.form.get("resultCd") == AUTH_OK
                and expiry.expire_if_due(store(), order, current_app.config["WEBVIEW_ORDER_TTL"])):
            # Nothing was approved: an authentication alone charges nothing, and it lapses at KISPG.
            log_order_event(order.ord_no, "return_refused", {"reason": "the order expired"},
                            tid=request.form.get("tid"))
            return render_template("errors/message.html", title="결제 가능 시간이 지났습니다",
                                   message="주문이 만료되어 결제를 승인하지 않았습니다. 청구된 금액은 없습니다. "
                                           "상점에서 다시 주문해 주세요."), 410
        outcome = payments().handle_return(request.form.to_dict(flat=True), kispg_ord_no, token, returning=returning)
    except PaymentError as exc:
        # %r: the posted tid is the sender's text; quoted, it cannot start a forged log line.
        current_app.logger.warning("returnUrl refused for order %s tid=%r: %s", exc.ord_no, request.form.get("tid"), exc)
        return render_template("errors/message.html", title="결제 결과를 확인할 수 없습니다",
                               message="결제 결과가 주문과 일치하지 않아 승인하지 않았습니다. "
                                       "결제가 진행되지 않았으니 다시 시도해 주세요."), exc.status
    return redirect(url_for("results.page", ord_no=outcome.order.ord_no), code=303)
