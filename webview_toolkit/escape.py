"""Leaving an app's embedded browser for the system browser before paying, and when to offer it.

On iOS an ISP or app-card payment returns through `app_scheme` only to the in-app browsers
whose scheme is confirmed (guide §6.3); from any other app the card app hands the shopper to
Safari, where the checkout does not exist. Such a checkout offers the system browser first,
by the app's own mechanism from the registry (`escape` in schemes/browsers.yaml):

- `kakaotalk_open_external`: kakaotalk://web/openExternal?url=<the checkout>
- `line_open_external_browser`: the checkout URL with `openExternalBrowser=1`
- `android_intent`: intent://<host/path>#Intent;scheme=https;S.browser_fallback_url=<the checkout>;end
- `menu`: nothing a page can do; the app's own menu, in Korean, and a copy-link button

The checkout continues at the same URL with `escaped=1` (ESCAPED_PARAM): loaded in the system
browser it is signed afresh, and it never offers to leave again (no loop when a fallback lands
back in the app).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .registry import Registry
from .useragent import ClientContext

__all__ = ["ESCAPED_PARAM", "MODES", "Offer", "continue_url", "escape_url", "offer_for"]

MODES = ("off", "offer", "auto")
ESCAPED_PARAM = "escaped"


@dataclass(frozen=True, slots=True)
class Offer:
    """What the checkout shows a shopper who should pay in the system browser."""

    app: str  # the registry browser id
    app_name: str
    platform: str
    mechanism: str
    continue_url: str  # the checkout again, marked as escaped: what the system browser opens
    href: str | None  # the link that leaves the app; None for `menu`
    instruction: str | None  # the app's own menu, for `menu`
    auto: bool  # leave at once (WEBVIEW_INAPP_ESCAPE=auto) rather than ask

    @property
    def target_name(self) -> str:
        """The browser the shopper ends up in, as the offer names it."""
        return "Safari" if self.platform == "ios" else "기본 브라우저"


def continue_url(checkout_url: str) -> str:
    """The checkout URL marked as already escaped (so it is never offered again)."""
    parts = urlsplit(checkout_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ESCAPED_PARAM]
    return urlunsplit(parts._replace(query=urlencode(query + [(ESCAPED_PARAM, "1")])))


def escape_url(mechanism: str, url: str) -> str | None:
    """The link that opens `url` in the system browser by this mechanism; None for `menu`."""
    if mechanism == "kakaotalk_open_external":
        return "kakaotalk://web/openExternal?url=" + quote(url, safe="")
    if mechanism == "line_open_external_browser":
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True) + [("openExternalBrowser", "1")]
        return urlunsplit(parts._replace(query=urlencode(query)))
    if mechanism == "android_intent":
        parts = urlsplit(url)
        rest = urlunsplit(("", parts.netloc, parts.path or "/", parts.query, ""))
        # No package: Android picks the shopper's default browser. The fallback (Chrome's
        # documented extra) reopens the checkout in place when nothing takes the intent.
        return (f"intent:{rest}#Intent;scheme={parts.scheme};"
                f"S.browser_fallback_url={quote(url, safe='')};end")
    if mechanism == "menu":
        return None
    raise ValueError(f"unknown escape mechanism {mechanism!r}")


def offer_for(client: ClientContext, registry: Registry, *, mode: str, apps: frozenset[str],
              checkout_url: str, escaped: bool) -> Offer | None:
    """The offer this client gets at checkout, or None.

    Offered to an app's browser that has an escape rule on its platform when payment would
    strand the shopper there: on iOS, no confirmed return scheme (guide §6.3); elsewhere, only
    the apps listed in WEBVIEW_INAPP_ESCAPE_APPS. Never in the merchant's own app, never to an
    in-app browser with a confirmed return scheme, never after the checkout already escaped.
    """
    if mode == "off" or escaped or client.escape is None or client.own_app or client.bot or client.app is None:
        return None
    browser = registry.browser(client.app)
    if browser.ios_return_scheme is not None:
        return None  # confirmed: ISP comes back to this app, whatever the platform
    stranded = client.platform == "ios" and client.app_scheme is None
    if not stranded and client.app not in apps:
        return None
    rule = browser.escape_on(client.platform)
    if rule is None:
        return None
    target = continue_url(checkout_url)
    href = escape_url(rule.mechanism, target)
    return Offer(app=browser.id, app_name=browser.name, platform=client.platform, mechanism=rule.mechanism,
                 continue_url=target, href=href, instruction=rule.instruction,
                 auto=mode == "auto" and href is not None)
