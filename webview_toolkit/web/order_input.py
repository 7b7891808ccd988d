"""What `/api/orders` accepts: the order body (with the shop's merchantOrderId and metadata) and the listing query."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any, Mapping

from ..kispg import specs
from ..lifecycle import OrderStatus
from ..records import aware

STATUSES = tuple(status.value for status in OrderStatus)

# API field → (store column, required); limits come from the guide's auth request table.
ORDER_FIELDS = {
    "goodsNm": ("goods_nm", True), "goodsAmt": ("goods_amt", True), "ordNm": ("ord_nm", True),
    "ordTel": ("ord_tel", True), "ordEmail": ("ord_email", False), "payMethod": ("pay_method", False),
    "mbsUsrId": ("mbs_usr_id", False),
}
SHOP_FIELDS = ("merchantOrderId", "metadata")  # the shop's own, never sent to KISPG
PAY_METHODS = ("CARD", "BANK", "VACNT")
MERCHANT_ORDER_ID_MAX = 64
# Metadata bounds, our own choice near Stripe's (50 keys, short values): 4 KB of JSON, 3 levels.
METADATA_BYTES, METADATA_DEPTH, METADATA_KEYS = 4096, 3, 50
LIMIT_DEFAULT, LIMIT_MAX = 20, 100
TEL_SEPARATORS = str.maketrans("", "", "- ")  # 010-1234-5678 and 010 1234 5678 are 01012345678


def _without_field_name(name: str, message: str) -> str:
    # The spec's messages start with the field's name; the API names it once, as the key.
    return message[len(name) + 2:] if message.startswith(f"{name}: ") else message


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def metadata_problem(value: Any) -> str | None:
    """What is wrong with a metadata value, or None."""
    if not isinstance(value, dict):
        return f"must be a JSON object, got {type(value).__name__}"
    if len(value) > METADATA_KEYS:
        return f"has {len(value)} keys, limit {METADATA_KEYS}"
    if _depth(value) > METADATA_DEPTH:
        return f"is nested {_depth(value)} levels deep, limit {METADATA_DEPTH}"
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except UnicodeEncodeError:
        return "contains text that is not valid Unicode (a lone surrogate)"
    if size > METADATA_BYTES:
        return f"is {size} bytes of JSON, limit {METADATA_BYTES}"
    return None


def merchant_order_id_problem(value: Any) -> str | None:
    """What is wrong with a merchantOrderId, or None."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not 1 <= len(value) <= MERCHANT_ORDER_ID_MAX:
        return f"must be 1 to {MERCHANT_ORDER_ID_MAX} characters"
    if not all("!" <= char <= "~" for char in value):
        return "must be printable ASCII without spaces"
    return None


def _order_field_problem(name: str, value: Any) -> str | None:
    if name == "goodsAmt" and isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            return "must be at least 1"
        value = str(value)
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if "\x00" in value:
        return "must not contain NUL characters"
    if name == "payMethod" and value.upper() not in PAY_METHODS:
        return f"must be one of {', '.join(PAY_METHODS)}"
    if name == "ordTel":
        value = value.translate(TEL_SEPARATORS)
    if name == "goodsAmt" and value.startswith("-") and value[1:].isdigit():
        return "must be at least 1"
    error = specs.field_problem("auth_request", name, value)
    if error:
        return _without_field_name(name, error)
    if name == "goodsAmt" and int(value) < 1:
        return "must be at least 1"
    return None


def order_problems(body: object) -> dict[str, str]:
    """Field → what is wrong with it, for a POST /api/orders body."""
    if not isinstance(body, dict):
        return {"(body)": "must be a JSON object"}
    # A name is echoed in the JSON answer: one with a lone surrogate (a valid JSON escape) must still encode.
    problems = {name.encode("utf-8", "backslashreplace").decode("utf-8"): "unknown field"
                for name in body if name not in ORDER_FIELDS and name not in SHOP_FIELDS}
    for name, (_, required) in ORDER_FIELDS.items():
        value = body.get(name)
        if value is None or value == "":
            if required:
                problems[name] = "is required"
            continue
        problem = _order_field_problem(name, value)
        if problem:
            problems[name] = problem
    for name, check in (("merchantOrderId", merchant_order_id_problem), ("metadata", metadata_problem)):
        if body.get(name) is not None:
            problem = check(body[name])
            if problem:
                problems[name] = problem
    return problems


def order_values(body: Mapping[str, Any]) -> dict[str, Any]:
    """The store columns for a body `order_problems` passed."""
    values = {column: body[name] for name, (column, _) in ORDER_FIELDS.items() if body.get(name) not in (None, "")}
    values["goods_amt"] = int(values["goods_amt"])
    values["ord_tel"] = values["ord_tel"].translate(TEL_SEPARATORS)
    if values.get("pay_method"):
        values["pay_method"] = values["pay_method"].upper()
    if body.get("merchantOrderId") is not None:
        values["merchant_order_id"] = body["merchantOrderId"]
    if body.get("metadata"):
        values["merchant_metadata"] = json.dumps(body["metadata"], ensure_ascii=False, separators=(",", ":"))
    return values


def problems_message(problems: Mapping[str, str]) -> str:
    """The one-line error for several field problems, each field named once."""
    return "invalid order: " + "; ".join(f"{name} {problem}" for name, problem in sorted(problems.items()))


# -- GET /api/orders ------------------------------------------------------------------------------------

def encode_cursor(created_at: datetime, ord_no: str) -> str:
    """An opaque cursor for the order after which the next page starts."""
    raw = json.dumps([aware(created_at).astimezone(timezone.utc).isoformat(), ord_no], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, ordNo) key in a cursor; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, ord_no = json.loads(raw)
        if not isinstance(ord_no, str) or "\x00" in ord_no:
            raise ValueError("not an ordNo")
        return _moment(moment), ord_no
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("no offset")
    return moment.astimezone(timezone.utc)


def list_query(args: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The store's `page()` arguments from a listing query string, and the problems with it."""
    known = {"status", "created_from", "created_to", "merchantOrderId", "limit", "cursor"}
    problems = {name: "unknown parameter" for name in args if name not in known}
    # PostgreSQL refuses NUL in any text parameter; no status, time or id has one.
    problems.update({name: "must not contain NUL characters" for name in known if "\x00" in args.get(name, "")})
    if problems:
        return {}, problems
    query: dict[str, Any] = {"limit": LIMIT_DEFAULT}
    if args.get("status"):
        statuses = tuple(args["status"].split(","))
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            problems["status"] = f"must be one or more (comma separated) of {', '.join(STATUSES)}"
        query["status"] = statuses
    for name in ("created_from", "created_to"):
        if args.get(name):
            try:
                query[name] = _moment(args[name])
            except ValueError:
                problems[name] = "must be an ISO 8601 time with an offset, e.g. 2026-12-01T09:00:00+09:00"
    if args.get("merchantOrderId"):
        query["merchant_order_id"] = args["merchantOrderId"]
    if args.get("limit"):
        limit = args["limit"]
        if not limit.isdigit() or not 1 <= int(limit) <= LIMIT_MAX:
            problems["limit"] = f"must be a whole number from 1 to {LIMIT_MAX}"
        else:
            query["limit"] = int(limit)
    if args.get("cursor"):
        try:
            query["after"] = decode_cursor(args["cursor"])
        except ValueError:
            problems["cursor"] = "is not a cursor this API returned"
    return query, problems
