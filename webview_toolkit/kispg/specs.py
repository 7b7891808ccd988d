"""The guide's §3 tables as data, and `validate()` that checks a message against one before sending.

Sizes are bytes in the message's charset: a Korean goodsNm of 40 characters is
120 bytes in UTF-8 and 80 in EUC-KR. Nothing is ever truncated.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from .errors import (DigitsOnlyError, FieldError, FieldSizeError, MissingFieldError,
                     UnencodableFieldError, UnknownFieldError)

CHARSETS = MappingProxyType({"UTF-8": "utf-8", "EUC-KR": "euc-kr"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One row of a table: name, required, digits-only, max bytes (None: unbounded), fixed size."""

    name: str
    size: int | None
    required: bool = False
    digits: bool = False
    fixed: bool = False


@dataclass(frozen=True, slots=True)
class Spec:
    """One table of the guide; `one_of` names fields of which at least one is required."""

    name: str
    section: str
    fields: tuple[FieldSpec, ...]
    one_of: tuple[str, ...] = ()
    name_set: frozenset[str] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "name_set", frozenset(row.name for row in self.fields))

    def field(self, name: str) -> FieldSpec:
        """The row for a field name (KeyError if the table has none)."""
        for row in self.fields:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in the guide's order."""
        return tuple(row.name for row in self.fields)


# The guide says 5 bytes for charset in §3.1.1 and §3.2.1, yet its own value EUC-KR has 6 (and §3.3.1 says 10).
CHARSET_SIZE = 6


def F(name: str, size: int | None, req: bool = False, digits: bool = False, fixed: bool = False) -> FieldSpec:
    """Shorthand for a table row."""
    return FieldSpec(name, size, req, digits, fixed)


# §3.1.1 인증 요청 파라미터
AUTH_REQUEST = Spec("auth_request", "3.1.1", (
    F("payMethod", 10), F("trxCd", 1, True), F("mid", 10, True, fixed=True),
    F("goodsNm", 100, True), F("currencyType", 3, True), F("ordNo", 40, True),
    F("goodsAmt", 15, True, True), F("discountAmt", 15, digits=True), F("mbsFeeAmt", 15, digits=True),
    F("ordNm", 30, True), F("ordTel", 20, True, True), F("ordEmail", 60), F("userIp", 20),
    F("mbsUsrId", 20), F("ordGuardEmail", 60), F("rcvrAddr", 100), F("rcvrPost", 6),
    F("mbsIp", 20), F("mbsReserved", 500), F("rcvrMsg", 255),
    F("goodsSplAmt", 15, digits=True), F("goodsVat", 15, digits=True), F("goodsSvsAmt", 15, digits=True),
    F("channel", 4), F("model", 3, True), F("period", 21),
    F("ediDate", 14, True, True, True), F("encData", 256, True), F("returnUrl", 255, True),
    F("billHpFlg", 1), F("charset", CHARSET_SIZE), F("appSchemeFlg", 1), F("resultScheme", 256),
    F("cancelScheme", 256), F("payReqType", 1), F("crctType", 1), F("crctNo", 15),
    F("cupDepositAmt", 15, digits=True),
))

# §3.1.2 인증 결과 파라미터 (on failure only resultCd and resultMsg)
AUTH_RESULT = Spec("auth_result", "3.1.2", (
    F("resultCd", 4, True), F("resultMsg", 100, True), F("payMethod", 10), F("tid", 30),
    F("ordNo", 40), F("amt", 15, digits=True), F("mbsReserved", 500),
    F("ediDate", 14, digits=True, fixed=True), F("encData", 256),
))

# §3.2.1 승인 요청 파라미터
APPROVAL_REQUEST = Spec("approval_request", "3.2.1", (
    F("mid", 10, True, fixed=True), F("tid", 30, True), F("goodsAmt", 15, True, True),
    F("ediDate", 14, True, True, True), F("encData", 256, True), F("charset", CHARSET_SIZE),
))

# §3.2.2 승인 결과 파라미터
APPROVAL_RESPONSE = Spec("approval_response", "3.2.2", (
    F("resultCd", 4, True), F("resultMsg", 100, True), F("payMethod", 10), F("tid", 30),
    F("appDtm", 14), F("appNo", 20), F("ordNo", 40), F("goodsName", 100), F("amt", 15, digits=True),
    F("ordNm", 30), F("fnNm", 20), F("cancelYN", 1), F("appCardCd", 2), F("acqCardCd", 2),
    F("quota", 2), F("nointFlg", 1), F("usePointAmt", 12), F("cardType", 1), F("authType", 2),
    F("cashCrctFlg", 1), F("vacntNo", 20), F("lmtDay", 8), F("socHpNo", 20), F("cardNo", 20),
    F("mbsReserved", 500), F("crctType", 1), F("crctNo", 15), F("easyPayCd", 2),
    F("easyPayNm", None), F("discountType", 2), F("discountAmt", 15), F("mbsFeeType", 2),
    F("mbsFeeAmt", 15),
))

# §3.3.1 취소 요청 파라미터 (refund* are required for a virtual-account refund)
CANCEL_REQUEST = Spec("cancel_request", "3.3.1", (
    F("payMethod", 10, True), F("tid", 30, True), F("mid", 10, True, fixed=True), F("ordNo", 40),
    F("canAmt", 15, True, True), F("canId", 20), F("canNm", 30), F("canMsg", 100, True),
    F("canIp", 20), F("partCanFlg", 1, True, True), F("refundBankCd", 3), F("refundAccnt", 20),
    F("refundNm", 30), F("encData", 255, True), F("ediDate", 14, True, True, True),
    F("goodsSplAmt", 15, digits=True), F("goodsVat", 15, digits=True), F("goodsSvsAmt", 15, digits=True),
    F("charset", 10), F("mbsReserved", 500),
))

# §3.3.2 결제취소 응답 파라미터
CANCEL_RESPONSE = Spec("cancel_response", "3.3.2", (
    F("resultCd", 4, True), F("resultMsg", 100, True), F("payMethod", 10), F("tid", 30),
    F("appDtm", 14), F("appNo", 20), F("ordNo", 40), F("amt", 15, digits=True),
    F("cancelYN", 1), F("mbsReserved", 500),
))

# §3.4.1 결제 내역 조회 요청 파라미터 (tid or ordNo; tid wins when both are sent)
INQUIRY_REQUEST = Spec("inquiry_request", "3.4.1", (
    F("mid", 10, True, fixed=True), F("tid", 30), F("ordNo", 40), F("goodsAmt", 15, True, True),
    F("encData", 255, True), F("ediDate", 14, True, True, True),
), one_of=("tid", "ordNo"))

# §3.4.2 결제 내역 조회 결과 파라미터
INQUIRY_RESPONSE = Spec("inquiry_response", "3.4.2", (
    F("resultCd", 4, True), F("resultMsg", 100, True), F("payMethod", 10), F("tid", 30),
    F("appDtm", 14), F("appNo", 20), F("ordNo", 40), F("goodsName", 100), F("amt", 15, digits=True),
    F("ordNm", 30), F("fnNm", 20), F("cancelYN", 1), F("appCardCd", 2), F("acqCardCd", 2),
    F("quota", 2), F("usePointAmt", 12), F("cardType", 1), F("authType", 2), F("socHpNo", 20),
    F("cardNo", 20), F("mbsReserved", 500), F("cancelData", None), F("discountType", 2),
    F("discountAmt", 15), F("mbsFeeType", 2), F("mbsFeeAmt", 15), F("cashCrctFlg", 1),
    F("crctType", 1), F("crctNo", 15), F("vacntNo", 20), F("lmtDay", 8), F("trxStatus", 12),
))

SPECS: Mapping[str, Spec] = MappingProxyType({spec.name: spec for spec in (
    AUTH_REQUEST, AUTH_RESULT, APPROVAL_REQUEST, APPROVAL_RESPONSE,
    CANCEL_REQUEST, CANCEL_RESPONSE, INQUIRY_REQUEST, INQUIRY_RESPONSE,
)})


def codec_for(charset: str) -> str:
    """The Python codec for a KISPG charset name (ValueError for anything but UTF-8 / EUC-KR)."""
    try:
        return CHARSETS[charset.upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"charset must be one of {', '.join(CHARSETS)}, got {charset!r}") from None


def validate(spec_name: str, fields: Mapping[str, Any], charset: str = "UTF-8",
             extra: Iterable[str] = ()) -> dict[str, str]:
    """Check fields against a table; return them as strings (empty optional ones dropped) or raise FieldError."""
    spec = SPECS[spec_name]
    codec = codec_for(charset)
    allowed = spec.name_set.union(extra) if extra else spec.name_set
    values: dict[str, str] = {}
    for name, raw in fields.items():
        if name not in allowed:
            raise UnknownFieldError(f"{name}: not a field of {spec.name} (guide §{spec.section})",
                                    field=name, spec=spec.name)
        value = raw if type(raw) is str else _as_text(name, raw, spec.name)
        if value != "":
            values[name] = value
    for row in spec.fields:
        value = values.get(row.name)
        if value is None:
            if row.required:
                raise MissingFieldError(f"{row.name}: required by {spec.name} (guide §{spec.section})",
                                        field=row.name, limit="required", spec=spec.name)
            continue
        _check_value(row, value, spec.name, charset, codec)
    if spec.one_of and not any(name in values for name in spec.one_of):
        either = " or ".join(spec.one_of)
        raise MissingFieldError(f"{either}: {spec.name} needs one of them", field=spec.one_of[0],
                                limit="one of " + either, spec=spec.name)
    return values


def _as_text(name: str, raw: Any, spec_name: str) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise DigitsOnlyError(f"{name}: must be a string or an int, got {type(raw).__name__}",
                              field=name, limit="string", spec=spec_name)
    return str(raw)


def _check_value(row: FieldSpec, value: str, spec_name: str, charset: str, codec: str) -> None:
    if row.digits and not (value.isascii() and value.isdigit()):
        raise DigitsOnlyError(f"{row.name}: digits only (0-9), got {len(value)} characters with others",
                              field=row.name, limit="digits", spec=spec_name)
    if value.isascii():
        size, bad = len(value), None  # one byte per character in UTF-8 and EUC-KR alike
    else:
        size, bad = _encoded_size(value, codec)
    if bad is not None:
        raise UnencodableFieldError(f"{row.name}: {bad!r} cannot be encoded in {charset}",
                                    field=row.name, limit=charset, spec=spec_name)
    if row.size is None:
        return
    if row.fixed and size != row.size:
        raise FieldSizeError(f"{row.name}: must be exactly {row.size} bytes, got {size}",
                                field=row.name, limit=row.size, spec=spec_name, size=size, charset=charset)
    if size > row.size:
        raise FieldSizeError(f"{row.name}: {size} bytes in {charset}, limit {row.size}",
                                field=row.name, limit=row.size, spec=spec_name, size=size, charset=charset)


def field_problem(spec_name: str, name: str, value: str, charset: str = "UTF-8") -> str | None:
    """What is wrong with one field's value under a table (its FieldError message), or None."""
    try:
        _check_value(SPECS[spec_name].field(name), value, spec_name, charset, codec_for(charset))
    except FieldError as exc:
        return str(exc)
    return None


def _encoded_size(value: str, codec: str) -> tuple[int, str | None]:
    """Bytes in codec, and the first character it cannot encode (None if all can)."""
    try:
        encoded = value.encode(codec)
    except UnicodeEncodeError as exc:
        return 0, value[exc.start:exc.end]
    if codec == "euc-kr" and not value.isascii():
        # Python spells syllables outside KS X 1001 (뷁) as 8-byte jamo sequences no PG decodes.
        for char in value:
            if len(char.encode(codec)) > 2:
                return 0, char
    return len(encoded), None
