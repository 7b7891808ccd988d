"""Typed, frozen results of the KISPG calls; `raw` keeps every field KISPG sent."""
from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value)


def _raw(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The verified auth result posted to returnUrl (§3.1.2)."""

    result_cd: str
    result_msg: str
    pay_method: str
    tid: str
    ord_no: str
    amt: str
    mbs_reserved: str
    edi_date: str

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> AuthResult:
        """Build from the posted form fields."""
        return cls(*(_text(data, n) for n in (
            "resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "mbsReserved", "ediDate")))


@dataclass(frozen=True, slots=True)
class Approval:
    """A successful /v2/payment answer (§3.2.2); virtual accounts carry vacnt_no and lmt_day."""

    result_cd: str
    result_msg: str
    pay_method: str
    tid: str
    ord_no: str
    amt: str
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
    raw: Mapping[str, Any]

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> Approval:
        """Build from the decoded JSON answer."""
        names = ("resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "appDtm", "appNo",
                 "goodsName", "fnNm", "cardNo", "appCardCd", "quota", "easyPayCd", "vacntNo",
                 "lmtDay", "mbsReserved")
        return cls(*(_text(data, n) for n in names), raw=_raw(data))


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A successful /v2/cancel answer (§3.3.2)."""

    result_cd: str
    result_msg: str
    pay_method: str
    tid: str
    ord_no: str
    amt: str
    app_dtm: str
    app_no: str
    cancel_yn: str
    mbs_reserved: str
    raw: Mapping[str, Any]

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> Cancellation:
        """Build from the decoded JSON answer."""
        names = ("resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "appDtm", "appNo",
                 "cancelYN", "mbsReserved")
        return cls(*(_text(data, n) for n in names), raw=_raw(data))


@dataclass(frozen=True, slots=True)
class CancelEntry:
    """One row of cancelData: the cancel's own tid, when, how much, and what is left."""

    tid: str
    cc_dtm: str
    cc_amt: int
    remain_amt: int


@dataclass(frozen=True, slots=True)
class Inquiry:
    """A successful /v2/order answer (§3.4.2) with cancelData parsed."""

    result_cd: str
    result_msg: str
    pay_method: str
    tid: str
    ord_no: str
    amt: str
    app_dtm: str
    app_no: str
    trx_status: str
    cancel_yn: str
    cancels: tuple[CancelEntry, ...]
    raw: Mapping[str, Any]

    @property
    def remaining(self) -> int:
        """What can still be cancelled, from the last cancelData row (the amount when none)."""
        if self.cancels:
            return self.cancels[-1].remain_amt
        return int(self.amt or 0)

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> Inquiry:
        """Build from the decoded JSON answer; ValueError if cancelData is not the documented JSON."""
        names = ("resultCd", "resultMsg", "payMethod", "tid", "ordNo", "amt", "appDtm", "appNo",
                 "trxStatus", "cancelYN")
        return cls(*(_text(data, n) for n in names), cancels=parse_cancel_data(data.get("cancelData")),
                   raw=_raw(data))


def parse_cancel_data(value: Any) -> tuple[CancelEntry, ...]:
    """cancelData (a JSON string, or already a list) as CancelEntry rows; empty when absent."""
    if value in (None, ""):
        return ()
    rows = json.loads(value) if isinstance(value, str) else value
    if not isinstance(rows, list):
        raise ValueError("cancelData is not a JSON list")
    return tuple(CancelEntry(tid=str(r["tid"]), cc_dtm=str(r["ccDtm"]), cc_amt=int(r["ccAmt"]),
                             remain_amt=int(r["remainAmt"])) for r in rows)
