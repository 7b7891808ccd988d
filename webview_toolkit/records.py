"""What the store hands out: an order, its request, its attempts, and a change asked of it; frozen rows."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from . import vbank
from .lifecycle import OrderStatus, S


class AttemptOutcome(StrEnum):
    """What became of one attempt (the order's status says what became of the order)."""

    OPEN = "open"  # the form was offered; nothing came back yet
    AUTHENTICATED = "authenticated"
    APPROVED = "approved"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"
    EXPIRED = "expired"


# The attempt's outcome that follows from the order entering a state (cancels leave it alone).
OUTCOME_FOR = MappingProxyType({
    S.AUTHENTICATED: AttemptOutcome.AUTHENTICATED, S.PAID: AttemptOutcome.APPROVED,
    S.AWAITING_DEPOSIT: AttemptOutcome.APPROVED, S.FAILED: AttemptOutcome.FAILED,
    S.UNKNOWN: AttemptOutcome.UNKNOWN, S.NEEDS_REVIEW: AttemptOutcome.NEEDS_REVIEW,
    S.EXPIRED: AttemptOutcome.EXPIRED,
})


@dataclass(frozen=True, slots=True)
class Change:
    """One declared change for `OrderStore.transitions`: the arguments `transition` takes."""

    to: OrderStatus
    event: str
    detail: dict | None = None
    only_from: Iterable[OrderStatus] | None = None
    expect_tid: str | None = None
    attempt: int | None = None
    bind_tid: str | None = None
    new_attempt: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)  # column values to set besides status


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the shop asked to be paid and which attempt pays it: the head of every order row, all the checkout reads."""

    ord_no: str
    status: str
    goods_nm: str
    goods_amt: int
    ord_nm: str
    ord_tel: str
    ord_email: str | None
    pay_method: str | None
    mbs_usr_id: str | None
    user_ip: str | None
    created_at: datetime  # the checkout refuses a created order past WEBVIEW_ORDER_TTL
    attempt_no: int

    @property
    def kispg_ord_no(self) -> str:
        """The ordNo KISPG sees for the current attempt."""
        return attempt_ord_no(self.ord_no, self.attempt_no)


@dataclass(frozen=True, slots=True)
class CheckoutOrder(OrderRequest):
    """What the checkout page reads on every view: the order's request and the current attempt's token."""

    token: str


@dataclass(frozen=True, slots=True)
class Order(OrderRequest):
    """One order as stored: what was ordered, then what the payment made of it."""

    tid: str | None
    result_cd: str | None
    result_msg: str | None
    pay_method_result: str | None
    app_no: str | None
    app_dtm: str | None
    card_code: str | None
    fn_nm: str | None
    easy_pay_cd: str | None
    cancelled_amt: int
    status_before_cancel: str | None
    pending_cancel_amt: int | None
    updated_at: datetime
    next_check_at: datetime | None
    environment: str | None
    merchant_order_id: str | None = None
    merchant_metadata: str | None = None  # JSON text of an object
    vacnt_no: str | None = None
    vbank_cd: str | None = None
    vacnt_holder: str | None = None
    lmt_day: str | None = None

    @property
    def remaining_amt(self) -> int:
        """What is still charged: the amount less everything cancelled."""
        return self.goods_amt - self.cancelled_amt

    def as_dict(self, attempts: "Iterable[Attempt]" = ()) -> dict[str, Any]:
        """The JSON shape of `GET /api/orders/<ordNo>`."""
        return {
            "ordNo": self.ord_no, "status": self.status, "goodsNm": self.goods_nm,
            "goodsAmt": self.goods_amt, "cancelledAmt": self.cancelled_amt,
            "remainingAmt": self.remaining_amt, "payMethod": self.pay_method_result or self.pay_method,
            "tid": self.tid, "resultCd": self.result_cd, "resultMsg": self.result_msg,
            "appNo": self.app_no, "appDtm": self.app_dtm, "cardCode": self.card_code, "fnNm": self.fn_nm,
            "easyPayCd": self.easy_pay_cd,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
            "attempts": [attempt.as_dict() for attempt in attempts],
            "environment": self.environment,
            "merchantOrderId": self.merchant_order_id,
            "metadata": json.loads(self.merchant_metadata) if self.merchant_metadata else {},
            "virtualAccount": self.virtual_account(),
        }

    def virtual_account(self) -> dict[str, Any] | None:
        """The issued virtual account as the API shows it (bank name from the §9 table), or None."""
        return vbank.account_of(self).as_dict() if self.vacnt_no else None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One checkout attempt of an order, as stored."""

    ord_no: str
    n: int
    kispg_ord_no: str
    token: str
    tid: str | None
    outcome: str
    result_cd: str | None
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The attempt as the API shows it (never its token)."""
        return {"n": self.n, "kispgOrdNo": self.kispg_ord_no, "tid": self.tid, "outcome": self.outcome,
                "resultCd": self.result_cd, "createdAt": aware(self.created_at).isoformat(),
                "updatedAt": aware(self.updated_at).isoformat()}


def aware(moment: datetime) -> datetime:
    """The moment with its UTC offset (SQLite hands back naive datetimes; they were stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, whatever the database handed back."""
    return aware(moment).isoformat()


def attempt_ord_no(ord_no: str, n: int) -> str:
    """The ordNo KISPG sees for attempt n: the order's own for the first, then `<ordNo>-<n>`."""
    return ord_no if n == 1 else f"{ord_no}-{n}"
