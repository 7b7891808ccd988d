"""The checkout's offer to continue in the system browser (see webview_toolkit/escape.py for when and how)."""
from __future__ import annotations

from flask import Config, Flask, request

from ..config import ConfigError
from ..escape import ESCAPED_PARAM, Offer, offer_for
from ..registry import load_registry
from ..records import CheckoutOrder
from ..useragent import ClientContext


def init_app(app: Flask) -> None:
    """Refuse WEBVIEW_INAPP_ESCAPE_APPS naming an unknown browser, or one that returns by its own scheme."""
    registry = load_registry()
    known = {browser.id: browser for browser in registry.browsers}
    problems = []
    for app_id in sorted(app.config["WEBVIEW_INAPP_ESCAPE_APPS"]):
        browser = known.get(app_id)
        if browser is None:
            problems.append(f"WEBVIEW_INAPP_ESCAPE_APPS: {app_id!r} is not a registry browser id")
        elif browser.ios_return_scheme is not None:
            problems.append(f"WEBVIEW_INAPP_ESCAPE_APPS: {app_id!r} returns by its own scheme (guide §6.3) "
                            "and is never asked to leave")
        elif not browser.escape:
            problems.append(f"WEBVIEW_INAPP_ESCAPE_APPS: {app_id!r} has no escape rule in the registry")
    if problems:
        raise ConfigError("; ".join(problems))


def checkout_offer(client: ClientContext, order: CheckoutOrder, config: Config, script_root: str) -> Offer | None:
    """The offer for this checkout view, or None (most views: decided from the client alone)."""
    # Cheap refusals first: this runs on every checkout view (bench/). An iOS app_scheme means a
    # confirmed return; off iOS only the configured apps are asked. offer_for decides the rest.
    if client.escape is None or client.app_scheme is not None or config["WEBVIEW_INAPP_ESCAPE"] == "off":
        return None
    if client.platform != "ios" and client.app not in config["WEBVIEW_INAPP_ESCAPE_APPS"]:
        return None
    base = (config.get("WEBVIEW_PUBLIC_URL") or request.host_url).rstrip("/")
    return offer_for(client, load_registry(), mode=config["WEBVIEW_INAPP_ESCAPE"],
                     apps=config["WEBVIEW_INAPP_ESCAPE_APPS"],
                     checkout_url=f"{base}{script_root}/checkout/{order.ord_no}",
                     escaped=request.args.get(ESCAPED_PARAM) == "1")
