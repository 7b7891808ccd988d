"""Which KISPG pay window a shopper gets: the PC window in an overlay iframe, or the whole-page mobile one.

KISPG's PC sample (`paySample.jsp`, qwerthong/qwerthong.github.io) posts the auth form into an iframe
over the merchant page and is told the result by `postMessage`; its operations team, quoted in
Stevewon/live-commerce-platform f268691: "PC: iframe 방식 / 모바일: 페이지 이동방식". A PC window
submitted as a whole page has nobody to tell, so the form's model/channel always follow the pattern.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..useragent import ClientContext



@dataclass(frozen=True, slots=True)
class PayWindow:
    """How the pay window opens, and the §3.1.1 model/channel that go with it."""

    framed: bool
    model: str
    channel: str


# §3.1.1: MOB/0002 is the whole-page mobile pay window; WEB/0001 the PC one.
PAGE = PayWindow(framed=False, model="MOB", channel="0002")
IFRAME = PayWindow(framed=True, model="WEB", channel="0001")


def pay_window(client: ClientContext, mode: str) -> PayWindow:
    """The pay window for this client under WEBVIEW_CHECKOUT_MODE (auto: desktop browsers get the iframe)."""
    if mode == "page":
        return PAGE
    if mode == "iframe":
        return IFRAME
    # In-app browsers, even on a desktop (KakaoTalk PC), keep the same tab: guide §6.1 warns against
    # iframes and layer pop-ups there.
    return PAGE if client.mobile or client.in_app else IFRAME


def message_origin(auth_action: str) -> str:
    """The only origin whose postMessage the checkout accepts: KISPG's, or '' for this page's own (the sandbox)."""
    parts = urlsplit(auth_action)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
