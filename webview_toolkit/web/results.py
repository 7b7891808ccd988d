"""`GET /orders/<ordNo>`: the result page in plain Korean."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from .. import vbank
from ..lifecycle import PENDING, WAITING, OrderStatus as S
from ..registry import load_registry
from ..records import Order
from .checkout import SANDBOX_PREFIX
from .client import request_client
from .extensions import payments, store

bp = Blueprint("results", __name__)

HEADLINES = {
    S.CREATED: ("결제 대기 중", "아직 결제가 진행되지 않았습니다."),
    S.AUTHENTICATED: ("결제 확인 중", "카드사 인증이 끝나 승인을 요청하고 있습니다."),
    S.APPROVING: ("결제 확인 중", "승인 결과를 기다리고 있습니다. 잠시 후 새로고침해 주세요."),
    S.UNKNOWN: ("결제 확인 중", "승인 결과를 확인하고 있습니다. 결제가 중복되지 않으니 다시 결제하지 마세요."),
    S.NEEDS_REVIEW: ("결제 확인 중", "결제 결과를 가맹점에서 확인하고 있습니다. 다시 결제하지 마시고 가맹점에 문의해 주세요."),
    S.PAID: ("결제 완료", "결제가 정상적으로 완료되었습니다."),
    S.FAILED: ("결제 실패", "결제가 완료되지 않았습니다. 청구된 금액은 없습니다."),
    S.AWAITING_DEPOSIT: ("입금 대기 중", "아래 계좌로 입금 기한까지 입금하시면 결제가 완료됩니다."),
    S.EXPIRED: ("주문 만료", "결제 가능 시간이 지나 주문이 만료되었습니다. 청구된 금액은 없습니다."),
    S.CANCELLING: ("취소 처리 중", "결제 취소를 처리하고 있습니다."),
    S.PARTIALLY_CANCELLED: ("부분 취소됨", "결제 금액 중 일부가 취소되었습니다."),
    S.CANCELLED: ("결제 취소됨", "결제가 취소되었습니다."),
}
# A virtual account's page says what happened to the money and to the account.
VBANK_HEADLINES = {
    S.PAID: ("입금 확인 완료", "입금이 확인되어 결제가 완료되었습니다."),
    S.EXPIRED: ("입금 기한 만료", "입금 기한이 지나 주문이 만료되었습니다. 이 계좌로는 입금하지 마세요."),
    S.CANCELLED: ("주문 취소됨", "주문이 취소되었습니다. 이 계좌로는 입금하지 마세요."),
}


def payment_means(order: Order) -> str | None:
    """The card company, bank or easy-pay name for this order, from the guide's §9 tables."""
    codes = load_registry().codes
    return (codes.name("easypay", order.easy_pay_cd) or codes.name("card_company", order.card_code)
            or order.fn_nm or None)


@bp.get("/orders/<ord_no>")
def page(ord_no: str):
    """What became of the order; pending states refresh themselves."""
    order = store().get(ord_no)
    if order is None:
        abort(404)
    # The page refreshes itself: once an unknown outcome can be settled, settle it here, at most
    # once per check interval however many views arrive (page views must not drive KISPG).
    order = payments().check(order)
    account = vbank.account_of(order) if order.vacnt_no else None
    headline, detail = (VBANK_HEADLINES if account else {}).get(order.status) or HEADLINES[order.status]
    config = current_app.config
    client = request_client(config)
    # Only the merchant's own app can follow its scheme; anyone else would get a dead button.
    app_scheme = config.get("WEBVIEW_APP_SCHEME") if client.own_app else None
    waiting = order.status in WAITING
    # The sandbox's bank: a link to pay the account in (never shown with a real KISPG).
    sandbox_bank = (f"{request.script_root}{SANDBOX_PREFIX}/_vacnt/{order.tid}"
                    if waiting and config["KISPG_ENV"] == "sandbox" else None)
    return render_template("results/page.html", order=order, headline=headline, detail=detail,
                           means=payment_means(order), app_scheme=app_scheme, failed=order.status == S.FAILED,
                           # Waiting for a deposit can take days: a slower refresh, so a copy is not cut short.
                           refresh=(30 if waiting else 3) if order.status in PENDING else None,
                           account=account, waiting=waiting, sandbox_bank=sandbox_bank)
