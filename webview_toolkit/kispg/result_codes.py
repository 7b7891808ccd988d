"""Result codes and wire conventions that the guide does not settle, kept in this one place.

Verified (KISPG_FACTS.md): auth `0000`, cancel `2001`, the NICE-family refusals.
Inferred or unverified values are marked; change them here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

AUTH_OK = "0000"  # verified: official sample and production data


def _frozen(table: dict[str, set[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({k: frozenset(v) for k, v in table.items()})


@dataclass(frozen=True, slots=True)
class SuccessCodes:
    """Which resultCd means success, per operation and pay method (unknown method: any method's)."""

    # Unverified: integrations accept the NICE family 3001/4000/4100/A000 besides 0000.
    approval: Mapping[str, frozenset[str]] = field(default_factory=lambda: _frozen({
        "card": {"0000", "3001"}, "bank": {"0000", "4000"},
        "vacnt": {"0000", "4100"}, "hp": {"0000", "A000"},
    }))
    # Verified 2001 (also partial); 2211 is the NICE virtual-account refund.
    cancel: Mapping[str, frozenset[str]] = field(default_factory=lambda: _frozen({
        "card": {"2001"}, "bank": {"2001"}, "vacnt": {"2001", "2211"}, "hp": {"2001"},
    }))
    # Unverified: the inquiry answers 0000 for a found transaction, or echoes the approval code.
    inquiry_extra: frozenset[str] = frozenset({"0000"})
    default: frozenset[str] = frozenset({"0000"})

    def is_success(self, operation: str, pay_method: str | None, result_cd: str) -> bool:
        """Whether result_cd is a success of operation ('approval', 'cancel', 'inquiry')."""
        method = (pay_method or "").lower()
        if operation == "inquiry":
            return result_cd in self.inquiry_extra or self.is_success("approval", method, result_cd)
        table = self.approval if operation == "approval" else self.cancel
        if method in table:
            return result_cd in table[method]
        # No (or an unknown) payMethod in the answer: any method's success code counts.
        return result_cd in self.default or any(result_cd in codes for codes in table.values())


DEFAULT_SUCCESS = SuccessCodes()

# What the sandbox answers on success (one representative per method).
SANDBOX_APPROVAL_CD = MappingProxyType({"card": "3001", "bank": "4000", "vacnt": "4100", "hp": "A000"})
CANCELLED = "2001"
REFUNDED = "2211"
INQUIRY_FOUND = "0000"  # unverified: what /v2/order answers for a found payment

# Refusals, NICE family (same meaning at KISPG per KISPG_FACTS.md).
ALREADY_CANCELLED = "2013"
DUPLICATE_CANCEL = "2015"
CANCEL_OVER_BALANCE = "2032"
AMOUNT_MISMATCH = "A123"
DUPLICATE_ORDER = "A127"
HASH_MISMATCH = "A211"
# Inquiry refusals that say KISPG does hold a transaction under that tid or ordNo, only not as
# asked (another amount): never "not found". Any other inquiry refusal is taken as "nothing held"
# (KISPG's own not-found code is not public; the sandbox answers UNKNOWN_TRANSACTION).
INQUIRY_HELD_OTHERWISE = frozenset({AMOUNT_MISMATCH})
# Failure seen on PC; the shopper's own cancel gets the same family code.
AUTH_FAILED = "XXXX"

# The sandbox's own codes where KISPG's are unknown: prefixed S so nobody mistakes them.
MISSING_FIELD = "S100"
INVALID_FIELD = "S101"
STALE_EDI_DATE = "S102"
UNKNOWN_MERCHANT = "S103"
UNKNOWN_TRANSACTION = "S104"
AUTH_CANCELLED = "S201"

MESSAGES = MappingProxyType({
    AUTH_OK: "정상처리되었습니다.",
    "3001": "카드 결제 성공", "4000": "계좌이체 성공", "4100": "가상계좌 발급 성공", "A000": "휴대폰 결제 성공",
    CANCELLED: "취소 성공", REFUNDED: "환불 성공",
    ALREADY_CANCELLED: "이미 취소된 거래입니다.", DUPLICATE_CANCEL: "중복 취소 요청입니다.",
    CANCEL_OVER_BALANCE: "취소 금액이 취소 가능 잔액을 초과하였습니다.",
    AMOUNT_MISMATCH: "거래 금액이 일치하지 않습니다.",
    DUPLICATE_ORDER: "MOID 중복 또는 이미 처리된 주문",
    HASH_MISMATCH: "해시값(encData)이 일치하지 않습니다.",
    AUTH_FAILED: "인증에 실패하였습니다.", AUTH_CANCELLED: "사용자가 결제를 취소하였습니다.",
    STALE_EDI_DATE: "전문요청일시(ediDate)가 유효하지 않습니다.",
    UNKNOWN_MERCHANT: "등록되지 않은 가맹점입니다.", UNKNOWN_TRANSACTION: "거래 내역이 없습니다.",
})


def missing_field_message(name: str) -> str:
    """The message KISPG answers for a missing required field (seen from the real service)."""
    return f"필수입력항목이 빠져있습니다.({name})"


# TID layout, inferred from examples: mid(10) + method(2) + kind(2) + yyMMddHHmmss + 4 digits.
TID_METHOD = MappingProxyType({"card": "01", "bank": "02", "vacnt": "03", "hp": "05"})
TID_KIND_PAYMENT = "01"
TID_KIND_CANCEL = "50"  # the cancelData example carries ...01 50 211213150514...

# trxStatus of /v2/order (verified spelling); a partly cancelled payment says APPROVED.
TRX_APPROVED = "승인"
TRX_CANCELLED = "취소"
TRX_AWAITING_DEPOSIT = "입금대기"
