"""`/device-test` and `/qr.png|svg`: test the checkout on a real phone."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from qrcode.exceptions import DataOverflowError

from .. import qr
from ..registry import launch_url, load_registry
from ..store import new_ord_no
from ..useragent import bounded
from .client import request_client, user_agent
from .edge import external_base
from .extensions import store

bp = Blueprint("device", __name__)

# A QR code of this service's own pages needs no more; a version-40 code holds about 2,300 bytes.
MAX_QR_URL = 1000


def lan_base() -> str:
    """The base URL a phone can reach: WEBVIEW_PUBLIC_URL, the LAN URL `serve` found, or this request's."""
    config = current_app.config
    return (config.get("WEBVIEW_PUBLIC_URL") or config.get("WEBVIEW_LAN_URL") or external_base()).rstrip("/")


def launch_links(platform: str) -> list[dict]:
    """Each registry app as a link that launches it: intent:// on Android, its scheme on iOS."""
    links = []
    for app in load_registry().apps:
        href = launch_url(app, "android" if platform == "android" else "ios")
        if href:
            links.append({"id": app.id, "name": app.name_ko, "category": app.category, "href": href})
    return links


@bp.get("/device-test")
def page():
    """What this browser looks like to the server, a QR code of this page, and app launch links."""
    ua = bounded(user_agent())
    client = request_client(ua=ua)
    url = lan_base() + url_for("device.page")
    return render_template("device/page.html", client=client, ua=ua, url=url,
                           links=launch_links(client.platform))


@bp.get("/qr.<any(png, svg):kind>")
def qr_code(kind: str):
    """A QR code of `?url=`, which must be a URL of this service."""
    url = request.args.get("url", "")
    if len(url) > MAX_QR_URL:
        return {"error": f"url must be at most {MAX_QR_URL} characters", "fields": {"url": "too long"}}, 400
    parts = urlsplit(url)
    own = {urlsplit(base).netloc for base in (external_base(), lan_base()) if base}
    if parts.scheme not in ("http", "https") or parts.netloc not in own:
        return {"error": "url must be an http(s) URL of this service", "fields": {"url": "not this service"}}, 400
    try:
        image = (qr.png(url), "image/png") if kind == "png" else (qr.svg(url), "image/svg+xml")
    except DataOverflowError:
        return {"error": "url does not fit in a QR code", "fields": {"url": "too long"}}, 400
    return Response(image[0], mimetype=image[1])


@bp.post("/device-test/checkout")
def start():
    """Create a 1,004-won test order and open its checkout (sandbox only: it charges nothing)."""
    if current_app.config["KISPG_ENV"] != "sandbox":
        return {"error": "test orders exist only with KISPG_ENV=sandbox"}, 403
    order = store().create(ord_no=new_ord_no(), goods_nm="테스트 상품", goods_amt=1004, ord_nm="테스터",
                           ord_tel="01000000000", user_ip=request.remote_addr, environment="sandbox")
    return redirect(url_for("checkout.page", ord_no=order.ord_no), code=303)
