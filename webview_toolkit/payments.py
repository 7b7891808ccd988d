"""The payment flow: returnUrl → approval exactly once, cancel, and reconciliation by inquiry.

The states and every allowed change are declared in `lifecycle`; the store applies each as one
conditional UPDATE, so however many times and however concurrently a result is posted, one
request wins each claim and only it calls KISPG. Three rules keep money and records agreeing:

- A return is trusted only with its attempt's token, and only after every field passed the
  auth-result table: a refusal changes nothing.
- A tid belongs to one attempt forever (unique in the database); a return naming a tid bound
  elsewhere is refused before KISPG hears of it.
- Fail closed: an answer that names another ordNo or amount, or none, never makes an order paid
  and never cancels that tid; the order goes to `needs_review` with the reason recorded.

No Flask here: the web layer and the CLI both drive this.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from .kispg import result_codes
from .kispg import errors as kispg_errors
from .kispg import specs
from .kispg.client import KispgClient
from .kispg.result_codes import DEFAULT_SUCCESS, SuccessCodes
from .kispg.signing import verify_auth_result
from . import vbank
from .lifecycle import PAYABLE, STUCK, WAITING, OrderStatus
from .records import Attempt, Change, Order, aware
from .store import OrderStore, TidInUse

S = OrderStatus
# What a shopper reads when a posted failure's code is not in the result-code table: its own
# resultMsg is unsigned and could say anything.
GENERIC_FAILURE = "결제가 취소되었거나 인증에 실패했습니다."
# The answer KISPG gives /v2/payment for an ordNo it has already approved (KISPG_FACTS.md,
# "Reused ordNo"): not a decline, the payment may exist. Matched by code and by its message.
ALREADY_PROCESSED_CODES = frozenset({result_codes.DUPLICATE_ORDER})
ALREADY_PROCESSED_TEXT = ("MOID 중복", "이미 처리된")
TID_SIZE = 30
# Orders one reconcile pass asks KISPG about at most: a backlog is worked off over several runs
# (the least recently asked first), so no run's time or KISPG traffic grows without bound.
RECONCILE_LIMIT = 500


class PaymentError(Exception):
    """A request the payment flow refuses; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, *, ord_no: str | None = None):
        super().__init__(message)
        self.ord_no = ord_no


class UnknownOrder(PaymentError):
    """No order (or attempt) has that ordNo."""

    status = 404


class ReturnRejected(PaymentError):
    """A posted auth result does not match the stored order, its table or its signature."""


class ReturnForbidden(ReturnRejected):
    """A returnUrl post without the attempt's current token."""

    status = 403


class CancelRefused(PaymentError):
    """A cancel that cannot be done in the order's state or for that amount."""

    status = 409


class Held(Enum):
    """What KISPG holds under an attempt's ordNo, asked before the attempt ends (Payments._held_under)."""

    NOTHING = "nothing"
    OTHER_AMOUNT = "other_amount"  # an answer of INQUIRY_HELD_OTHERWISE: a person must look
    MAYBE = "maybe"  # a payment, or no answer: settle it by inquiry before anything else


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    """What a returnUrl post did: the order after it, and whether this post ran the approval."""

    order: Order
    approved_here: bool


class Payments:
    """Runs approvals, cancels and inquiries for one merchant against one store."""

    def __init__(self, store: OrderStore, client: KispgClient, *, mid: str, merchant_key: str,
                 clock: Callable[[], datetime] | None = None, settle_after: float = 60.0,
                 check_interval: float = 10.0, success: SuccessCodes = DEFAULT_SUCCESS):
        self.store = store
        self.client = client
        self.mid = mid
        self._key = merchant_key
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.settle_after = timedelta(seconds=settle_after)
        self.check_interval = timedelta(seconds=check_interval)
        self.success = success

    # -- returnUrl -----------------------------------------------------------

    def handle_return(self, form: Mapping[str, str], kispg_ord_no: str | None, token: str | None, *,
                      returning: tuple[Attempt, Order] | None = None) -> ReturnOutcome:
        """Check a posted auth result against its attempt, then approve it at most once.

        `returning` is what `returning(kispg_ord_no, token)` answered, when the caller asked already.
        """
        attempt, order = returning or self.returning(kispg_ord_no, token)
        self._check_fields(order, form)
        if form.get("ordNo") and form["ordNo"] != attempt.kispg_ord_no:
            self._refuse(order, "ordNo in the result is not the returnUrl's attempt")
        result_cd = form.get("resultCd", "")
        if result_cd == result_codes.AUTH_OK:
            # Signed: a tampered copy is refused even when it comes late, so the sender hears of it.
            self._verify_auth(order, form)
        if attempt.n != order.attempt_no or order.status not in PAYABLE:
            return self._late_return(order, attempt, form)
        if result_cd == result_codes.AUTH_OK:
            return self._authenticated(order, attempt, form)
        if self._is_approval_code(result_cd, form.get("payMethod")):
            return self._already_approved(order, attempt, form)
        return ReturnOutcome(self._auth_failed(order, attempt, form), False)

    def returning(self, kispg_ord_no: str | None, token: str | None) -> tuple[Attempt, Order]:
        """The attempt a returnUrl names and its order, once its token matches; PaymentError otherwise."""
        if not kispg_ord_no or "\x00" in kispg_ord_no:
            raise ReturnRejected("the returnUrl carries no ordNo")
        found = self.store.attempt_and_order(kispg_ord_no)
        if found is None:
            raise UnknownOrder(f"no checkout attempt {kispg_ord_no!r}", ord_no=kispg_ord_no)
        attempt, order = found
        given = (token or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, attempt.token.encode()):
            # Logged, not stored: a stranger's posts must not grow the order's history.
            raise ReturnForbidden("the returnUrl's token is not this checkout's", ord_no=attempt.ord_no)
        return attempt, order

    def _check_fields(self, order: Order, form: Mapping[str, str]) -> None:
        """Every posted field the auth-result table knows, held to it before anything is stored."""
        for name, value in form.items():
            if "\x00" in value:
                self._refuse(order, f"{name} contains a NUL character")
            if name in specs.SPECS["auth_result"].name_set:
                problem = specs.field_problem("auth_result", name, value)
                if problem:
                    self._refuse(order, problem)

    def _refuse(self, order: Order, reason: str):
        self.store.log(order.ord_no, "return_rejected", {"reason": reason})
        raise ReturnRejected(reason, ord_no=order.ord_no)

    def _late_return(self, order: Order, attempt: Attempt, form: Mapping[str, str]) -> ReturnOutcome:
        """A return for an attempt that is not open any more: changes nothing, and says so."""
        detail = {"attempt": attempt.n, "resultCd": form.get("resultCd", ""), "tid": form.get("tid", "")}
        closed = attempt.n != order.attempt_no or order.status == S.EXPIRED
        if closed and self._is_approval_code(form.get("resultCd", ""), form.get("payMethod")):
            # KISPG says it approved an attempt we had closed: money may have moved. A human looks.
            self.store.log(order.ord_no, "late_approval_reported", detail)
        else:
            self.store.log(order.ord_no, "return_duplicate", detail)
        return ReturnOutcome(order, False)

    def _authenticated(self, order: Order, attempt: Attempt, form: Mapping[str, str]) -> ReturnOutcome:
        tid = form["tid"]
        # Both in one commit; the claim is tried even when the first found the order authenticated
        # already (a return whose request died before its claim), and wins only from there.
        authenticated = Change(S.AUTHENTICATED, "authenticated", attempt=attempt.n, bind_tid=tid,
                               detail={"tid": tid, "payMethod": form.get("payMethod"), "attempt": attempt.n},
                               values={"result_cd": result_codes.AUTH_OK, "pay_method_result": form.get("payMethod")})
        try:
            _, claimed = self.store.transitions(order.ord_no, authenticated,
                                                Change(S.APPROVING, "approval_claimed", expect_tid=tid,
                                                       attempt=attempt.n))
        except TidInUse:
            self._refuse(order, f"tid {tid} belongs to another checkout")
        if claimed is None:
            self.store.log(order.ord_no, "return_duplicate", {"tid": tid, "attempt": attempt.n})
            return ReturnOutcome(self.store.get(order.ord_no), False)
        return ReturnOutcome(self._approve(claimed), True)

    def _verify_auth(self, order: Order, form: Mapping[str, str]) -> None:
        problem = None
        tid = form.get("tid", "")
        if form.get("amt") != str(order.goods_amt):
            problem = f"amount {form.get('amt')!r} does not match the order's {order.goods_amt}"
        elif len(tid) != TID_SIZE or not tid.isascii():
            problem = f"tid must be {TID_SIZE} ASCII characters"
        elif self.store.tid_owner(tid) not in (None, order.ord_no):
            problem = f"tid {tid} belongs to another order"
        else:
            try:
                verify_auth_result(form, mid=self.mid, merchant_key=self._key, now=self.clock())
            except kispg_errors.SignatureError as exc:
                problem = str(exc)
        if problem:
            self._refuse(order, problem)

    def _already_approved(self, order: Order, attempt: Attempt, form: Mapping[str, str]) -> ReturnOutcome:
        """An approval-success code on returnUrl: KISPG approved by itself. Only an inquiry says for what."""
        tid = form.get("tid", "")
        usable = len(tid) == TID_SIZE and tid.isascii() and self.store.tid_owner(tid) in (None, order.ord_no)
        detail = {"resultCd": form.get("resultCd"), "tid": tid, "attempt": attempt.n}
        try:
            moved = self.store.transition(order.ord_no, S.UNKNOWN, "already_approved", attempt=attempt.n,
                                          detail=detail, bind_tid=tid if usable else None)
        except TidInUse:
            moved = self.store.transition(order.ord_no, S.UNKNOWN, "already_approved", attempt=attempt.n,
                                          detail={**detail, "tidRefused": "bound to another checkout"})
        if moved is None:
            return ReturnOutcome(self.store.get(order.ord_no), False)
        return ReturnOutcome(self.check(moved), True)

    def _auth_failed(self, order: Order, attempt: Attempt, form: Mapping[str, str]) -> Order:
        """A failed authentication ends the attempt, once KISPG confirms it holds no payment under its ordNo.

        The failure post is unsigned, and KISPG has been seen approving by itself: opening the next
        attempt while this one was charged would let the shopper pay twice.
        """
        result_cd = form.get("resultCd", "")
        detail = {"resultCd": result_cd, "resultMsg": form.get("resultMsg", ""), "attempt": attempt.n}
        held, why = self._held_under(attempt.kispg_ord_no, order.goods_amt)
        if held is Held.OTHER_AMOUNT:
            return self._review(order, "failure_unconfirmed", why)
        if held is Held.NOTHING:
            moved = self.store.transition(order.ord_no, S.FAILED, "auth_failed", attempt=attempt.n, new_attempt=True,
                                          detail=detail, result_cd=result_cd or None,
                                          result_msg=shopper_message(result_cd))
            return moved or self.store.get(order.ord_no)
        detail["inquiry"] = why
        moved = self.store.transition(order.ord_no, S.UNKNOWN, "failure_unconfirmed", attempt=attempt.n,
                                      detail=detail)
        return self.check(moved) if moved else self.store.get(order.ord_no)

    def _held_under(self, kispg_ord_no: str, goods_amt: int) -> tuple[Held, str]:
        """Ask /v2/order what KISPG holds under an attempt's ordNo before the attempt ends; and why it says so."""
        try:
            self.client.inquire(ord_no=kispg_ord_no, goods_amt=goods_amt)
        except kispg_errors.DeclinedError as exc:
            if exc.result_cd in result_codes.INQUIRY_HELD_OTHERWISE:
                return Held.OTHER_AMOUNT, (f"KISPG holds a transaction under {kispg_ord_no} "
                                           f"for another amount: {exc.result_cd}")
            return Held.NOTHING, "nothing held under this attempt's ordNo"
        except kispg_errors.KispgError as exc:
            return Held.MAYBE, f"{type(exc).__name__}: {exc}"
        return Held.MAYBE, "KISPG holds a payment under this attempt's ordNo"

    def _is_approval_code(self, result_cd: str, pay_method: str | None) -> bool:
        return bool(result_cd) and result_cd != result_codes.AUTH_OK and self.success.is_success(
            "approval", (pay_method or "").lower(), result_cd)

    # -- approval --------------------------------------------------------------

    def _approve(self, order: Order) -> Order:
        ord_no = order.ord_no
        try:
            result = self.client.approve(tid=order.tid, goods_amt=order.goods_amt)
        except kispg_errors.FieldError as exc:
            return self._failed(order, "approval_not_sent", {"reason": str(exc)}, None, shopper_message(""))
        except kispg_errors.ResponseMismatchError as exc:
            return self._review(order, "approval_mismatch", str(exc))
        except kispg_errors.DeclinedError as exc:
            if _already_processed(exc):
                return self._unknown(order, {"resultCd": exc.result_cd, "resultMsg": exc.result_msg,
                                             "reason": "KISPG has already processed this ordNo"})
            return self._failed(order, "approval_declined", {"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                exc.result_cd, exc.result_msg[:200] or shopper_message(exc.result_cd))
        except kispg_errors.UnregisteredServerError as exc:
            # KISPG's firewall turned this server away: the request never reached its API.
            return self._failed(order, "approval_not_sent", {"reason": str(exc)}, None, shopper_message(""))
        except kispg_errors.KispgTimeout as exc:
            if exc.phase == "connect":
                # No connection was made, so nothing was sent: this attempt ends, nothing was charged.
                return self._failed(order, "approval_not_sent", {"reason": str(exc)}, None, shopper_message(""))
            return self._unknown(order, {"error": type(exc).__name__, "message": str(exc)})
        except kispg_errors.KispgError as exc:
            # Transport, HTTP status or a garbled answer: KISPG may have approved.
            return self._unknown(order, {"error": type(exc).__name__, "message": str(exc)})
        mismatch = self._answer_mismatch(order, result)
        if mismatch:
            return self._review(order, "approval_mismatch", mismatch)
        if _is_virtual_account(result, order):
            # 4100 means an account was issued, not that money arrived: paid only on a confirmed deposit.
            if not result.vacnt_no:
                return self._review(order, "approval_mismatch", "a virtual-account approval without vacntNo")
            return self.store.transition(ord_no, S.AWAITING_DEPOSIT, "vbank_issued", detail=dict(result.raw),
                                         **_approval_columns(result), **vbank.issued_columns(result.raw),
                                         ) or self.store.get(ord_no)
        return self.store.transition(ord_no, S.PAID, "approved", detail=dict(result.raw),
                                     **_approval_columns(result)) or self.store.get(ord_no)

    def _failed(self, order: Order, event: str, detail: dict, result_cd: str | None, message: str) -> Order:
        """Our approval did not happen: the attempt ends once KISPG confirms it holds nothing under its ordNo.

        A decline, or an approval never sent, speaks only of our tid. KISPG has been seen approving
        by itself (KISPG_FACTS.md), under another tid of the same ordNo: opening the next attempt
        while that one stands would let the shopper pay twice (the stateful test found it).
        """
        held, why = self._held_under(order.kispg_ord_no, order.goods_amt)
        if held is Held.OTHER_AMOUNT:
            return self._review(order, "approval_mismatch", why)
        if held is Held.NOTHING:
            return self.store.transition(order.ord_no, S.FAILED, event, new_attempt=True,
                                         detail={**detail, "inquiry": why},
                                         result_cd=result_cd, result_msg=message) or self.store.get(order.ord_no)
        return self._unknown(order, {**detail, "not": event, "inquiry": why})

    def _unknown(self, order: Order, detail: dict) -> Order:
        moved = self.store.transition(order.ord_no, S.UNKNOWN, "approval_unknown", detail=detail)
        # Ask at once; this inquiry counts against the check interval like any other.
        return self.check(moved or self._order(order.ord_no))

    def _review(self, order: Order, event: str, reason: str) -> Order:
        """Fail closed: record why, touch nothing at KISPG, and leave it for a person."""
        return self.store.transition(order.ord_no, S.NEEDS_REVIEW, event, detail={"reason": reason},
                                     result_msg=f"확인 필요: {reason}"[:200]) or self.store.get(order.ord_no)

    @staticmethod
    def _answer_mismatch(order: Order, answer, any_tid: bool = False) -> str | None:
        """Why an approval or inquiry answer is not provably this order's payment, or None."""
        if not answer.ord_no:
            return "the answer carries no ordNo"
        if answer.ord_no != order.kispg_ord_no:
            return f"the answer's ordNo {answer.ord_no!r} is not {order.kispg_ord_no!r}"
        if not answer.amt:
            return "the answer carries no amount"
        if str(answer.amt) != str(order.goods_amt):
            return f"the answer's amount {answer.amt} is not the order's {order.goods_amt}"
        if not answer.tid:
            return "the answer carries no tid"
        if order.tid and answer.tid != order.tid and not any_tid:
            return f"the answer's tid {answer.tid!r} is not {order.tid!r}"
        return None

    # -- reconciliation --------------------------------------------------------

    def reconcile(self, ord_no: str, *, review: bool = False) -> Order:
        """Ask KISPG what became of an order whose outcome is unknown (or, with review, needs review)."""
        order = self._order(ord_no)
        if order.status in WAITING:
            return self._reconcile_deposit(order)
        if order.status not in STUCK and not (review and order.status == S.NEEDS_REVIEW):
            return order
        due = self.is_due(order)
        if order.status == S.APPROVING and not due:
            return order  # a worker is still waiting for KISPG's answer to this approval
        try:
            inquiry = self._inquire(order)
        except kispg_errors.DeclinedError as exc:
            if exc.result_cd in result_codes.INQUIRY_HELD_OTHERWISE:
                return self._review_reconcile(order, f"KISPG holds it for another amount: {exc.result_cd}")
            return self._not_found(order, exc, due)
        except kispg_errors.ResponseMismatchError as exc:
            return self._review_reconcile(order, str(exc))
        except kispg_errors.KispgError as exc:
            self.store.log(ord_no, "reconcile_failed", {"error": type(exc).__name__, "message": str(exc)})
            return order
        if order.status == S.CANCELLING:
            return self._settle_cancel_from(order, inquiry, due)
        mismatch = self._answer_mismatch(order, inquiry, any_tid=True)
        if mismatch:
            return self._review_reconcile(order, mismatch)
        detail = dict(inquiry.raw)
        # Found under this attempt's ordNo, perhaps with a tid of KISPG's own (it approved by itself).
        bind = {"bind_tid": inquiry.tid} if inquiry.tid != order.tid else {}
        try:
            if inquiry.trx_status == result_codes.TRX_CANCELLED:
                moved = self.store.transition(ord_no, S.CANCELLED, "reconciled_cancelled", detail=detail,
                                              cancelled_amt=order.goods_amt, **bind)
            elif inquiry.trx_status == result_codes.TRX_AWAITING_DEPOSIT and not inquiry.raw.get("vacntNo"):
                # Waiting for money into an account nobody can name: the shopper could not pay it.
                return self._review_reconcile(order, "KISPG waits for a deposit but names no vacntNo")
            elif inquiry.trx_status == result_codes.TRX_AWAITING_DEPOSIT:
                moved = self.store.transition(ord_no, S.AWAITING_DEPOSIT, "reconciled_awaiting_deposit",
                                              detail=detail, **_approval_columns(inquiry),
                                              **vbank.issued_columns(inquiry.raw), **bind)
            elif inquiry.trx_status == result_codes.TRX_APPROVED and inquiry.remaining < order.goods_amt:
                # Part of it was cancelled meanwhile (KISPG's own admin, or a cancel whose answer was lost).
                moved = self.store.transition(ord_no, S.PARTIALLY_CANCELLED, "reconciled_partially_cancelled",
                                              detail=detail, cancelled_amt=order.goods_amt - inquiry.remaining,
                                              **_approval_columns(inquiry), **bind)
            elif inquiry.trx_status == result_codes.TRX_APPROVED:
                moved = self.store.transition(ord_no, S.PAID, "reconciled_paid", detail=detail,
                                              cancelled_amt=0, **_approval_columns(inquiry), **bind)
            else:
                return self._review_reconcile(order, f"unknown trxStatus {inquiry.trx_status!r}")
        except TidInUse:
            return self._review_reconcile(order, f"KISPG's tid {inquiry.tid} belongs to another checkout")
        return moved or self._order(ord_no)

    def _reconcile_deposit(self, order: Order) -> Order:
        """Ask KISPG whether a virtual account was paid in, closed, or ran past its deadline.

        Paid only when the inquiry names this attempt's ordNo, the order's tid and amount, and says
        `승인` with nothing cancelled; expired only when, past the deadline, KISPG still says
        `입금대기` (a deposit at 23:59 must not be lost to our clock). Anything else waits.
        """
        ord_no = order.ord_no
        try:
            inquiry = self.client.inquire(tid=order.tid, goods_amt=order.goods_amt)
        except kispg_errors.DeclinedError as exc:
            return self._review(order, "reconcile_mismatch",
                                f"KISPG does not show the issued account's tid: {exc.result_cd}")
        except kispg_errors.ResponseMismatchError as exc:
            return self._review(order, "reconcile_mismatch", str(exc))
        except kispg_errors.KispgError as exc:
            self.store.log(ord_no, "reconcile_failed", {"error": type(exc).__name__, "message": str(exc)})
            return order
        mismatch = self._answer_mismatch(order, inquiry)
        if mismatch:
            return self._review(order, "reconcile_mismatch", mismatch)
        detail = dict(inquiry.raw)
        if inquiry.trx_status == result_codes.TRX_APPROVED and inquiry.remaining == order.goods_amt:
            moved = self.store.transition(ord_no, S.PAID, "deposit_confirmed", detail=detail,
                                          **_approval_columns(inquiry))
        elif inquiry.trx_status == result_codes.TRX_CANCELLED:
            moved = self.store.transition(ord_no, S.CANCELLED, "reconciled_cancelled", detail=detail,
                                          cancelled_amt=order.goods_amt)
        elif inquiry.trx_status == result_codes.TRX_AWAITING_DEPOSIT:
            if not vbank.is_past_deadline(order.lmt_day, self.clock()):
                return order
            moved = self.store.transition(ord_no, S.EXPIRED, "deposit_expired",
                                          detail={"lmtDay": order.lmt_day, "trxStatus": inquiry.trx_status})
        else:
            return self._review(order, "reconcile_mismatch",
                                f"trxStatus {inquiry.trx_status!r} with {inquiry.remaining} remaining")
        return moved or self._order(ord_no)

    def _inquire(self, order: Order):
        """KISPG's record of the order's payment: by its tid, and by the attempt's ordNo when the tid shows nothing.

        "Already processed" means KISPG holds a payment for the ordNo, possibly under another tid;
        only asking by ordNo too can tell "never charged" from "charged under a tid we never saw".
        """
        if order.tid and order.status != S.CANCELLING:
            try:
                return self.client.inquire(tid=order.tid, goods_amt=order.goods_amt)
            except kispg_errors.DeclinedError as exc:
                if exc.result_cd in result_codes.INQUIRY_HELD_OTHERWISE:
                    raise
        if order.status == S.CANCELLING:
            return self.client.inquire(tid=order.tid, goods_amt=order.goods_amt)
        return self.client.inquire(ord_no=order.kispg_ord_no, goods_amt=order.goods_amt)

    def _not_found(self, order: Order, exc: kispg_errors.DeclinedError, due: bool) -> Order:
        if order.status == S.CANCELLING:
            return order
        if not due:
            # KISPG may still be processing the approval whose answer was lost: ask again later.
            self.store.log(order.ord_no, "reconcile_not_yet", {"resultCd": exc.result_cd})
            return order
        # KISPG holds no approval for this order: it was never charged. The next attempt is open.
        return self.store.transition(order.ord_no, S.FAILED, "reconciled_not_approved", new_attempt=True,
                                     detail={"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                     result_cd=exc.result_cd, result_msg=shopper_message(""),
                                     ) or self._order(order.ord_no)

    def _review_reconcile(self, order: Order, reason: str) -> Order:
        event = "cancel_mismatch" if order.status == S.CANCELLING else "reconcile_mismatch"
        if order.status == S.NEEDS_REVIEW:
            self.store.log(order.ord_no, "review_still_unresolved", {"reason": reason})
            return order
        return self._review(order, event, reason)

    def is_due(self, order: Order) -> bool:
        """Whether the order has sat long enough that what KISPG does not show did not happen."""
        return aware(order.updated_at) <= self.clock() - self.settle_after

    def check(self, order: Order) -> Order:
        """Reconcile a stuck order unless somebody asked KISPG about it within the check interval."""
        if order.status not in STUCK + WAITING:
            return order
        if not self.store.claim_check(order.ord_no, self.check_interval):
            return order
        return self.reconcile(order.ord_no)

    def stuck_orders(self, limit: int = RECONCILE_LIMIT) -> list[Order]:
        """Up to `limit` orders a reconcile pass should look at now (their inquiry is due)."""
        now = self.clock()
        return self.store.due_for_check(STUCK + WAITING, now, approving_before=now - self.settle_after, limit=limit)

    def reconcile_all(self, limit: int = RECONCILE_LIMIT) -> list[Order]:
        """Reconcile up to `limit` stuck orders (each at most once per check interval); return them afterwards."""
        return [self.check(order) for order in self.stuck_orders(limit)]

    # -- cancel --------------------------------------------------------------

    def cancel(self, ord_no: str, amount: int | None = None, reason: str = "",
               refund: vbank.Refund | None = None) -> Order:
        """Cancel all of a paid order, or `amount` of it, or close an unpaid virtual account; CancelRefused when not.

        A paid virtual account is refunded to the shopper's account (`refund`, required then).
        """
        order = self._order(ord_no)
        unpaid_account = order.status in WAITING
        if order.status not in (S.PAID, S.PARTIALLY_CANCELLED) and not unpaid_account:
            raise CancelRefused(f"order is {order.status}; only paid orders and unpaid virtual accounts "
                                "can be cancelled", ord_no=ord_no)
        amount = order.remaining_amt if amount is None else amount
        if unpaid_account and (amount != order.goods_amt or refund is not None):
            # Nothing was paid in: the account is closed whole, and there is nothing to refund.
            raise CancelRefused("an unpaid virtual account is closed whole, without a refund account",
                                ord_no=ord_no)
        if not 1 <= amount <= order.remaining_amt:
            raise CancelRefused(f"amount must be between 1 and the remaining {order.remaining_amt}", ord_no=ord_no)
        if not unpaid_account and _method(order) == "vacnt" and refund is None:
            raise CancelRefused("a paid virtual account is refunded to an account: give refundBankCd, "
                                "refundAccnt and refundNm", ord_no=ord_no)
        before = S(order.status)
        claim_detail = {"amount": amount, "reason": reason}
        if refund is not None:
            # The shopper's account number is theirs: the log keeps the bank and the last digits only.
            claim_detail["refund"] = {"bankCd": refund.bank_cd, "accnt": "*" * 4 + refund.account[-4:]}
        if not self.store.transition(ord_no, S.CANCELLING, "cancel_claimed", only_from=(before,),
                                     detail=claim_detail, status_before_cancel=before, pending_cancel_amt=amount):
            raise CancelRefused("the order changed meanwhile; try again", ord_no=ord_no)
        try:
            answer = self.client.cancel(order.tid, amount, ord_no=order.kispg_ord_no, pay_method=_method(order),
                                        partial=amount < order.remaining_amt or order.cancelled_amt > 0,
                                        reason=reason or "가맹점 요청 취소", refund=refund)
        except kispg_errors.FieldError as exc:
            self.store.transition(ord_no, before, "cancel_declined", detail={"reason": str(exc)},
                                  pending_cancel_amt=None)
            raise CancelRefused(f"the cancel was not sent: {exc}", ord_no=ord_no)
        except kispg_errors.DeclinedError as exc:
            self.store.transition(ord_no, before, "cancel_declined",
                                  detail={"resultCd": exc.result_cd, "resultMsg": exc.result_msg},
                                  pending_cancel_amt=None)
            raise CancelRefused(f"KISPG refused the cancel: {exc.result_cd} {exc.result_msg}", ord_no=ord_no)
        except kispg_errors.ResponseMismatchError as exc:
            return self._review(order, "cancel_mismatch", str(exc))
        except kispg_errors.KispgError as exc:
            self.store.log(ord_no, "cancel_unknown", {"error": type(exc).__name__, "message": str(exc)})
            return self.reconcile(ord_no)
        mismatch = _cancel_mismatch(order, answer, amount)
        if mismatch:
            return self._review(order, "cancel_mismatch", mismatch)
        cancelled = order.cancelled_amt + amount
        target = S.CANCELLED if cancelled >= order.goods_amt else S.PARTIALLY_CANCELLED
        return self.store.transition(ord_no, target, "cancelled", detail={"amount": amount, "cancelledAmt": cancelled},
                                     cancelled_amt=cancelled, pending_cancel_amt=None) or self._order(ord_no)

    def _settle_cancel_from(self, order: Order, inquiry, due: bool) -> Order:
        """Finish a cancel whose answer was lost, from the inquiry's remaining balance."""
        if inquiry.ord_no != order.kispg_ord_no or str(inquiry.amt) != str(order.goods_amt):
            return self._review_reconcile(order, "the inquiry does not name this order's payment")
        remaining = inquiry.remaining
        cancelled = order.goods_amt - remaining
        if cancelled <= order.cancelled_amt:
            if not due:
                return order  # the cancel may still be in flight at KISPG: ask again later
            status = S(order.status_before_cancel or S.PAID)
        else:
            status = S.CANCELLED if remaining <= 0 else S.PARTIALLY_CANCELLED
        return self.store.transition(order.ord_no, status, "reconciled_cancel", detail={"remainingAmt": remaining},
                                     cancelled_amt=max(cancelled, order.cancelled_amt),
                                     pending_cancel_amt=None) or self._order(order.ord_no)

    def _order(self, ord_no: str) -> Order:
        order = self.store.get(ord_no)
        if order is None:
            raise UnknownOrder(f"no order {ord_no!r}", ord_no=ord_no)
        return order


def shopper_message(result_cd: str) -> str:
    """What a page may say about a failure: the result-code table's text for a known code, else a generic one."""
    return result_codes.MESSAGES.get(result_cd, GENERIC_FAILURE) if result_cd != result_codes.AUTH_OK else GENERIC_FAILURE


def _already_processed(exc: kispg_errors.DeclinedError) -> bool:
    return exc.result_cd in ALREADY_PROCESSED_CODES or any(text in exc.result_msg for text in ALREADY_PROCESSED_TEXT)


def _cancel_mismatch(order: Order, answer, amount: int) -> str | None:
    if answer.ord_no and answer.ord_no != order.kispg_ord_no:
        return f"the cancel answer's ordNo {answer.ord_no!r} is not {order.kispg_ord_no!r}"
    if answer.amt and str(answer.amt) != str(amount):
        return f"the cancel answer's amount {answer.amt} is not the requested {amount}"
    return None


def _method(order: Order) -> str:
    # The cancel table spells pay methods in lower case.
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


def _is_virtual_account(result, order: Order) -> bool:
    """Whether an approval issued a virtual account (payMethod vacnt, or a vacntNo in the answer)."""
    method = (result.pay_method or order.pay_method_result or order.pay_method or "").lower()
    return method == "vacnt" or bool(result.vacnt_no)
