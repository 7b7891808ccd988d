"""The payment state machine: auth result → approval exactly once, cancel, and reconciliation.

    created ──auth ok──▶ authenticated ──claim──▶ approving ──▶ paid
       │                                              ├──declined──▶ failed
       └──auth failed──▶ failed                      └──timeout / garbled──▶ unknown ──inquiry──▶ paid | failed | cancelled
    paid / partially_cancelled ──claim──▶ cancelling ──▶ partially_cancelled | cancelled (or back, if declined)

Every arrow is a conditional UPDATE in the store, so however many times and however
concurrently a result is posted, one request wins each claim and only it calls KISPG.
No Flask here: the web layer and the CLI both drive this.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from .kispg import errors as kerr
from .kispg import specs
from .kispg.client import KispgClient
from .kispg.signing import verify_auth_result
from .store import Order, OrderStore

AUTH_OK = "0000"
# States a reconcile resolves. What KISPG does not (yet) show is conclusive only once the order
# has sat `settle_after` seconds: before that, an approval or cancel may still be in flight.
STUCK_STATES = ("approving", "unknown", "cancelling")


class PaymentError(Exception):
    """A request the payment flow refuses; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, *, ord_no: str | None = None):
        super().__init__(message)
        self.ord_no = ord_no


class UnknownOrder(PaymentError):
    """No order has that ordNo."""

    status = 404


class ReturnRejected(PaymentError):
    """A posted auth result does not match the stored order or its signature."""


class CancelRefused(PaymentError):
    """A cancel that cannot be done in the order's state or for that amount."""

    status = 409


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    """What a returnUrl post did: the order after it, and whether this post ran the approval."""

    order: Order
    approved_here: bool


class Payments:
    """Runs approvals, cancels and inquiries for one merchant against one store."""

    def __init__(self, store: OrderStore, client: KispgClient, *, mid: str, merchant_key: str,
                 clock: Callable[[], datetime] | None = None, settle_after: float = 60.0):
        self.store = store
        self.client = client
        self.mid = mid
        self._key = merchant_key
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.settle_after = timedelta(seconds=settle_after)

    # -- returnUrl -----------------------------------------------------------

    def handle_return(self, form: Mapping[str, str], ord_no_hint: str | None = None) -> ReturnOutcome:
        """Verify a posted auth result against the stored order and approve it at most once."""
        if any("\x00" in value for value in form.values()) or (ord_no_hint and "\x00" in ord_no_hint):
            # No genuine result carries one, and PostgreSQL cannot store it.
            raise ReturnRejected("the result contains a NUL character", ord_no=None)
        ord_no = form.get("ordNo") or ord_no_hint
        if ord_no_hint and form.get("ordNo") and form.get("ordNo") != ord_no_hint:
            raise ReturnRejected("ordNo in the result does not match the returnUrl's order", ord_no=ord_no_hint)
        if not ord_no:
            raise ReturnRejected("the result carries no ordNo")
        order = self._order(ord_no)
        result_cd = form.get("resultCd", "")
        if result_cd != AUTH_OK:
            message = form.get("resultMsg") or "결제가 취소되었거나 인증에 실패했습니다."
            self.store.transition(ord_no, ("created",), "failed", event_kind="auth_failed",
                                  detail={"resultCd": result_cd, "resultMsg": message},
                                  result_cd=result_cd[:8] or None, result_msg=message[:200])
            return ReturnOutcome(self._order(ord_no), False)
        self._verify_auth(order, form)
        tid = form["tid"]
        self.store.transition(ord_no, ("created",), "authenticated", event_kind="authenticated",
                              detail={"tid": tid, "payMethod": form.get("payMethod")},
                              tid=tid, result_cd=AUTH_OK, pay_method_result=form.get("payMethod"))
        if not self.store.transition(ord_no, ("authenticated",), "approving", event_kind="approval_claimed",
                                     require_tid=tid):
            self.store.log(ord_no, "return_duplicate", {"tid": tid})
            return ReturnOutcome(self._order(ord_no), False)
        return ReturnOutcome(self._approve(self._order(ord_no)), True)

    def _verify_auth(self, order: Order, form: Mapping[str, str]) -> None:
        problem = None
        if form.get("amt") != str(order.goods_amt):
            problem = f"amount {form.get('amt')!r} does not match the order's {order.goods_amt}"
        elif len(form.get("tid", "")) != 30:
            problem = "tid must be 30 characters"
        elif specs.field_problem("auth_result", "payMethod", form.get("payMethod", "")):
            # Outside the signature, and stored: held to the guide's table like every other field.
            problem = specs.field_problem("auth_result", "payMethod", form.get("payMethod", ""))
        else:
            try:
                verify_auth_result(form, mid=self.mid, merchant_key=self._key, now=self.clock())
            except kerr.SignatureError as exc:
                problem = str(exc)
        if problem:
            self.store.log(order.ord_no, "return_rejected", {"reason": problem})
            raise ReturnRejected(problem, ord_no=order.ord_no)

    def _approve(self, order: Order) -> Order:
        try:
            result = self.client.approve(tid=order.tid, goods_amt=order.goods_amt)
        except kerr.ResponseMismatchError as exc:
            self.store.log(order.ord_no, "approval_mismatch", {"reason": str(exc)})
            return self._net_cancel(order, ("approving",), str(exc))
        except kerr.DeclinedError as exc:
            self.store.transition(order.ord_no, ("approving",), "failed", event_kind="approval_declined",
                                  detail={"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                  result_cd=exc.result_cd, result_msg=exc.result_msg)
            return self._order(order.ord_no)
        except kerr.KispgError as exc:
            # Timeout, transport, HTTP status or a garbled answer: KISPG may have approved.
            self.store.transition(order.ord_no, ("approving",), "unknown", event_kind="approval_unknown",
                                  detail={"error": type(exc).__name__, "message": str(exc)})
            return self.reconcile(order.ord_no)
        mismatch = self._approval_mismatch(order, result)
        if mismatch:
            self.store.log(order.ord_no, "approval_mismatch", {"reason": mismatch})
            return self._net_cancel(order, ("approving",), mismatch)
        self.store.transition(order.ord_no, ("approving",), "paid", event_kind="paid",
                              detail=_public(result.raw), **_approval_columns(result))
        return self._order(order.ord_no)

    @staticmethod
    def _approval_mismatch(order: Order, result) -> str | None:
        if result.tid != order.tid:
            return f"approval tid {result.tid!r} is not the authenticated {order.tid!r}"
        if str(result.amt) != str(order.goods_amt):
            return f"approved amount {result.amt} is not the order's {order.goods_amt}"
        if result.ord_no and result.ord_no != order.ord_no:
            return f"approval ordNo {result.ord_no!r} is not {order.ord_no!r}"
        return None

    def _net_cancel(self, order: Order, from_states: tuple[str, ...], reason: str) -> Order:
        """Cancel a payment the merchant side cannot complete; unknown if even that fails."""
        try:
            self.client.cancel(order.tid, order.goods_amt, ord_no=order.ord_no, partial=False,
                               pay_method=_method(order), reason="가맹점 처리 불가(망취소)")
        except kerr.KispgError as exc:
            self.store.transition(order.ord_no, from_states, "unknown", event_kind="net_cancel_failed",
                                  detail={"reason": reason, "error": str(exc)})
            return self._order(order.ord_no)
        self.store.transition(order.ord_no, from_states, "cancelled", event_kind="net_cancelled",
                              detail={"reason": reason}, cancelled_amt=order.goods_amt,
                              result_msg=f"망취소: {reason}"[:200])
        return self._order(order.ord_no)

    # -- reconciliation --------------------------------------------------------

    def reconcile(self, ord_no: str) -> Order:
        """Ask KISPG what became of an order whose approval or cancel outcome is unknown."""
        order = self._order(ord_no)
        if order.status not in STUCK_STATES or not order.tid:
            return order
        due = self.is_due(order)
        if order.status == "approving" and not due:
            return order  # a worker is still waiting for KISPG's answer to this approval
        try:
            inquiry = self.client.inquire(tid=order.tid, goods_amt=order.goods_amt)
        except kerr.DeclinedError as exc:
            if order.status == "cancelling":
                return order
            if not due:
                # KISPG may still be processing the approval whose answer was lost: ask again later.
                self.store.log(ord_no, "reconcile_not_yet", {"resultCd": exc.result_cd})
                return order
            # KISPG holds no approval for this order: it was never charged.
            self.store.transition(ord_no, ("approving", "unknown"), "failed", event_kind="reconciled_not_approved",
                                  detail={"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                  result_cd=exc.result_cd, result_msg=exc.result_msg)
            return self._order(ord_no)
        except kerr.KispgError as exc:
            self.store.log(ord_no, "reconcile_failed", {"error": type(exc).__name__, "message": str(exc)})
            return order
        if order.status == "cancelling":
            return self._settle_cancel_from(order, inquiry, due)
        if inquiry.trx_status == "취소":
            self.store.transition(ord_no, ("approving", "unknown"), "cancelled", event_kind="reconciled_cancelled",
                                  detail=_public(inquiry.raw), cancelled_amt=order.goods_amt)
            return self._order(ord_no)
        mismatch = self._approval_mismatch(order, inquiry)
        if mismatch:
            return self._net_cancel(order, ("approving", "unknown"), mismatch)
        self.store.transition(ord_no, ("approving", "unknown"), "paid", event_kind="reconciled_paid",
                              detail=_public(inquiry.raw), **_approval_columns(inquiry))
        return self._order(ord_no)

    def is_due(self, order: Order) -> bool:
        """Whether the order has sat long enough that what KISPG does not show did not happen."""
        return _aware(order.updated_at) <= self.clock() - self.settle_after

    def stuck_orders(self) -> list[Order]:
        """Orders a reconcile pass should look at now."""
        return [o for o in self.store.in_status(STUCK_STATES) if o.status != "approving" or self.is_due(o)]

    def reconcile_all(self) -> list[Order]:
        """Reconcile every stuck order; return them as they are afterwards."""
        return [self.reconcile(order.ord_no) for order in self.stuck_orders()]

    # -- cancel --------------------------------------------------------------

    def cancel(self, ord_no: str, amount: int | None = None, reason: str = "") -> Order:
        """Cancel all of a paid order, or `amount` of it; raise CancelRefused when it cannot."""
        order = self._order(ord_no)
        if order.status not in ("paid", "partially_cancelled"):
            raise CancelRefused(f"order is {order.status}; only paid orders can be cancelled", ord_no=ord_no)
        amount = order.remaining_amt if amount is None else amount
        if not 1 <= amount <= order.remaining_amt:
            raise CancelRefused(f"amount must be between 1 and the remaining {order.remaining_amt}", ord_no=ord_no)
        if not self.store.transition(ord_no, (order.status,), "cancelling", event_kind="cancel_claimed",
                                     detail={"amount": amount, "reason": reason},
                                     status_before_cancel=order.status, pending_cancel_amt=amount):
            raise CancelRefused("the order changed meanwhile; try again", ord_no=ord_no)
        try:
            self.client.cancel(order.tid, amount, ord_no=ord_no, pay_method=_method(order),
                               partial=amount < order.remaining_amt or order.cancelled_amt > 0,
                               reason=reason or "가맹점 요청 취소")
        except kerr.DeclinedError as exc:
            self.store.transition(ord_no, ("cancelling",), order.status, event_kind="cancel_declined",
                                  detail={"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                  pending_cancel_amt=None)
            raise CancelRefused(f"KISPG refused the cancel: {exc.result_cd} {exc.result_msg}", ord_no=ord_no)
        except kerr.KispgError as exc:
            self.store.log(ord_no, "cancel_unknown", {"error": type(exc).__name__, "message": str(exc)})
            return self.reconcile(ord_no)
        cancelled = order.cancelled_amt + amount
        self.store.transition(ord_no, ("cancelling",), "cancelled" if cancelled >= order.goods_amt else "partially_cancelled",
                              event_kind="cancelled", detail={"amount": amount, "cancelledAmt": cancelled},
                              cancelled_amt=cancelled, pending_cancel_amt=None)
        return self._order(ord_no)

    def _settle_cancel_from(self, order: Order, inquiry, due: bool) -> Order:
        """Finish a cancel whose answer was lost, from the inquiry's remaining balance."""
        remaining = inquiry.remaining
        cancelled = order.goods_amt - remaining
        if cancelled <= order.cancelled_amt:
            if not due:
                return order  # the cancel may still be in flight at KISPG: ask again later
            status = order.status_before_cancel or "paid"
        else:
            status = "cancelled" if remaining <= 0 else "partially_cancelled"
        self.store.transition(order.ord_no, ("cancelling",), status, event_kind="reconciled_cancel",
                              detail={"remainingAmt": remaining}, cancelled_amt=max(cancelled, order.cancelled_amt),
                              pending_cancel_amt=None)
        return self._order(order.ord_no)

    def _order(self, ord_no: str) -> Order:
        order = self.store.get(ord_no)
        if order is None:
            raise UnknownOrder(f"no order {ord_no!r}", ord_no=ord_no)
        return order


def _method(order: Order) -> str:
    """The pay method as the cancel table spells it (lower case)."""
    return (order.pay_method_result or order.pay_method or "card").lower()


def _approval_columns(result) -> dict:
    """Store columns from an approval or an inquiry answer (read from `raw`: both carry them)."""
    raw = result.raw

    def text(name: str, size: int) -> str | None:
        value = raw.get(name)
        return str(value)[:size] if value not in (None, "") else None

    return {
        "result_cd": text("resultCd", 8), "result_msg": text("resultMsg", 200),
        "pay_method_result": text("payMethod", 10), "app_no": text("appNo", 20), "app_dtm": text("appDtm", 14),
        "card_code": text("appCardCd", 4), "fn_nm": text("fnNm", 40), "easy_pay_cd": text("easyPayCd", 4),
    }


def _public(raw: Mapping) -> dict:
    """What KISPG answered, kept whole for the event log (it never carries the key)."""
    return dict(raw)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
