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


def field_spec(name: str, size: int | None, required: bool = False, digits: bool = False,
               fixed: bool = False) -> FieldSpec:
    """One row of a guide table, in the table's own column order (name, size, required, digits, fixed)."""
    return FieldSpec(name, size, required, digits, fixed)


# §3.1.1 인증 요청 파라미터
AUTH_REQUEST = Spec("auth_request", "3.1.1", (
    field_spec("payMethod", 10), field_spec("trxCd", 1, True), field_spec("mid", 10, True, fixed=True),
    field_spec("goodsNm", 100, True), field_spec("currencyType", 3, True), field_spec("ordNo", 40, True),
    field_spec("goodsAmt", 15, True, True), field_spec("discountAmt", 15, digits=True),
    field_spec("mbsFeeAmt", 15, digits=True), field_spec("ordNm", 30, True),
    field_spec("ordTel", 20, True, True), field_spec("ordEmail", 60), field_spec("userIp", 20),
    field_spec("mbsUsrId", 20), field_spec("ordGuardEmail", 60), field_spec("rcvrAddr", 100),
    field_spec("rcvrPost", 6), field_spec("mbsIp", 20), field_spec("mbsReserved", 500),
    field_spec("rcvrMsg", 255), field_spec("goodsSplAmt", 15, digits=True),
    field_spec("goodsVat", 15, digits=True), field_spec("goodsSvsAmt", 15, digits=True),
    field_spec("channel", 4), field_spec("model", 3, True), field_spec("period", 21),
    field_spec("ediDate", 14, True, True, True), field_spec("encData", 256, True),
    field_spec("returnUrl", 255, True), field_spec("billHpFlg", 1), field_spec("charset", CHARSET_SIZE),
    field_spec("appSchemeFlg", 1), field_spec("resultScheme", 256), field_spec("cancelScheme", 256),
    field_spec("payReqType", 1), field_spec("crctType", 1), field_spec("crctNo", 15),
    field_spec("cupDepositAmt", 15, digits=True),
))

# §3.1.2 인증 결과 파라미터 (on failure only resultCd and resultMsg)
AUTH_RESULT = Spec("auth_result", "3.1.2", (
    field_spec("resultCd", 4, True), field_spec("resultMsg", 100, True), field_spec("payMethod", 10),
    field_spec("tid", 30), field_spec("ordNo", 40), field_spec("amt", 15, digits=True),
    field_spec("mbsReserved", 500), field_spec("ediDate", 14, digits=True, fixed=True),
    field_spec("encData", 256),
))

# §3.2.1 승인 요청 파라미터
APPROVAL_REQUEST = Spec("approval_request", "3.2.1", (
    field_spec("mid", 10, True, fixed=True), field_spec("tid", 30, True),
    field_spec("goodsAmt", 15, True, True), field_spec("ediDate", 14, True, True, True),
    field_spec("encData", 256, True), field_spec("charset", CHARSET_SIZE),
))

# The rows §3.2.2 and §3.4.2 both open with, in the guide's order: what KISPG says of a payment.
_PAYMENT_ROWS = (
    field_spec("resultCd", 4, True), field_spec("resultMsg", 100, True), field_spec("payMethod", 10),
    field_spec("tid", 30), field_spec("appDtm", 14), field_spec("appNo", 20), field_spec("ordNo", 40),
    field_spec("goodsName", 100), field_spec("amt", 15, digits=True), field_spec("ordNm", 30),
    field_spec("fnNm", 20), field_spec("cancelYN", 1), field_spec("appCardCd", 2), field_spec("acqCardCd", 2),
)

# §3.2.2 승인 결과 파라미터
APPROVAL_RESPONSE = Spec("approval_response", "3.2.2", _PAYMENT_ROWS + (
    field_spec("quota", 2), field_spec("nointFlg", 1), field_spec("usePointAmt", 12),
    field_spec("cardType", 1), field_spec("authType", 2), field_spec("cashCrctFlg", 1),
    field_spec("vacntNo", 20), field_spec("lmtDay", 8), field_spec("socHpNo", 20), field_spec("cardNo", 20),
    field_spec("mbsReserved", 500), field_spec("crctType", 1), field_spec("crctNo", 15),
    field_spec("easyPayCd", 2), field_spec("easyPayNm", None), field_spec("discountType", 2),
    field_spec("discountAmt", 15), field_spec("mbsFeeType", 2), field_spec("mbsFeeAmt", 15),
))

# §3.3.1 취소 요청 파라미터 (refund* are required for a virtual-account refund)
CANCEL_REQUEST = Spec("cancel_request", "3.3.1", (
    field_spec("payMethod", 10, True), field_spec("tid", 30, True), field_spec("mid", 10, True, fixed=True),
    field_spec("ordNo", 40), field_spec("canAmt", 15, True, True), field_spec("canId", 20),
    field_spec("canNm", 30), field_spec("canMsg", 100, True), field_spec("canIp", 20),
    field_spec("partCanFlg", 1, True, True), field_spec("refundBankCd", 3), field_spec("refundAccnt", 20),
    field_spec("refundNm", 30), field_spec("encData", 255, True), field_spec("ediDate", 14, True, True, True),
    field_spec("goodsSplAmt", 15, digits=True), field_spec("goodsVat", 15, digits=True),
    field_spec("goodsSvsAmt", 15, digits=True), field_spec("charset", 10), field_spec("mbsReserved", 500),
))

# §3.3.2 결제취소 응답 파라미터
CANCEL_RESPONSE = Spec("cancel_response", "3.3.2", (
    field_spec("resultCd", 4, True), field_spec("resultMsg", 100, True), field_spec("payMethod", 10),
    field_spec("tid", 30), field_spec("appDtm", 14), field_spec("appNo", 20), field_spec("ordNo", 40),
    field_spec("amt", 15, digits=True), field_spec("cancelYN", 1), field_spec("mbsReserved", 500),
))

# §3.4.1 결제 내역 조회 요청 파라미터 (tid or ordNo; tid wins when both are sent)
INQUIRY_REQUEST = Spec("inquiry_request", "3.4.1", (
    field_spec("mid", 10, True, fixed=True), field_spec("tid", 30), field_spec("ordNo", 40),
    field_spec("goodsAmt", 15, True, True), field_spec("encData", 255, True),
    field_spec("ediDate", 14, True, True, True),
), one_of=("tid", "ordNo"))

# §3.4.2 결제 내역 조회 결과 파라미터
INQUIRY_RESPONSE = Spec("inquiry_response", "3.4.2", _PAYMENT_ROWS + (
    field_spec("quota", 2), field_spec("usePointAmt", 12), field_spec("cardType", 1),
    field_spec("authType", 2), field_spec("socHpNo", 20), field_spec("cardNo", 20),
    field_spec("mbsReserved", 500), field_spec("cancelData", None), field_spec("discountType", 2),
    field_spec("discountAmt", 15), field_spec("mbsFeeType", 2), field_spec("mbsFeeAmt", 15),
    field_spec("cashCrctFlg", 1), field_spec("crctType", 1), field_spec("crctNo", 15),
    field_spec("vacntNo", 20), field_spec("lmtDay", 8), field_spec("trxStatus", 12),
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
