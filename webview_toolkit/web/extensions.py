"""Per-app services (store, KISPG client, payment flow), kept in `app.extensions`."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from sqlalchemy.exc import ArgumentError, DBAPIError

from .. import database, logs
from ..config import ConfigError
import requests

from ..kispg.client import KispgClient, base_url_for
from ..kispg.inprocess import wsgi_session
from ..payments import Payments
from ..store import OrderStore
from ..webhooks.delivery import Deliverer

KEY = "webview_toolkit"
# The name the service calls its own built-in sandbox by (never resolved: the session routes it in-process).
SANDBOX_INTERNAL = "http://sandbox.internal"
SANDBOX_PREFIX = "/sandbox/kispg"


@dataclass(frozen=True, slots=True)
class Services:
    """What the blueprints use."""

    store: OrderStore
    client: KispgClient
    payments: Payments
    webhooks: Deliverer | None  # None when no WEBVIEW_WEBHOOK_URL is set


def init_app(app: Flask) -> None:
    """Build the services for this app and keep the merchant key out of its logs."""
    config = app.config
    session_factory = config.get("KISPG_SESSION_FACTORY")
    session = session_factory(app) if session_factory else None
    if config["KISPG_ENV"] == "sandbox" and not config.get("KISPG_BASE_URL"):
        # The built-in sandbox is this very app: its API is reached in-process under a name of its
        # own, so approvals never depend on the port, host or proxy the service happens to run behind.
        session = sandbox_session(app, session)
    sandbox_url = SANDBOX_INTERNAL + config.get("WEBVIEW_URL_PREFIX", "") + SANDBOX_PREFIX
    client = KispgClient(
        base_url_for(config["KISPG_ENV"], config.get("KISPG_BASE_URL"), sandbox_url=sandbox_url),
        config["KISPG_MID"], config["KISPG_MERCHANT_KEY"],
        timeout=(config["KISPG_CONNECT_TIMEOUT"], config["KISPG_TIMEOUT"]), session=session,
    )
    store = open_store(config["WEBVIEW_DATABASE_URL"], webhook_urls=config["WEBVIEW_WEBHOOK_URLS"])
    payments = Payments(store, client, mid=config["KISPG_MID"], merchant_key=config["KISPG_MERCHANT_KEY"],
                        settle_after=config["KISPG_RECONCILE_AFTER"],
                        check_interval=config["WEBVIEW_INQUIRY_INTERVAL"])
    webhooks = None
    if config["WEBVIEW_WEBHOOK_URLS"]:
        webhook_factory = config.get("WEBVIEW_WEBHOOK_SESSION_FACTORY")
        webhooks = Deliverer(store, config["WEBVIEW_WEBHOOK_SECRET"],
                             allow_private=config["WEBVIEW_WEBHOOK_ALLOW_PRIVATE"] or config["KISPG_ENV"] == "sandbox",
                             **({"session": webhook_factory(app)} if webhook_factory else {}))
    app.extensions[KEY] = Services(store, client, payments, webhooks)
    # Logger filters do not apply to records propagated from children: give each its own.
    names = ["werkzeug", "webview_toolkit"] + [n for n in logging.root.manager.loggerDict if n.startswith("webview_toolkit.")]
    for logger in [app.logger] + [logging.getLogger(name) for name in names]:
        KeyRedactor.guard(logger, config["KISPG_MERCHANT_KEY"])
        KeyRedactor.guard(logger, config.get("WEBVIEW_WEBHOOK_SECRET"), "[webhook secret]")
    # The handler's own redactor covers loggers made after this point too.
    handler = logs.configure(config["WEBVIEW_LOG_FORMAT"])
    KeyRedactor.guard(handler, config["KISPG_MERCHANT_KEY"])
    KeyRedactor.guard(handler, config.get("WEBVIEW_WEBHOOK_SECRET"), "[webhook secret]")


def open_store(url: str, *, webhook_urls=()) -> OrderStore:
    """The order store on `url`; ConfigError with one line (URL without password, and the fix) when it cannot open."""
    try:
        return OrderStore(url, webhook_urls=webhook_urls)
    except (ImportError, ArgumentError, DBAPIError, ValueError) as exc:
        raise ConfigError(database.describe(url, exc)) from None


class KeyRedactor(logging.Filter):
    """Replace merchant keys (and webhook secrets) in any log record, whatever logged it; one per logger."""

    def __init__(self):
        super().__init__("redact-merchant-key")
        self._keys: dict[str, str] = {}  # secret → what replaces it

    @classmethod
    def guard(cls, logger: logging.Filterer, key: str | None, label: str = "[merchant key]") -> None:
        """Make sure the logger's redactor knows this key (adding the redactor once)."""
        redactor = next((f for f in logger.filters if isinstance(f, cls)), None)
        if redactor is None:
            redactor = cls()
            logger.addFilter(redactor)
        if key:
            redactor._keys[key] = label

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(key in message for key in self._keys):
            for key, label in self._keys.items():
                message = message.replace(key, label)
            record.msg, record.args = message, None
        return True


def sandbox_session(app: Flask, session: requests.Session | None = None) -> requests.Session:
    """A session (new, or the given one) on which SANDBOX_INTERNAL reaches this app in-process."""
    return wsgi_session(app, SANDBOX_INTERNAL, session)


def services(app: Flask | None = None) -> Services:
    """The services of `app` (by default the current app)."""
    return (app or current_app).extensions[KEY]


def store() -> OrderStore:
    """The current app's order store."""
    return services().store


def payments() -> Payments:
    """The current app's payment flow."""
    return services().payments
