"""Random interleavings of returns (duplicated, forged, late), faulty approvals, cancels and reconciles.

After every step: no order approved twice, no tid cancelled at KISPG unless its own order's cancel
was asked for, no order paid locally that KISPG shows cancelled or never approved, and every
stuck order settles once KISPG answers again.
"""
from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from webview_toolkit.lifecycle import STUCK, OrderStatus as S
from webview_toolkit.notifications import NoticeRefused, receive
from webview_toolkit.payments import PaymentError

from .fake_kispg import APPROVE_FAULTS, CANCEL_FAULTS, INQUIRE_FAULTS
from .payments_helpers import Shop


class PaymentsMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    forms = Bundle("forms")

    @initialize()
    def open_shop(self):
        self.folder = tempfile.mkdtemp(prefix="payments-machine-")
        self.shop = Shop(f"sqlite:///{self.folder}/machine.sqlite3")
        self.cancel_asked: set[str] = set()

    def teardown(self):
        self.shop.store.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(target=orders, amount=st.sampled_from([1004, 39000]))
    def create(self, amount):
        return self.shop.order(amount)

    @rule(target=forms, ord_no=orders, approval_code=st.booleans())
    def authenticate(self, ord_no, approval_code):
        """The shopper finishes KISPG's window for the current attempt; sometimes KISPG approves by itself."""
        order = self.shop.store.get(ord_no)
        kispg_ord_no, token = self.shop.checkout(ord_no)
        form = self.shop.form(ord_no, amt=order.goods_amt, result_cd="3001" if approval_code else "0000")
        if approval_code and "tid" in form:  # a refused window (reused ordNo) posts only its failure
            self.shop.kispg.self_approve(form["tid"])
        return ord_no, kispg_ord_no, token, form

    @rule(target=forms, ord_no=orders, fault=st.sampled_from((None,) + APPROVE_FAULTS), approval_code=st.booleans(),
          twice=st.booleans())
    def pay(self, ord_no, fault, approval_code, twice):
        """A whole attempt: KISPG's window, an approval that may meet a fault, the result posted (maybe twice)."""
        sent = self.authenticate(ord_no, approval_code)
        if fault:
            self.shop.kispg.arm("approve", fault)
        self.post_return(sent, twice)
        return sent

    @rule(target=forms, ord_no=orders, twice=st.booleans())
    def pay_by_account(self, ord_no, twice):
        """A 가상계좌 attempt: KISPG issues an account (4100), which must not read as paid."""
        order = self.shop.store.get(ord_no)
        kispg_ord_no, token = self.shop.checkout(ord_no)
        form = self.shop.form(ord_no, amt=order.goods_amt, method="vacnt")
        sent = (ord_no, kispg_ord_no, token, form)
        self.post_return(sent, twice)
        return sent

    @rule(ord_no=orders)
    def shopper_deposits(self, ord_no):
        held = self.shop.kispg.held.get(self.shop.store.get(ord_no).tid or "")
        if held is not None and held.awaiting_deposit and not held.cancelled:
            self.shop.kispg.deposit(self.shop.store.get(ord_no).tid)

    @rule(ord_no=orders, other=orders, forged_amount=st.booleans())
    def kispg_notifies(self, ord_no, other, forged_amount):
        """A deposit notice, maybe naming another order's tid or a wrong amount: a hint, never proof."""
        order, theirs = self.shop.store.get(ord_no), self.shop.store.get(other)
        fields = {"ordNo": order.kispg_ord_no, "tid": theirs.tid or "", "resultCd": "4110", "payMethod": "vacnt",
                  "amt": str(order.goods_amt + (1 if forged_amount else 0))}
        try:
            receive(self.shop.payments, fields, signed=False)
        except NoticeRefused:
            pass

    @rule(sent=forms, twice=st.booleans())
    def post_return(self, sent, twice):
        ord_no, kispg_ord_no, token, form = sent
        for _ in range(2 if twice else 1):
            self._post(form, kispg_ord_no, token)

    @rule(sent=forms, other=forms)
    def post_with_another_orders_tid(self, sent, other):
        _, kispg_ord_no, token, form = sent
        self._post({**form, "tid": other[3].get("tid", "")}, kispg_ord_no, token)

    @rule(sent=forms, token=st.sampled_from([None, "", "x" * 32]))
    def post_without_the_token(self, sent, token):
        _, kispg_ord_no, _, form = sent
        self._post({"resultCd": "XXXX", "resultMsg": "forged"}, kispg_ord_no, token)
        self._post(form, kispg_ord_no, token)

    @rule(sent=forms)
    def post_a_failure(self, sent):
        _, kispg_ord_no, token, _ = sent
        self._post({"resultCd": "XXXX", "resultMsg": "취소"}, kispg_ord_no, token)

    @rule(operation=st.sampled_from(["approve", "inquire", "cancel"]), data=st.data())
    def arm_fault(self, operation, data):
        modes = {"approve": APPROVE_FAULTS, "inquire": INQUIRE_FAULTS, "cancel": CANCEL_FAULTS}[operation]
        self.shop.kispg.arm(operation, data.draw(st.sampled_from(modes)))

    @rule(ord_no=orders, part=st.booleans())
    def cancel(self, ord_no, part):
        order = self.shop.store.get(ord_no)
        if order.status in (S.PAID, S.PARTIALLY_CANCELLED, S.AWAITING_DEPOSIT):
            self.cancel_asked.add(ord_no)
        try:
            self.shop.payments.cancel(ord_no, 1000 if part and order.remaining_amt > 1000 else None)
        except PaymentError:
            pass

    @rule(ord_no=orders, review=st.booleans())
    def reconcile(self, ord_no, review):
        self.shop.payments.reconcile(ord_no, review=review)

    @rule()
    def reconcile_all(self):
        self.shop.payments.reconcile_all()

    @rule()
    def kispg_answers_again(self):
        """Faults clear: every stuck order settles in one pass."""
        self.shop.kispg.faults.clear()
        for order in self.shop.payments.reconcile_all():
            assert order.status not in STUCK, (order.ord_no, order.status)

    def _post(self, form, kispg_ord_no, token):
        try:
            self.shop.payments.handle_return(form, kispg_ord_no, token)
        except PaymentError:
            pass

    # -- what must hold after every step ---------------------------------------------------------

    @invariant()
    def no_order_approved_twice(self):
        kispg = getattr(self, "shop", None) and self.shop.kispg
        if kispg:
            by_order: dict[str, int] = {}
            for kispg_ord_no, count in kispg.approvals.items():
                owner = kispg_ord_no.split("-")[0]
                by_order[owner] = by_order.get(owner, 0) + count
            assert all(count <= 1 for count in by_order.values()), by_order

    @invariant()
    def no_tid_cancelled_unless_its_own_order_asked(self):
        if hasattr(self, "shop"):
            for tid, _amount in self.shop.kispg.cancels:
                owner = self.shop.kispg.held[tid].ord_no.split("-")[0]
                assert owner in self.cancel_asked, (tid, owner)

    @invariant()
    def nothing_paid_that_kispg_does_not_hold(self):
        if not hasattr(self, "shop"):
            return
        for order in self.shop.store.in_status([S.PAID, S.PARTIALLY_CANCELLED]):
            held = self.shop.kispg.held.get(order.tid)
            assert held is not None, f"{order.ord_no} is {order.status} but KISPG never approved {order.tid}"
            assert held.ord_no == order.kispg_ord_no and held.amt == order.goods_amt
            assert held.cancelled < held.amt, f"{order.ord_no} is {order.status} but KISPG shows it cancelled"
            assert held.cancelled == order.cancelled_amt
            assert not held.awaiting_deposit, f"{order.ord_no} is {order.status} but its account was never paid in"

    @invariant()
    def an_account_waiting_for_money_is_one_kispg_issued(self):
        if not hasattr(self, "shop"):
            return
        for order in self.shop.store.in_status([S.AWAITING_DEPOSIT]):
            held = self.shop.kispg.held.get(order.tid)
            assert held is not None and held.pay_method == "vacnt" and held.ord_no == order.kispg_ord_no
            assert order.vacnt_no and order.lmt_day


PaymentsMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None,
                                             suppress_health_check=[HealthCheck.too_slow])
test_payments_machine = PaymentsMachine.TestCase
