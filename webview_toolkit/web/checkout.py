"""`GET /checkout/<ordNo>`: the order summary and the signed KISPG auth form (whole page, or PC overlay iframe)."""
from __future__ import annotations

from html import escape
from urllib.parse import quote

from flask import Blueprint, Config, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import csp, expiry
from ..kispg import specs
from ..kispg.client import base_url_for
from ..kispg.errors import FieldError
from ..kispg.signing import edi_date_now, sign
from ..records import CheckoutOrder
from ..useragent import ClientContext
from ..lifecycle import PAYABLE
from .edge import external_base
from .client import request_client
from .escape_offer import checkout_offer
from .returns import RETURN_PATH, TOKEN_PARAM
from .extensions import SANDBOX_PREFIX, store
from .paywindow import PayWindow, message_origin, pay_window

bp = Blueprint("checkout", __name__)
# Where the view keeps the page's macro once loaded (templates that reload are looked up every view).
PAGE_MACRO = "webview_toolkit_checkout_page"


def return_url(order: CheckoutOrder, config: Config, script_root: str) -> str:
    """The absolute returnUrl: the attempt's ordNo (a failed auth posts only resultCd/resultMsg) and its token."""
    # Built by hand rather than with url_for: this runs on every checkout view (see bench/).
    prefix = config.get("WEBVIEW_URL_PREFIX", "")  # init_app's mount point inside a shop's own app
    query = f"ordNo={quote(order.kispg_ord_no, safe='')}&{TOKEN_PARAM}={quote(order.token, safe='')}"
    return f"{external_base()}{script_root}{prefix}{RETURN_PATH}?{query}"


def auth_action(config: Config, script_root: str) -> str:
    """Where the browser posts the auth form: the built-in sandbox, or KISPG's /v2/auth."""
    if config["KISPG_ENV"] == "sandbox":
        # Relative: KISPG_BASE_URL may be loopback (`serve` sets it), which a phone cannot reach.
        return f"{script_root}{config.get('WEBVIEW_URL_PREFIX', '')}{SANDBOX_PREFIX}/v2/auth"
    return base_url_for(config["KISPG_ENV"], config.get("KISPG_BASE_URL")).rstrip("/") + "/v2/auth"


def auth_fields(order: CheckoutOrder, client: ClientContext, config: Config, return_url: str,
                window: PayWindow | None = None) -> dict[str, str]:
    """The auth request (§3.1.1) for this order and this browser (in `window`), checked against the guide's table."""
    edi_date = edi_date_now()
    window = window or pay_window(client, config["WEBVIEW_CHECKOUT_MODE"])
    fields = {
        "payMethod": order.pay_method or "", "trxCd": "0", "mid": config["KISPG_MID"],
        "goodsNm": order.goods_nm, "currencyType": "KRW", "ordNo": order.kispg_ord_no,
        "goodsAmt": str(order.goods_amt), "ordNm": order.ord_nm, "ordTel": order.ord_tel,
        "ordEmail": order.ord_email or "", "userIp": order.user_ip or "", "mbsUsrId": order.mbs_usr_id or "",
        "model": window.model, "channel": window.channel,
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
    # Most values are letters and digits, which escaping leaves as they are: skip the call for them.
    return Markup("".join([f'\n  <input type="hidden" name="{name}" '
                           f'value="{value if value.isalnum() else escape(value)}">' for name, value in fields.items()]))


@bp.get("/checkout/<ord_no>")
def page(ord_no: str):
    """The checkout page for a payable order (its current attempt); any other goes to its result page."""
    # Each read through Flask's context proxies costs about a microsecond: read them once (bench/).
    app = current_app._get_current_object()
    config, orders = app.config, store()
    order = orders.checkout_order(ord_no)
    if order is None:
        abort(404)
    if expiry.expire_if_due(orders, order, config["WEBVIEW_ORDER_TTL"]):
        return render_template("errors/message.html", title="결제 가능 시간이 지났습니다",
                               message="이 주문은 결제 가능 시간이 지나 만료되었습니다. 결제되지 않았으며 청구된 금액은 "
                                       "없습니다. 상점에서 다시 주문해 주세요."), 410
    if order.status not in PAYABLE:
        return redirect(url_for("results.page", ord_no=ord_no))
    csp.allow_kispg_frames()  # the desktop checkout shows the KISPG pay window in an overlay frame
    script_root = request.script_root
    client = request_client(config)
    # Desktop browsers get KISPG's PC window in an overlay iframe (paywindow.py says why).
    window = pay_window(client, config["WEBVIEW_CHECKOUT_MODE"])
    try:
        fields = auth_fields(order, client, config, return_url(order, config, script_root), window)
    except FieldError as exc:
        app.logger.warning("order %s cannot be sent to KISPG: %s", ord_no, exc)
        return render_template("errors/message.html", title="결제를 시작할 수 없습니다",
                               message=f"주문 정보가 결제 규격에 맞지 않습니다: {exc.field}"), 422
    # In an app's browser that would strand the payment: offer the system browser first (escape_offer.py).
    offer = checkout_offer(client, order, config, script_root)
    action = auth_action(config, script_root)
    return checkout_macro(app)(script_root, order, hidden_inputs(fields), action, client,
                               auto_submit=not client.bot and offer is None, escape=offer,
                               contact=masked_contact(order), script_nonce=csp.nonce(), framed=window.framed,
                               message_origin=message_origin(action) if window.framed else "")


def checkout_macro(app):
    """The page's macro, looked up once per app unless the app reloads its templates (debug)."""
    # A macro, not render_template: calling it skips the template context that render_template
    # builds, a third of this view's render time (bench/).
    macro = app.extensions.get(PAGE_MACRO)
    if macro is None:
        macro = app.jinja_env.get_template("checkout/page.html").module.checkout_page
        if not app.jinja_env.auto_reload:
            app.extensions[PAGE_MACRO] = macro
    return macro


def masked_contact(order: CheckoutOrder) -> dict[str, str]:
    """The phone and email as the page shows them: enough for shoppers to recognise, not to read off."""
    digits = "".join(ch for ch in order.ord_tel if ch.isdigit())
    phone = f"{digits[:3]}-****-{digits[-4:]}" if len(digits) >= 9 else "*" * len(order.ord_tel)
    email = ""
    if order.ord_email and "@" in order.ord_email:
        local, _, domain = order.ord_email.rpartition("@")
        email = f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"
    return {"phone": phone, "email": email}
