"""Typed, frozen answers of the KISPG calls and the auth result; `raw` keeps every field KISPG sent."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping


# A field's name on the wire is its name in camelCase, except these (the guide's spelling).
_WIRE_NAMES = MappingProxyType({"cancel_yn": "cancelYN"})


def _wire_name(name: str) -> str:
    first, *rest = name.split("_")
    return _WIRE_NAMES.get(name) or first + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class _Fields:
    """What every result KISPG sends opens with; other fields are read by their wire names."""

    result_cd: str
    result_msg: str
    pay_method: str
    tid: str
    ord_no: str
    amt: str

    @classmethod
    def _read(cls, data: Mapping[str, Any], **parsed: Any):
        # Every field not given in `parsed` is text: "" when KISPG left it out or sent null.
        values = dict(parsed)
        for name in (f.name for f in fields(cls) if f.name not in parsed):
            value = data.get(_wire_name(name))
            values[name] = "" if value is None else str(value)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class AuthResult(_Fields):
    """The verified auth result posted to returnUrl (§3.1.2)."""

    mbs_reserved: str
    edi_date: str

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> AuthResult:
        """Build from the posted form fields."""
        return cls._read(data)


@dataclass(frozen=True, slots=True)
class _Answer(_Fields):
    """A JSON answer of the API; `raw` keeps all of it, read-only."""

    raw: Mapping[str, Any] = field(kw_only=True)

    @classmethod
    def from_response(cls, data: Mapping[str, Any]):
        """Build from the decoded JSON answer."""
        return cls._read(data, raw=MappingProxyType(dict(data)))


@dataclass(frozen=True, slots=True)
class Approval(_Answer):
    """A successful /v2/payment answer (§3.2.2); virtual accounts carry vacnt_no and lmt_day."""

    app_dtm: str
    app_no: str
    goods_name: str
    fn_nm: str
    card_no: str
    app_card_cd: str
    quota: str
    easy_pay_cd: str
    vacnt_no: str
    lmt_day: str
    mbs_reserved: str


@dataclass(frozen=True, slots=True)
class Cancellation(_Answer):
    """A successful /v2/cancel answer (§3.3.2)."""

    app_dtm: str
    app_no: str
    cancel_yn: str
    mbs_reserved: str


@dataclass(frozen=True, slots=True)
class CancelEntry:
    """One row of cancelData: the cancel's own tid, when, how much, and what is left."""

    tid: str
    cc_dtm: str
    cc_amt: int
    remain_amt: int


@dataclass(frozen=True, slots=True)
class Inquiry(_Answer):
    """A successful /v2/order answer (§3.4.2) with cancelData parsed."""

    app_dtm: str
    app_no: str
    trx_status: str
    cancel_yn: str
    cancels: tuple[CancelEntry, ...]

    @property
    def remaining(self) -> int:
        """What can still be cancelled, from the last cancelData row (the amount when none)."""
        if self.cancels:
            return self.cancels[-1].remain_amt
        return int(self.amt or 0)

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> Inquiry:
        """Build from the decoded JSON answer; ValueError if cancelData is not the documented JSON."""
        return cls._read(data, cancels=parse_cancel_data(data.get("cancelData")), raw=MappingProxyType(dict(data)))


def parse_cancel_data(value: Any) -> tuple[CancelEntry, ...]:
    """cancelData (a JSON string, or already a list) as CancelEntry rows; empty when absent."""
    if value in (None, ""):
        return ()
    rows = json.loads(value) if isinstance(value, str) else value
    if not isinstance(rows, list):
        raise ValueError("cancelData is not a JSON list")
    return tuple(CancelEntry(tid=str(r["tid"]), cc_dtm=str(r["ccDtm"]), cc_amt=int(r["ccAmt"]),
                             remain_amt=int(r["remainAmt"])) for r in rows)
