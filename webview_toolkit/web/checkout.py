"""`GET /checkout/<ordNo>`: the order summary and the signed KISPG auth form, posted with `_self`."""
from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from flask import Blueprint, Config, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from ..kispg import specs
from ..kispg.client import base_url_for
from ..kispg.errors import FieldError
from ..kispg.signing import edi_date_now, sign
from ..store import CheckoutOrder
from ..useragent import ClientContext, classify
from .returns import RETURN_PATH
from .extensions import store

bp = Blueprint("checkout", __name__)

SANDBOX_PREFIX = "/sandbox/kispg"


def return_url(order: CheckoutOrder, config: Config, script_root: str) -> str:
    """The absolute returnUrl; it carries ordNo because a failed auth posts only resultCd/resultMsg."""
    # Built by hand rather than with url_for: this runs on every checkout view (see bench/).
    base = config.get("WEBVIEW_PUBLIC_URL") or request.host_url
    prefix = config.get("WEBVIEW_URL_PREFIX", "")  # init_app's mount point inside a shop's own app
    return f"{base.rstrip('/')}{script_root}{prefix}{RETURN_PATH}?{urlencode({'ordNo': order.ord_no})}"


def auth_action(config: Config, script_root: str) -> str:
    """Where the browser posts the auth form: the built-in sandbox, or KISPG's /v2/auth."""
    if config["KISPG_ENV"] == "sandbox":
        # Relative: KISPG_BASE_URL may be loopback (`serve` sets it), which a phone cannot reach.
        return f"{script_root}{config.get('WEBVIEW_URL_PREFIX', '')}{SANDBOX_PREFIX}/v2/auth"
    return base_url_for(config["KISPG_ENV"], config.get("KISPG_BASE_URL")).rstrip("/") + "/v2/auth"


def auth_fields(order: CheckoutOrder, client: ClientContext, config: Config, return_url: str) -> dict[str, str]:
    """The auth request (§3.1.1) for this order and this browser, checked against the guide's table."""
    edi_date = edi_date_now()
    fields = {
        "payMethod": order.pay_method or "", "trxCd": "0", "mid": config["KISPG_MID"],
        "goodsNm": order.goods_nm, "currencyType": "KRW", "ordNo": order.ord_no,
        "goodsAmt": str(order.goods_amt), "ordNm": order.ord_nm, "ordTel": order.ord_tel,
        "ordEmail": order.ord_email or "", "userIp": order.user_ip or "", "mbsUsrId": order.mbs_usr_id or "",
        # §3.1.1: MOB/0002 is the whole-page mobile pay window; WEB/0001 the PC one.
        "model": "MOB" if client.mobile else "WEB", "channel": "0002" if client.mobile else "0001",
        "ediDate": edi_date, "encData": sign(config["KISPG_MID"], edi_date, order.goods_amt, config["KISPG_MERCHANT_KEY"]),
        "returnUrl": return_url, "charset": "UTF-8", "payReqType": "1", "mbsReserved": "",
    }
    app_scheme = config.get("WEBVIEW_APP_SCHEME")
    if client.own_app and app_scheme:
        # The merchant's own app: KISPG returns to it by its scheme after an external auth app.
        fields.update(appSchemeFlg="1", resultScheme=app_scheme, cancelScheme=app_scheme)
    elif client.app_scheme:
        # §6.3: a third-party iOS browser; ISP returns to it instead of Safari.
        fields["mbsReserved"] = f"app_scheme={client.app_scheme}"
    return specs.validate("auth_request", fields)


def hidden_inputs(fields: dict[str, str]) -> Markup:
    """The auth form's hidden inputs, values escaped; names come from the guide's table.

    Built here rather than by a loop in the template: the loop was a fifth of the page's render time (bench/).
    """
    return Markup("".join(f'\n  <input type="hidden" name="{name}" value="{escape(value)}">'
                          for name, value in fields.items()))


@bp.get("/checkout/<ord_no>")
def page(ord_no: str):
    """The checkout page; an order past `created` goes to its result page."""
    order = store().checkout_order(ord_no)
    if order is None:
        abort(404)
    if order.status != "created":
        return redirect(url_for("results.page", ord_no=ord_no))
    # Each read through Flask's context proxies costs about a microsecond: read them once (bench/).
    config, script_root = current_app.config, request.script_root
    client = classify(request.headers.get("User-Agent", ""), app_token=config.get("WEBVIEW_APP_UA_TOKEN"))
    try:
        fields = auth_fields(order, client, config, return_url(order, config, script_root))
    except FieldError as exc:
        current_app.logger.warning("order %s cannot be sent to KISPG: %s", ord_no, exc)
        return render_template("errors/message.html", title="결제를 시작할 수 없습니다",
                               message=f"주문 정보가 결제 규격에 맞지 않습니다: {exc.field}"), 422
    # The page is a macro of its template (see there): calling it skips the template context that
    # render_template builds, a third of this view's render time (bench/).
    checkout_page = current_app.jinja_env.get_template("checkout/page.html").module.checkout_page
    return checkout_page(script_root, order, hidden_inputs(fields), auth_action(config, script_root), client,
                         auto_submit=not client.bot)
