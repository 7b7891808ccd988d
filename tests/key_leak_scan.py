"""The suite-wide scan for the merchant key: every response, log record and CLI output (installed by conftest.py)."""
from __future__ import annotations

import logging

from .service_helpers import MERCHANT_KEY


class KeyLeakScan(logging.Handler):
    """Checks every response body and header, log record and CLI output against the merchant keys seen."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.keys = {MERCHANT_KEY}
        self.leaks: list[str] = []
        self.scanned = 0

    def check(self, where: str, text: str) -> None:
        self.scanned += 1
        for key in self.keys:
            if key in text:
                at = text.index(key)
                self.leaks.append(f"{where}: {text[max(0, at - 80):at + len(key) + 20].replace(key, '«the key»')!r}")

    def response(self, sender, response, **_extra) -> None:
        key = sender.config.get("KISPG_MERCHANT_KEY")
        if isinstance(key, str) and len(key) >= 16:
            self.keys.add(key)
        from flask import request
        where = f"{sender.name} {request.method} {request.path} → {response.status_code}"
        self.check(where + " (headers)", str(response.headers))
        if not response.is_streamed and not response.direct_passthrough:
            self.check(where, response.get_data().decode("utf-8", "replace"))

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.check(f"log {record.name}:{record.levelname}", text)
