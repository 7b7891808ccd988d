"""The automatic probes as data: one row per request, and `build_request()` that turns a row into fields.

Every probe is safe against a live KISPG: it names a tid dated 2000-01-01 (no such payment
can exist, so no cancel can touch a real one) or an ordNo nobody uses, and it changes no
state there. To add a probe, add one row to PROBES; `tests/test_conformance_probes.py`
checks that each row builds and that the sandbox answers it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Mapping

from ..kispg.signing import edi_date_now, sign

PATHS = MappingProxyType({"payment": "/v2/payment", "cancel": "/v2/cancel", "order": "/v2/order", "auth": "/v2/auth"})
JSON_ENDPOINTS = ("payment", "cancel", "order")
# Never called: the auth probe is refused before any pay window opens.
PROBE_RETURN_URL = "https://conformance.invalid/return"
AMOUNT = "1004"
# mid(10) + method 01 + kind 01 + yyMMddHHmmss 000101000000 + 0000: a tid from before KISPG's API existed.
UNKNOWN_TID_TAIL = "0101000101000000" + "0000"
UNKNOWN_ORD_NO = "wvtk-conformance-unknown-ordno"
# Any 64 hex characters that are not the hash: the server must say the hash does not match.
WRONG_ENC_DATA = "0" * 64
STALE_BY = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Probe:
    """One automatic probe: which endpoint, how the request departs from a well-formed one, and why."""

    id: str
    endpoint: str
    title_en: str
    title_ko: str
    # What public sources say the live service answers (empty: nothing known beyond the guide).
    expect: str = ""
    body: str = "json"
    wrong_hash: bool = False
    stale: bool = False
    omit: str = ""
    rename: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def path(self) -> str:
        """The endpoint's path, e.g. /v2/payment."""
        return PATHS[self.endpoint]


def _row(id: str, endpoint: str, title_en: str, title_ko: str, expect: str = "", **how) -> Probe:
    if "rename" in how:
        how["rename"] = MappingProxyType(dict(how["rename"]))
    return Probe(id, endpoint, title_en, title_ko, expect, **how)


# What each JSON endpoint's request is called in a probe's titles.
VERBS = MappingProxyType({"payment": ("approval", "승인"), "cancel": ("cancel", "취소"), "order": ("inquiry", "조회")})


def _per_endpoint(name: str, title_en: str, title_ko: str, expect: str | Mapping[str, str] = "",
                  **how) -> tuple[Probe, ...]:
    # The same departure sent to each JSON endpoint: ids <endpoint>_<name>, {verb} filled in per endpoint;
    # `expect` is one text for all, or one per endpoint (an endpoint left out: nothing known).
    return tuple(_row(f"{endpoint}_{name}", endpoint, title_en.format(verb=VERBS[endpoint][0]),
                      title_ko.format(verb=VERBS[endpoint][1]),
                      expect if isinstance(expect, str) else expect.get(endpoint, ""), **how)
                 for endpoint in JSON_ENDPOINTS)


PROBES: tuple[Probe, ...] = (
    _row("order_unknown_ordno", "order", "inquiry of an ordNo nobody used", "없는 주문번호 조회"),
    _row("payment_unknown_tid", "payment", "approval of an unknown tid", "없는 거래번호 승인"),
    _row("cancel_unknown_tid", "cancel", "cancel of an unknown tid", "없는 거래번호 취소"),
    *_per_endpoint("wrong_encdata", "{verb} with a wrong encData", "틀린 encData로 {verb}",
                   "hash-mismatch code (A211 in the NICE family)", wrong_hash=True),
    *_per_endpoint("stale_edidate", "{verb} with an ediDate 30 minutes old", "30분 지난 ediDate로 {verb}",
                   "refused: ediDate is valid for 10 minutes (guide)", stale=True),
    *_per_endpoint("form_body", "{verb} sent as a form, not JSON", "JSON 대신 폼으로 {verb} 요청",
                   {"payment": "HTTP 415 (reported by public integrations)",
                    "cancel": "HTTP 415 (reported by public integrations)"}, body="form"),
    _row("payment_missing_tid", "payment", "approval without tid", "tid 없이 승인",
         "필수입력항목이 빠져있습니다.(tid)", omit="tid"),
    _row("cancel_missing_partcanflg", "cancel", "cancel without partCanFlg", "partCanFlg 없이 취소",
         "필수입력항목이 빠져있습니다.(partCanFlg) (seen from the real service)", omit="partCanFlg"),
    _row("order_missing_goodsamt", "order", "inquiry without goodsAmt", "goodsAmt 없이 조회",
         "필수입력항목이 빠져있습니다.(goodsAmt)", omit="goodsAmt"),
    _row("auth_wrong_encdata", "auth", "auth form with a wrong encData", "틀린 encData로 인증 요청",
         "an error page; the sandbox answers HTTP 400 (its own choice)", body="form", wrong_hash=True),
    _row("payment_charset_spelled_charSet", "payment", "approval spelling the field charSet, as the official "
         "samples do", "charset 대신 charSet 필드로 승인", "accepted like charset (official samples spell charSet)",
         rename={"charset": "charSet"}),
)

PROBES_BY_ID: Mapping[str, Probe] = MappingProxyType({probe.id: probe for probe in PROBES})


def unknown_tid(mid: str) -> str:
    """A well-formed 30-character tid of this merchant that cannot exist (dated 2000-01-01)."""
    return f"{mid}{UNKNOWN_TID_TAIL}"


def base_fields(endpoint: str, mid: str, merchant_key: str, edi_date: str) -> dict[str, str]:
    """A well-formed, signed request to an endpoint about an unknown tid or ordNo."""
    enc_data = sign(mid, edi_date, AMOUNT, merchant_key)
    if endpoint == "payment":
        return {"mid": mid, "tid": unknown_tid(mid), "goodsAmt": AMOUNT, "ediDate": edi_date,
                "encData": enc_data, "charset": "UTF-8"}
    if endpoint == "cancel":
        return {"payMethod": "card", "tid": unknown_tid(mid), "mid": mid, "canAmt": AMOUNT,
                "canMsg": "conformance probe", "partCanFlg": "0", "encData": enc_data,
                "ediDate": edi_date, "charset": "UTF-8"}
    if endpoint == "order":
        return {"mid": mid, "ordNo": UNKNOWN_ORD_NO, "goodsAmt": AMOUNT, "encData": enc_data, "ediDate": edi_date}
    if endpoint == "auth":
        return {"payMethod": "card", "trxCd": "0", "mid": mid, "goodsNm": "conformance probe", "currencyType": "KRW",
                "ordNo": UNKNOWN_ORD_NO, "goodsAmt": AMOUNT, "ordNm": "probe", "ordTel": "01000000000",
                "model": "MOB", "channel": "0002", "ediDate": edi_date, "returnUrl": PROBE_RETURN_URL,
                "encData": enc_data, "charset": "UTF-8", "payReqType": "1"}
    raise ValueError(f"unknown endpoint {endpoint!r}; choose one of {', '.join(PATHS)}")


def build_request(probe: Probe, mid: str, merchant_key: str, now: datetime) -> dict[str, str]:
    """The fields this probe sends, signed at now (or 30 minutes before it for a stale probe)."""
    moment = now - STALE_BY if probe.stale else now
    fields = base_fields(probe.endpoint, mid, merchant_key, edi_date_now(moment))
    if probe.wrong_hash:
        fields["encData"] = WRONG_ENC_DATA
    if probe.omit:
        fields.pop(probe.omit)
    for old, new in probe.rename.items():
        fields[new] = fields.pop(old)
    return fields
