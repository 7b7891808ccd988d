"""`Payments` built directly on a store and a fake KISPG: every transition it makes and every refusal."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from webview_toolkit import config, lifecycle
from webview_toolkit.kispg.signing import KST
from webview_toolkit.payments import CancelRefused, ReturnForbidden, ReturnRejected, UnknownOrder

from .payments_helpers import AMOUNT, Shop


@pytest.fixture
def shop(tmp_path):
    shop = Shop(f"sqlite:///{tmp_path / 'unit.sqlite3'}")
    yield shop
    shop.store.dispose()


# -- approvals ----------------------------------------------------------------------------------------

APPROVAL_CASES = [
    # fault, final status, the events after approval_claimed, approvals KISPG made
    (None, "paid", ["approved"], 1),
    ("decline", "failed", ["approval_declined"], 0),
    ("not_sent", "failed", ["approval_not_sent"], 0),
    ("connect", "failed", ["approval_not_sent"], 0),
    ("firewall", "failed", ["approval_not_sent"], 0),
    ("lost", "failed", ["approval_unknown", "reconciled_not_approved"], 0),
    ("timeout_after", "paid", ["approval_unknown", "reconciled_paid"], 1),
    ("garbled_after", "paid", ["approval_unknown", "reconciled_paid"], 1),
    ("other_ord_no", "needs_review", ["approval_mismatch"], 1),
    ("no_ord_no", "needs_review", ["approval_mismatch"], 1),
    ("no_amount", "needs_review", ["approval_mismatch"], 1),
    ("other_amount", "needs_review", ["approval_mismatch"], 1),
]


@pytest.mark.parametrize("fault, status, events, approvals", APPROVAL_CASES, ids=[str(c[0]) for c in APPROVAL_CASES])
def test_every_approval_outcome(shop, fault, status, events, approvals):
    ord_no = shop.order()
    if fault:
        shop.kispg.arm("approve", fault)
    outcome = shop.post(ord_no, shop.form(ord_no))
    assert outcome.order.status == status == shop.status(ord_no)
    kinds = shop.kinds(ord_no)
    assert kinds[kinds.index("approval_claimed") + 1:] == events
    assert sum(shop.kispg.approvals.values()) == approvals
    assert shop.kispg.cancels == []  # no outcome here cancels anything: fail closed
    if status == "failed":
        order = shop.store.get(ord_no)
        assert order.attempt_no == 2 and shop.checkout(ord_no)[0] == f"{ord_no}-2"


@pytest.mark.parametrize("fault", ["decline", "not_sent", "connect", "firewall"])
def test_an_attempt_kispg_charged_under_another_tid_is_not_ended_by_our_failed_approval(shop, fault):
    """Two windows of one attempt: KISPG approved the second by itself (its 3001 never arrived), and our
    approval of the first, posted back, fails. Only an inquiry by the attempt's ordNo shows the charge."""
    ord_no = shop.order()
    first = shop.form(ord_no)
    shop.kispg.self_approve(shop.kispg.authenticate(shop.checkout(ord_no)[0], AMOUNT))
    shop.kispg.arm("approve", fault)
    assert shop.post(ord_no, first).order.status == "paid"
    kinds = shop.kinds(ord_no)
    assert kinds[kinds.index("approval_claimed") + 1:] == ["approval_unknown", "reconciled_paid"]
    order = shop.store.get(ord_no)
    assert order.attempt_no == 1  # no second attempt, so no second charge
    assert sum(shop.kispg.approvals.values()) == 1 and shop.kispg.cancels == []


def test_an_ended_attempt_whose_inquiry_fails_waits_for_kispg(shop):
    ord_no = shop.order()
    shop.kispg.arm("approve", "decline")
    shop.kispg.arm("inquire", "timeout")
    shop.kispg.arm("inquire", "timeout")
    assert shop.post(ord_no, shop.form(ord_no)).order.status == "unknown"
    assert shop.store.get(ord_no).attempt_no == 1
    assert shop.payments.reconcile(ord_no).status == "failed"  # KISPG answers: nothing held, next attempt open
    assert shop.store.get(ord_no).attempt_no == 2


def test_the_longest_return_makes_the_kispg_calls_a_stop_waits_for(shop):
    """A declined approval whose inquiry cannot say, then the check by tid and by ordNo: the most KISPG
    calls one returnUrl post makes, which gunicorn_conf's grace on a stop counts (config.longest_kispg_wait)."""
    ord_no = shop.order()
    shop.kispg.arm("approve", "decline")
    shop.kispg.arm("inquire", "timeout")
    assert shop.post(ord_no, shop.form(ord_no)).order.status == "failed"
    assert [op for op, _ in shop.kispg.calls] == ["approve", "inquire", "inquire", "inquire"]
    assert len(shop.kispg.calls) == config.KISPG_CALLS_PER_REQUEST


def test_an_already_processed_answer_is_settled_by_inquiry(shop):
    ord_no = shop.order()
    form = shop.form(ord_no)
    shop.kispg.self_approve(form["tid"])
    assert shop.post(ord_no, form).order.status == "paid"
    assert shop.kinds(ord_no)[-2:] == ["approval_unknown", "reconciled_paid"]
    assert sum(shop.kispg.approvals.values()) == 1


def test_an_approval_code_on_return_url_is_confirmed_by_inquiry_before_paid(shop):
    ord_no = shop.order()
    form = shop.form(ord_no, result_cd="3001")
    shop.kispg.self_approve(form["tid"])
    assert shop.post(ord_no, form).order.status == "paid"
    assert shop.kinds(ord_no)[-2:] == ["already_approved", "reconciled_paid"]
    assert [op for op, _ in shop.kispg.calls] == ["inquire"]  # never a second approval


def test_a_failure_post_for_an_attempt_kispg_charged_is_settled_as_paid(shop):
    ord_no = shop.order()
    shop.kispg.self_approve(shop.form(ord_no)["tid"])  # KISPG approved; its 3001 never arrived
    refused = shop.form(ord_no)  # the shopper tries again under the same ordNo: KISPG refuses it
    assert refused["resultCd"] == "A127"
    assert shop.post(ord_no, refused).order.status == "paid"
    assert shop.kinds(ord_no)[-2:] == ["failure_unconfirmed", "reconciled_paid"]
    assert shop.store.get(ord_no).attempt_no == 1  # no second attempt, so no second charge


def test_a_failure_post_while_kispg_cannot_answer_waits_for_it(shop):
    ord_no = shop.order()
    shop.kispg.arm("inquire", "timeout")
    shop.kispg.arm("inquire", "timeout")
    assert shop.post(ord_no, {"resultCd": "XXXX"}).order.status == "unknown"
    assert shop.kinds(ord_no)[-2:] == ["failure_unconfirmed", "reconcile_failed"]
    assert shop.payments.reconcile(ord_no).status == "failed"  # KISPG answers: nothing held, next attempt open
    assert shop.store.get(ord_no).attempt_no == 2


def test_an_approval_code_that_kispg_does_not_confirm_fails_the_attempt(shop):
    ord_no = shop.order()
    shop.post(ord_no, shop.form(ord_no, result_cd="3001"))  # forged or premature: KISPG holds nothing
    assert shop.status(ord_no) == "failed" and shop.kinds(ord_no)[-2:] == ["already_approved", "reconciled_not_approved"]


def test_an_approval_code_whose_inquiry_names_another_order_needs_review(shop):
    ord_no = shop.order()
    form = shop.form(ord_no, result_cd="3001")
    shop.kispg.self_approve(form["tid"])
    shop.kispg.arm("inquire", "other_ord_no")
    assert shop.post(ord_no, form).order.status == "needs_review"
    assert shop.kinds(ord_no)[-1] == "reconcile_mismatch" and shop.kispg.cancels == []


def test_a_genuine_failure_ends_the_attempt_with_the_tables_words(shop):
    ord_no = shop.order()
    # Each attempt: "authenticated" and "approval_claimed" only for a 0000; a failure is "auth_failed".
    failed = shop.post(ord_no, {"resultCd": "XXXX", "resultMsg": "<script>전화주세요</script>"}).order
    assert (failed.status, failed.result_cd, failed.result_msg) == ("failed", "XXXX", "인증에 실패하였습니다.")
    unknown_code = shop.post(ord_no, {"resultCd": "9999", "resultMsg": "아무 말"}).order
    assert unknown_code.result_msg == "결제가 취소되었거나 인증에 실패했습니다."
    assert [a.outcome for a in shop.store.attempts(ord_no)] == ["failed", "failed", "open"]
    assert shop.kinds(ord_no) == ["created", "auth_failed", "auth_failed"]
    assert shop.post(ord_no, shop.form(ord_no)).order.status == "paid"


# -- refusals: each leaves the order as it was --------------------------------------------------------

def refuse(shop, ord_no, form, error, match, token="current"):
    before = shop.store.get(ord_no)
    with pytest.raises(error, match=match):
        shop.post(ord_no, form, token=token)
    assert shop.store.get(ord_no) == before
    assert shop.kispg.calls == []


def test_a_return_without_the_current_token_is_forbidden(shop):
    ord_no = shop.order()
    refuse(shop, ord_no, shop.form(ord_no), ReturnForbidden, "token", token=None)
    refuse(shop, ord_no, {"resultCd": "XXXX"}, ReturnForbidden, "token", token="x" * 32)
    assert shop.kinds(ord_no) == ["created"]


def test_a_return_for_no_known_attempt_is_unknown(shop):
    with pytest.raises(UnknownOrder):
        shop.payments.handle_return({"resultCd": "XXXX"}, "nobody", "token")
    with pytest.raises(ReturnRejected, match="no ordNo"):
        shop.payments.handle_return({"resultCd": "XXXX"}, None, "token")


@pytest.mark.parametrize("change, match", [
    ({"amt": "1000"}, "amount"),
    ({"tid": "가" * 10}, "tid"),
    ({"tid": "T" * 29}, "tid must be 30"),
    ({"ordNo": "X" * 30}, "ordNo in the result"),
    ({"encData": "0" * 64}, "encData does not match"),
    ({"resultMsg": "가" * 34}, "resultMsg"),
    ({"resultCd": "00000"}, "resultCd"),
    ({"payMethod": "x" * 11}, "payMethod"),
    ({"tid": "T\x0029" + "T" * 27}, "NUL"),
], ids=["amount", "non-ascii-tid", "short-tid", "other-ordno", "signature", "long-msg", "long-code", "method", "nul"])
def test_a_tampered_return_is_refused(shop, change, match):
    ord_no = shop.order()
    form = shop.form(ord_no)
    refuse(shop, ord_no, {**form, **change}, ReturnRejected, match)
    shop.post(ord_no, form)
    assert shop.status(ord_no) == "paid"


def test_a_tid_bound_to_another_order_is_refused_before_kispg(shop):
    victim = shop.pay()
    victim_tid = shop.store.get(victim).tid
    calls = len(shop.kispg.calls)
    attacker = shop.order()
    shop.kispg.calls.clear()
    refuse(shop, attacker, shop.form(attacker, tid=victim_tid), ReturnRejected, "belongs to another order")
    assert calls == 1 and shop.status(victim) == "paid" and shop.kispg.cancels == []


def test_duplicates_and_late_returns_change_nothing(shop):
    ord_no = shop.order()
    form = shop.form(ord_no)
    assert shop.post(ord_no, form).approved_here
    again = shop.post(ord_no, form)
    assert not again.approved_here and again.order.status == "paid"
    assert shop.post(ord_no, {"resultCd": "XXXX"}).order.status == "paid"
    assert shop.kinds(ord_no)[-2:] == ["return_duplicate", "return_duplicate"]
    assert sum(shop.kispg.approvals.values()) == 1


def test_a_late_approval_report_for_a_closed_attempt_is_recorded(shop):
    ord_no = shop.order()
    first_ord_no, first_token = shop.checkout(ord_no)
    form = shop.form(ord_no)
    shop.post(ord_no, {"resultCd": "XXXX"})
    outcome = shop.payments.handle_return({**form, "resultCd": "3001"}, first_ord_no, first_token)
    assert outcome.order.status == "failed" and shop.kinds(ord_no)[-1] == "late_approval_reported"


# -- reconcile, review and the check interval -----------------------------------------------------------

def test_needs_review_is_left_by_an_explicit_review_once_kispg_agrees(shop):
    ord_no = shop.order()
    shop.kispg.arm("approve", "no_ord_no")
    shop.post(ord_no, shop.form(ord_no))
    assert shop.payments.reconcile(ord_no).status == "needs_review"  # automatic passes leave it alone
    assert shop.payments.reconcile(ord_no, review=True).status == "paid"
    assert shop.kinds(ord_no)[-1] == "reconciled_paid"


def test_a_review_that_still_disagrees_is_recorded_and_changes_nothing(shop):
    ord_no = shop.order()
    shop.kispg.arm("approve", "other_ord_no")
    shop.post(ord_no, shop.form(ord_no))
    shop.kispg.arm("inquire", "no_ord_no")
    assert shop.payments.reconcile(ord_no, review=True).status == "needs_review"
    assert shop.kinds(ord_no)[-1] == "review_still_unresolved"


def test_an_inquiry_that_fails_leaves_the_order_unknown(shop):
    ord_no = shop.order()
    shop.kispg.arm("approve", "timeout_after")
    shop.kispg.arm("inquire", "timeout")
    assert shop.post(ord_no, shop.form(ord_no)).order.status == "unknown"
    assert shop.kinds(ord_no)[-1] == "reconcile_failed"
    assert [o.status for o in shop.payments.reconcile_all()] == ["paid"]


def test_the_check_interval_holds_whoever_asks(tmp_path):
    shop = Shop(f"sqlite:///{tmp_path / 'interval.sqlite3'}", check_interval=600)
    try:
        ord_no = shop.order()
        shop.kispg.arm("approve", "timeout_after")
        for _ in range(6):
            shop.kispg.arm("inquire", "timeout")
        shop.post(ord_no, shop.form(ord_no))  # asks at once, and that counts
        for _ in range(5):
            assert shop.payments.check(shop.store.get(ord_no)).status == "unknown"
        assert shop.payments.reconcile_all() == []  # not due: a pass neither asks nor reads it
        assert [op for op, _ in shop.kispg.calls] == ["approve", "inquire"]
        assert shop.payments.reconcile(ord_no).status == "unknown"  # an explicit reconcile is not throttled
        assert [op for op, _ in shop.kispg.calls].count("inquire") == 2
    finally:
        shop.store.dispose()


def test_kispg_showing_the_payment_cancelled_settles_an_unknown_order_cancelled(shop):
    ord_no = shop.order()
    form = shop.form(ord_no)
    shop.kispg.arm("approve", "timeout_after")
    shop.kispg.arm("inquire", "timeout")
    shop.post(ord_no, form)
    shop.kispg.held[form["tid"]].cancelled = AMOUNT  # cancelled at KISPG meanwhile (its admin screen)
    assert shop.payments.reconcile(ord_no).status == "cancelled"
    assert shop.kinds(ord_no)[-1] == "reconciled_cancelled"


def test_a_review_takes_the_cancelled_amount_from_kispg(shop):
    ord_no = shop.pay()
    shop.kispg.arm("cancel", "timeout_after")
    shop.kispg.arm("inquire", "other_ord_no")
    assert shop.payments.cancel(ord_no, 1000).status == "needs_review"  # KISPG cancelled 1000; the answer lied
    order = shop.payments.reconcile(ord_no, review=True)
    assert (order.status, order.cancelled_amt) == ("partially_cancelled", 1000)
    assert shop.kinds(ord_no)[-1] == "reconciled_partially_cancelled"


def test_kispg_showing_a_deposit_wait_never_reads_as_paid(shop):
    ord_no = shop.order()
    form = shop.form(ord_no, method="vacnt")
    shop.kispg.arm("approve", "timeout_after")
    shop.kispg.arm("inquire", "timeout")
    shop.post(ord_no, form)
    order = shop.payments.reconcile(ord_no)
    assert order.status == "awaiting_deposit" and shop.kinds(ord_no)[-1] == "reconciled_awaiting_deposit"
    assert (order.vacnt_no, order.vbank_cd, order.lmt_day) == ("56211234567890", "004", "20261204")


def test_a_deposit_wait_naming_no_account_needs_review(shop):
    ord_no = shop.order()
    form = shop.form(ord_no)  # a card payment KISPG reports as waiting for a deposit, with no vacntNo
    shop.kispg.arm("approve", "timeout_after")
    shop.kispg.arm("inquire", "timeout")
    shop.post(ord_no, form)
    shop.kispg.held[form["tid"]].awaiting_deposit = True
    assert shop.payments.reconcile(ord_no).status == "needs_review"


def test_a_cancel_with_a_lost_answer_is_settled_by_inquiry(shop):
    ord_no = shop.pay()
    shop.kispg.arm("cancel", "timeout_after")
    assert shop.payments.cancel(ord_no, 1000).status == "partially_cancelled"
    assert shop.kinds(ord_no)[-3:] == ["cancel_claimed", "cancel_unknown", "reconciled_cancel"]
    assert shop.store.get(ord_no).cancelled_amt == 1000


def test_a_cancel_lost_before_kispg_returns_to_paid_once_due(shop):
    ord_no = shop.pay()
    shop.kispg.arm("cancel", "lost")
    assert shop.payments.cancel(ord_no).status == "paid"
    assert shop.kinds(ord_no)[-1] == "reconciled_cancel" and shop.kispg.cancels == []


def test_cancel_outcomes_and_refusals(shop):
    ord_no = shop.pay()
    assert shop.payments.cancel(ord_no, 9000).status == "partially_cancelled"
    shop.kispg.arm("cancel", "decline")
    with pytest.raises(CancelRefused, match="KISPG refused"):
        shop.payments.cancel(ord_no, 1000)
    assert shop.status(ord_no) == "partially_cancelled" and shop.kinds(ord_no)[-1] == "cancel_declined"
    with pytest.raises(CancelRefused, match="between 1 and the remaining 30000"):
        shop.payments.cancel(ord_no, 30001)
    assert shop.payments.cancel(ord_no).status == "cancelled"
    with pytest.raises(CancelRefused, match="only paid orders"):
        shop.payments.cancel(ord_no)
    assert shop.kispg.cancels == [(shop.store.get(ord_no).tid, 9000), (shop.store.get(ord_no).tid, 30000)]


def test_a_cancel_answer_naming_another_order_needs_review(shop):
    ord_no = shop.pay()
    shop.kispg.arm("cancel", "other_ord_no")
    assert shop.payments.cancel(ord_no).status == "needs_review"
    assert shop.kinds(ord_no)[-1] == "cancel_mismatch"


# -- virtual accounts ----------------------------------------------------------------------------------

def issue_account(shop) -> str:
    ord_no = shop.order()
    shop.post(ord_no, shop.form(ord_no, method="vacnt"))
    return ord_no


def test_an_issued_virtual_account_waits_for_the_money_with_its_account_stored(shop):
    ord_no = issue_account(shop)
    order = shop.store.get(ord_no)
    assert order.status == "awaiting_deposit" and shop.kinds(ord_no)[-1] == "vbank_issued"
    assert (order.vacnt_no, order.vbank_cd, order.lmt_day, order.result_cd) == ("56211234567890", "004",
                                                                                 "20261204", "4100")
    account = order.as_dict()["virtualAccount"]
    assert account["bankNm"] == "국민" and account["amount"] == AMOUNT
    assert account["deadline"] == "2026-12-04T23:59:59+09:00"
    # No deposit yet: however often anyone asks, it stays waiting.
    assert shop.payments.reconcile(ord_no).status == "awaiting_deposit"
    assert shop.payments.reconcile_all()[0].status == "awaiting_deposit"


def test_a_confirmed_deposit_makes_it_paid_once(shop):
    ord_no = issue_account(shop)
    shop.kispg.deposit(shop.store.get(ord_no).tid)
    assert shop.payments.reconcile(ord_no).status == "paid"
    assert shop.payments.reconcile(ord_no).status == "paid"
    assert shop.kinds(ord_no).count("deposit_confirmed") == 1


def test_past_the_deadline_kispg_still_waiting_expires_the_order(tmp_path):
    from datetime import datetime, time, timedelta
    moments = [datetime.now(KST)]
    shop = Shop(f"sqlite:///{tmp_path / 'expiry.sqlite3'}", clock=lambda: moments[0])
    shop.kispg.lmt_day = moments[0].strftime("%Y%m%d")
    try:
        ord_no = issue_account(shop)
        moments[0] = datetime.combine(moments[0].date(), time(23, 59, 0), KST)
        assert shop.payments.reconcile(ord_no).status == "awaiting_deposit"  # the last minute still counts
        moments[0] += timedelta(minutes=1, seconds=1)
        shop.kispg.arm("inquire", "timeout")
        assert shop.payments.reconcile(ord_no).status == "awaiting_deposit"  # never expired unasked
        assert shop.payments.reconcile(ord_no).status == "expired"
        assert shop.kinds(ord_no)[-1] == "deposit_expired"
    finally:
        shop.store.dispose()


def test_an_inquiry_naming_another_amount_or_a_closed_account(shop):
    ord_no = issue_account(shop)
    shop.kispg.arm("inquire", "other_ord_no")
    assert shop.payments.reconcile(ord_no).status == "needs_review"
    assert shop.kinds(ord_no)[-1] == "reconcile_mismatch"
    closed = issue_account(shop)
    shop.kispg.held[shop.store.get(closed).tid].cancelled = AMOUNT  # closed in KISPG's own admin
    assert shop.payments.reconcile(closed).status == "cancelled"
    assert shop.kinds(closed)[-1] == "reconciled_cancelled"


def test_cancel_of_an_unpaid_account_closes_it_whole_and_a_paid_one_needs_a_refund_account(shop):
    from webview_toolkit.kispg.client import Refund
    ord_no = issue_account(shop)
    with pytest.raises(CancelRefused, match="closed whole"):
        shop.payments.cancel(ord_no, 1000)
    assert shop.payments.cancel(ord_no).status == "cancelled" and shop.kispg.refunds == []
    paid = issue_account(shop)
    shop.kispg.deposit(shop.store.get(paid).tid)
    shop.payments.reconcile(paid)
    with pytest.raises(CancelRefused, match="refundBankCd"):
        shop.payments.cancel(paid)
    assert shop.status(paid) == "paid"
    refund = Refund("004", "123456789012", "홍길동")
    assert shop.payments.cancel(paid, refund=refund).status == "cancelled"
    assert shop.kispg.refunds == [(shop.store.get(paid).tid, refund)]
    claim = [e for e in shop.store.events(paid) if e["kind"] == "cancel_claimed"][-1]
    assert claim["detail"]["refund"] == {"bankCd": "004", "accnt": "****9012"}


def test_every_event_payments_can_cause_is_declared_and_tested_here():
    """The flow names no change that the table does not declare, and this module exercises each."""
    source = Path(__import__("webview_toolkit.payments", fromlist=["x"]).__file__).read_text(encoding="utf-8")
    declared = {row.event for row in lifecycle.TRANSITIONS}
    used = set(re.findall(r'"([a-z_]+)"', source)) & declared
    assert "approved" in used and "reconciled_cancel" in used
    here = Path(__file__).read_text(encoding="utf-8")
    untested = sorted(event for event in used if f'"{event}"' not in here)
    assert untested == []
