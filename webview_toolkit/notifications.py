"""KISPG's notifications to the merchant ("결제 결과 수신", guide §2.2), taken as hints and confirmed by inquiry.

KISPG's own notification spec is not public. What this receiver assumes, and from where:
- KISPG calls the merchant from 1.233.179.201 (production) and 61.40.40.74 (test): guide §2.2.
- The fields are those of the approval answer (`ordNo`, `tid`, `amt`, `resultCd`, `payMethod`,
  `vacntNo`, ...) plus `hashStr` = SHA-256(mid + ediDate + amt + merchant key), sent form-encoded:
  KORPAY's published notification spec (a sister platform; tid `ktest5599m0101…` has KISPG's
  layout), seen in forteleaf/bill-and-pay docs/PRD-06_korpay.md. `goodsAmt` is read when `amt`
  is absent; JSON and EUC-KR are accepted too, since nothing says KISPG never sends them.
- A deposit into a virtual account is announced with resultCd `4110` (NICE family,
  KISPG_FACTS.md "Notifications"); the sender resends until the merchant answers success.

Nothing a notice says is believed: the order changes only through `Payments.reconcile`, which
asks `/v2/order` and moves the order only when the answer names this attempt's ordNo, the
order's tid and amount. So a forged, stale or resent notice can at most cause an inquiry.
No Flask here: `web/noti.py` is the HTTP side.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import parse_qsl

from .kispg import result_codes
from .kispg.errors import KispgError
from .lifecycle import STUCK, WAITING, OrderStatus
from .payments import Payments

log = logging.getLogger(__name__)
S = OrderStatus

# Sister platforms' code for "money arrived in the virtual account" (unverified for KISPG).
DEPOSIT_NOTICE_CODES = frozenset({"4110"})
# Guide §2.2: where KISPG's result posts come from (production, test).
GUIDE_SOURCES = ("1.233.179.201", "61.40.40.74")
# What the receiver answers when it took a notice. KISPG's expected body is not public; NICE and
# INICIS merchants answer "OK", KCP's "0000": a plain "OK" with HTTP 200 is our choice.
OK_BODY = "OK"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_LOGGED_FIELDS = ("resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "goodsAmt", "trxStatus",
                  "cancelYN", "ediDate", "lmtDay", "fnNm", "mid")


class NoticeRefused(Exception):
    """A notice the receiver did not take; `status` tells the sender to resend (5xx/409) or not to bother (4xx)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class NoticeTaken:
    """A notice the receiver took: the order's status after confirming it."""

    ord_no: str
    status: str


def decode(body: bytes, content_type: str) -> dict[str, str]:
    """The notice's fields from a form or JSON body, in UTF-8 or EUC-KR (charset of the header, else guessed)."""
    mimetype, _, params = (content_type or "").partition(";")
    declared = next((p.split("=", 1)[1].strip().strip('"') for p in params.split(";")
                     if p.strip().lower().startswith("charset=")), None)
    text = _text(body, declared)
    if mimetype.strip().lower() == "application/json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise NoticeRefused(400, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise NoticeRefused(400, "the JSON body is not an object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    # Form bodies are percent-encoded bytes: decode the octets, then read them in the charset.
    raw = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))
    octets = "".join(raw.values()).encode("latin-1")
    charset = _charset_of(declared, raw, octets)
    return {k.encode("latin-1").decode(charset): v.encode("latin-1").decode(charset) for k, v in raw.items()}


def _text(body: bytes, declared: str | None) -> str:
    try:
        return body.decode(_codec(declared) if declared else "utf-8")
    except (UnicodeDecodeError, LookupError):
        try:
            return body.decode("euc-kr")
        except UnicodeDecodeError:
            raise NoticeRefused(400, "the body is neither UTF-8 nor EUC-KR") from None


def _charset_of(declared: str | None, raw: Mapping[str, str], octets: bytes) -> str:
    # KORPAY sends charSet=1 (no charset name): a named one wins, else UTF-8 if it decodes, else EUC-KR.
    for name in (declared, raw.get("charset"), raw.get("charSet")):
        if name and _codec(name):
            return _codec(name)
    for codec in ("utf-8", "euc-kr"):
        try:
            octets.decode(codec)
            return codec
        except UnicodeDecodeError:
            continue
    raise NoticeRefused(400, "the form is neither UTF-8 nor EUC-KR")


def _codec(name: str | None) -> str | None:
    return {"UTF-8": "utf-8", "UTF8": "utf-8", "EUC-KR": "euc-kr", "EUCKR": "euc-kr"}.get((name or "").upper())


def amount_of(fields: Mapping[str, str]) -> str:
    """The notice's amount: `amt` (KORPAY's spelling), else `goodsAmt`."""
    return fields.get("amt") or fields.get("goodsAmt") or ""


def check_hash(fields: Mapping[str, str], mid: str, merchant_key: str) -> bool:
    """True when hashStr is present and right; False when absent; NoticeRefused(403) when present and wrong."""
    given = fields.get("hashStr")
    if not given:
        return False
    expected = hashlib.sha256(f"{mid}{fields.get('ediDate', '')}{amount_of(fields)}{merchant_key}"
                              .encode("utf-8")).hexdigest()
    if not _HEX64.fullmatch(given) or not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise NoticeRefused(403, "hashStr does not match mid + ediDate + amt with this merchant key")
    return True


def source_allowed(address: str | None, allow: Iterable[str]) -> bool:
    """Whether the sender's address is in the allowlist (addresses or networks; '*' allows any)."""
    rules = [rule.strip() for rule in allow if rule.strip()]
    if not rules or "*" in rules:
        return True
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(rule, strict=False) for rule in rules)


def receive(payments: Payments, fields: Mapping[str, str], *, signed: bool) -> NoticeTaken:
    """Take one notice: match it to an order, then let an inquiry decide; NoticeRefused when it cannot be taken."""
    store = payments.store
    shown = {name: fields[name] for name in _LOGGED_FIELDS if name in fields}
    kispg_ord_no, tid, amount = fields.get("ordNo", ""), fields.get("tid", ""), amount_of(fields)
    if not kispg_ord_no or not tid or not amount:
        raise NoticeRefused(400, "a notice needs ordNo, tid and amt")
    attempt = store.attempt(kispg_ord_no) if "\x00" not in kispg_ord_no else None
    if attempt is None:
        raise NoticeRefused(404, f"no checkout attempt {kispg_ord_no!r}")
    order = store.get(attempt.ord_no)
    # A notice that does not name this order's payment changes nothing and is not stored on it
    # (a stranger's posts must not grow an order's history); the app log keeps it.
    if attempt.n != order.attempt_no or tid != order.tid:
        raise NoticeRefused(409, f"tid {tid!r} is not the payment of {kispg_ord_no!r}")
    if amount != str(order.goods_amt):
        raise NoticeRefused(409, f"amount {amount!r} is not the order's {order.goods_amt}")
    store.log(order.ord_no, "notice_received", {**shown, "signed": signed})
    if order.status in WAITING + STUCK:
        # Confirm by inquiry (not throttled: a matching notice is worth one question to KISPG).
        order = payments.reconcile(order.ord_no)
    deposit = fields.get("resultCd") in DEPOSIT_NOTICE_CODES or (
        (fields.get("payMethod") or "").lower() == "vacnt" and fields.get("trxStatus") == result_codes.TRX_APPROVED)
    if deposit and order.status == S.EXPIRED:
        return _late_deposit(payments, order)
    unsettled = WAITING + STUCK if deposit else STUCK
    if order.status in unsettled:
        # KISPG does not (yet) show what the notice says, or could not be asked: the sender resends.
        raise NoticeRefused(503, f"order {order.ord_no} is still {order.status}: not confirmed by /v2/order")
    return NoticeTaken(order.ord_no, order.status)


def _late_deposit(payments: Payments, order) -> NoticeTaken:
    """A deposit notice for an order we expired: if KISPG shows the money, a person must refund or ship.

    Nothing automatic leaves `expired` (lifecycle.FINAL), so the order stays; the event says why
    someone has to look. A notice KISPG does not bear out is refused like any other.
    """
    try:
        inquiry = payments.client.inquire(tid=order.tid, goods_amt=order.goods_amt)
    except KispgError as exc:
        raise NoticeRefused(503, f"/v2/order could not confirm the deposit: {type(exc).__name__}") from None
    if (inquiry.trx_status, inquiry.ord_no, inquiry.amt) != (result_codes.TRX_APPROVED, order.kispg_ord_no,
                                                            str(order.goods_amt)):
        raise NoticeRefused(409, f"KISPG shows no deposit into expired order {order.ord_no}'s account")
    payments.store.log(order.ord_no, "late_deposit_reported", {"tid": order.tid, "trxStatus": inquiry.trx_status})
    return NoticeTaken(order.ord_no, order.status)
