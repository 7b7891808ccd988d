"""What the service tells its operator: a request id per request, JSON lines on demand, order events.

Every order event (approval, decline, timeout, cancel, reconcile decision, refused result, …)
goes through `log_order_event`, called where the store writes the event row; it logs ordNo,
tid, the request id and a short, allow-listed part of the event's detail (never the merchant
key, tokens or full personal data). `WEBVIEW_LOG_FORMAT=json` makes each record one JSON
object per line. No Flask here: the web layer sets the request id (see web/edge.py).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from datetime import datetime, timezone
from typing import Any, Mapping

ORDER_LOGGER = "webview_toolkit.orders"
HANDLER_NAME = "webview-toolkit"
# The id of the request being handled in this context (thread or task); "-" outside one.
# A ContextVar, not a global value: each request (each thread) sees only its own.
_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("webview_toolkit_request_id", default="-")
# A caller's X-Request-Id is kept when it looks like an id (a proxy's or a load balancer's).
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# Detail keys worth an operator's eye; everything else (names, phones, card numbers, raw answers) stays out.
DETAIL_KEYS = ("resultCd", "resultMsg", "payMethod", "reason", "error", "message", "amount",
               "cancelledAmt", "remainingAmt", "trxStatus", "appNo", "amt", "status", "ttl", "delivery", "url")
MAX_DETAIL_TEXT = 200
# Events an operator should look at: refusals, mismatches, lost answers.
WARNING_KINDS = frozenset({
    "return_rejected", "approval_mismatch", "approval_unknown", "net_cancel_failed", "net_cancelled",
    "cancel_unknown", "reconcile_failed", "cancel_declined", "return_refused",
})
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def new_request_id(given: str | None = None) -> str:
    """The id for a new request: the caller's X-Request-Id when it is well formed, else a fresh one."""
    if given and REQUEST_ID_RE.fullmatch(given):
        return given
    return secrets.token_hex(8)


def begin_request(request_id: str) -> contextvars.Token:
    """Make `request_id` the current request's id; hand the token back to `end_request`."""
    return _REQUEST_ID.set(request_id)


def end_request(token: contextvars.Token) -> None:
    """Forget the current request's id."""
    _REQUEST_ID.reset(token)


def request_id() -> str:
    """The current request's id, or "-" outside a request."""
    return _REQUEST_ID.get()


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
        return value[:MAX_DETAIL_TEXT] + "…"
    return value


def public_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The allow-listed part of an event's detail, each text cut short."""
    return {key: _short(detail[key]) for key in DETAIL_KEYS if detail and detail.get(key) not in (None, "")}


def log_order_event(ord_no: str, kind: str, detail: Mapping[str, Any] | None = None, tid: str | None = None) -> None:
    """Log one order event with its ordNo, tid and the request id (one line, or one JSON object)."""
    tid = tid or (detail or {}).get("tid") or None
    shown = public_detail(detail)
    text = " ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in shown.items())
    level = logging.WARNING if kind in WARNING_KINDS else logging.INFO
    logging.getLogger(ORDER_LOGGER).log(
        level, "order %s %s tid=%s%s", ord_no, kind, tid or "-", f" {text}" if text else "",
        extra={"ordNo": ord_no, "event": kind, "tid": tid, "detail": shown})



class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id (`%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, requestId, and the order fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "requestId": getattr(record, "request_id", None) or request_id(),
        }
        for key in ("ordNo", "event", "tid", "detail"):
            if getattr(record, key, None) not in (None, {}):
                entry[key] = getattr(record, key)
        if record.exc_info:
            # On one line too: a traceback split over lines would break a JSON-lines collector.
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(log_format: str) -> logging.Handler:
    """Give the package's logger one stderr handler in this format, INFO and up.

    The logger is the process's: the last app created sets the format (one app per process in practice).
    """
    logger = logging.getLogger("webview_toolkit")
    handler = next((h for h in logger.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.set_name(HANDLER_NAME)
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def handler() -> logging.Handler | None:
    """The handler `configure` installed, if any (tests point its stream elsewhere)."""
    return next((h for h in logging.getLogger("webview_toolkit").handlers if h.get_name() == HANDLER_NAME), None)
