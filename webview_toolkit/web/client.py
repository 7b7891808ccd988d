"""The client behind the current request: its User-Agent classified, the one way every view does it."""
from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request

from ..useragent import ClientContext, classify


def user_agent() -> str:
    """The current request's User-Agent header; "" when it sent none."""
    return request.environ.get("HTTP_USER_AGENT", "")  # the header, without building the headers view


def request_client(config: Mapping[str, object] | None = None, ua: str | None = None) -> ClientContext:
    """The current request's ClientContext, the merchant app recognised by WEBVIEW_APP_UA_TOKEN.

    A view that already holds the app's config (or the UA, e.g. to show it) passes it: every read
    through Flask's context proxies costs about a microsecond, and the checkout page is benchmarked.
    """
    if config is None:
        config = current_app.config
    if ua is None:
        ua = request.environ.get("HTTP_USER_AGENT", "")  # user_agent(), inlined: one call less per page view
    return classify(ua, app_token=config.get("WEBVIEW_APP_UA_TOKEN"))
