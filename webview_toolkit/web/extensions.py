"""Per-app services (store, KISPG client, payment flow), kept in `app.extensions`."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from sqlalchemy.exc import ArgumentError, DBAPIError

from .. import database, logs
from ..config import ConfigError
from ..kispg.client import KispgClient, base_url_for
from ..payments import Payments
from ..store import OrderStore

KEY = "webview_toolkit"


@dataclass(frozen=True, slots=True)
class Services:
    """What the blueprints use."""

    store: OrderStore
    client: KispgClient
    payments: Payments


def init_app(app: Flask) -> None:
    """Build the services for this app and keep the merchant key out of its logs."""
    config = app.config
    sandbox_url = (config.get("WEBVIEW_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/") + "/sandbox/kispg"
    session_factory = config.get("KISPG_SESSION_FACTORY")
    client = KispgClient(
        base_url_for(config["KISPG_ENV"], config.get("KISPG_BASE_URL"), sandbox_url=sandbox_url),
        config["KISPG_MID"], config["KISPG_MERCHANT_KEY"],
        timeout=(config["KISPG_CONNECT_TIMEOUT"], config["KISPG_TIMEOUT"]),
        session=session_factory(app) if session_factory else None,
    )
    store = open_store(config["WEBVIEW_DATABASE_URL"])
    payments = Payments(store, client, mid=config["KISPG_MID"], merchant_key=config["KISPG_MERCHANT_KEY"],
                        settle_after=config["KISPG_RECONCILE_AFTER"],
                        check_interval=config["WEBVIEW_INQUIRY_INTERVAL"])
    app.extensions[KEY] = Services(store, client, payments)
    # Logger filters do not apply to records propagated from children: give each its own.
    names = ["werkzeug", "webview_toolkit"] + [n for n in logging.root.manager.loggerDict if n.startswith("webview_toolkit.")]
    for logger in [app.logger] + [logging.getLogger(name) for name in names]:
        KeyRedactor.guard(logger, config["KISPG_MERCHANT_KEY"])
    # The handler's own redactor covers loggers made after this point too.
    KeyRedactor.guard(logs.configure(config["WEBVIEW_LOG_FORMAT"]), config["KISPG_MERCHANT_KEY"])


def open_store(url: str) -> OrderStore:
    """The order store on `url`; ConfigError with one line (URL without password, and the fix) when it cannot open."""
    try:
        return OrderStore(url)
    except (ImportError, ArgumentError, DBAPIError, ValueError) as exc:
        raise ConfigError(database.describe(url, exc)) from None


class KeyRedactor(logging.Filter):
    """Replace merchant keys in any log record, whatever logged it; one per logger, however many apps."""

    def __init__(self):
        super().__init__("redact-merchant-key")
        self._keys: set[str] = set()

    @classmethod
    def guard(cls, logger: logging.Filterer, key: str) -> None:
        """Make sure the logger's redactor knows this key (adding the redactor once)."""
        redactor = next((f for f in logger.filters if isinstance(f, cls)), None)
        if redactor is None:
            redactor = cls()
            logger.addFilter(redactor)
        if key:
            redactor._keys.add(key)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(key in message for key in self._keys):
            for key in self._keys:
                message = message.replace(key, "[merchant key]")
            record.msg, record.args = message, None
        return True


def services() -> Services:
    """The current app's services."""
    return current_app.extensions[KEY]


def store() -> OrderStore:
    """The current app's order store."""
    return services().store


def payments() -> Payments:
    """The current app's payment flow."""
    return services().payments
