"""encData as §7 defines it, ediDate in KST, and verification of the auth result posted to returnUrl.

Auth, approval and inquiry hash `mid + ediDate + goodsAmt + key`; cancel hashes
`mid + ediDate + canAmt + key`. Both are lowercase hex SHA-256 of the UTF-8 bytes,
with the key used as written. Comparisons use `hmac.compare_digest`.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from .result_codes import AUTH_OK
from .errors import DeclinedError, MalformedSignature, SignatureMismatch, StaleSignature
from .answers import AuthResult

KST = timezone(timedelta(hours=9), "KST")
EDI_FORMAT = "%Y%m%d%H%M%S"
MAX_AGE = timedelta(minutes=10)
# A peer's clock may run a little ahead of ours.
MAX_SKEW = timedelta(minutes=1)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]+")


def sign(mid: str, edi_date: str, amount: str | int, merchant_key: str) -> str:
    """encData: lowercase hex SHA-256 of mid + ediDate + amount + key (amount is canAmt for cancel)."""
    message = f"{mid}{edi_date}{amount}{merchant_key}".encode("utf-8")
    return hashlib.sha256(message).hexdigest()


def edi_date_now(now: datetime | None = None) -> str:
    """ediDate (yyyyMMddHHmmss, KST) for now, or for the given aware datetime."""
    moment = datetime.now(KST) if now is None else now
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(KST).strftime(EDI_FORMAT)


def parse_edi_date(edi_date: str) -> datetime:
    """An ediDate as an aware KST datetime; MalformedSignature if it is not yyyyMMddHHmmss."""
    if not isinstance(edi_date, str) or len(edi_date) != 14 or not _DIGITS.fullmatch(edi_date):
        raise MalformedSignature("ediDate must be 14 digits, yyyyMMddHHmmss", field="ediDate")
    try:
        return datetime.strptime(edi_date, EDI_FORMAT).replace(tzinfo=KST)
    except ValueError:
        raise MalformedSignature(f"ediDate {edi_date} is not a real date and time", field="ediDate") from None


def check_edi_date(edi_date: str, now: datetime | None = None, max_age: timedelta = MAX_AGE) -> datetime:
    """The parsed ediDate if it is at most max_age old (and not ahead); else Malformed/StaleSignature."""
    moment = parse_edi_date(edi_date)
    current = datetime.now(KST) if now is None else now
    if current - moment > max_age:
        raise StaleSignature(f"ediDate {edi_date} is older than {_minutes(max_age)} minutes",
                             edi_date=edi_date)
    if moment - current > MAX_SKEW:
        raise StaleSignature(f"ediDate {edi_date} is in the future", edi_date=edi_date)
    return moment


def check_signature(enc_data: Any, mid: str, edi_date: str, amount: str, merchant_key: str) -> None:
    """SignatureMismatch unless enc_data is the hash of these values; MalformedSignature if not hex."""
    if not isinstance(enc_data, str) or not _HEX64.fullmatch(enc_data):
        raise MalformedSignature("encData must be 64 hex characters", field="encData")
    expected = sign(mid, edi_date, amount, merchant_key)
    if not hmac.compare_digest(enc_data.lower().encode("ascii"), expected.encode("ascii")):
        raise SignatureMismatch("encData does not match mid + ediDate + amount with this merchant key")


def verify_auth_result(fields: Mapping[str, Any], *, mid: str, merchant_key: str,
                       now: datetime | None = None, max_age: timedelta = MAX_AGE) -> AuthResult:
    """The auth result if encData and ediDate check out; DeclinedError for a failed auth, else SignatureError."""
    result_cd = fields.get("resultCd")
    if result_cd and result_cd != AUTH_OK:
        result_msg = str(fields.get("resultMsg") or "")
        raise DeclinedError(f"auth failed: {result_cd} {result_msg}".rstrip(), result_cd=str(result_cd),
                            result_msg=result_msg)
    for name in ("resultCd", "amt", "ediDate", "encData"):
        if not fields.get(name):
            raise MalformedSignature(f"{name} is missing from the auth result", field=name)
    amount = fields["amt"]
    if not isinstance(amount, str) or not _DIGITS.fullmatch(amount):
        raise MalformedSignature("amt must be digits", field="amt")
    parse_edi_date(fields["ediDate"])
    check_signature(fields["encData"], mid, fields["ediDate"], amount, merchant_key)
    check_edi_date(fields["ediDate"], now, max_age)
    return AuthResult.from_fields(fields)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def deposit_deadline(lmt_day: str | None) -> datetime | None:
    """The last moment a virtual-account deposit counts: the end of lmtDay (yyyyMMdd) in KST, or None.

    The guide gives lmtDay as a date (§3.2.2, 8 characters); reading it as "until 23:59:59 KST
    that day" is our choice, shared by the service and the sandbox.
    """
    if not lmt_day or len(lmt_day) != 8 or not (lmt_day.isascii() and lmt_day.isdigit()):
        return None  # strptime would also take "2026124" as a date
    try:
        day = datetime.strptime(lmt_day, "%Y%m%d")
    except ValueError:
        return None
    return day.replace(hour=23, minute=59, second=59, tzinfo=KST)
