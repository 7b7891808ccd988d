"""A fake KISPG for driving `Payments` directly: what it holds per tid, and the faults it answers with.

It answers through the same result types and error classes as `KispgClient`, and checks what
the real client checks (an answer naming another tid or amount is a ResponseMismatchError);
everything else an answer says is left for `Payments` to judge.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from webview_toolkit.kispg import result_codes
from webview_toolkit.kispg.errors import (DeclinedError, FieldError, InvalidResponseError, KispgTimeout,
                                          ResponseMismatchError, UnregisteredServerError)
from webview_toolkit.kispg.answers import Approval, Cancellation, Inquiry

# Fault modes, per operation. "lost" and "connect": KISPG did nothing; "*_after": it did, the answer was lost.
APPROVE_FAULTS = ("connect", "not_sent", "firewall", "lost", "timeout_after", "garbled_after", "other_ord_no", "no_ord_no",
                  "no_amount", "other_amount", "decline")
INQUIRE_FAULTS = ("timeout", "other_ord_no", "no_ord_no", "other_amount")
CANCEL_FAULTS = ("lost", "timeout_after", "decline", "other_ord_no")


@dataclass
class Held:
    """A payment KISPG holds."""

    ord_no: str
    amt: int
    pay_method: str
    cancelled: int = 0
    awaiting_deposit: bool = False  # a virtual account issued and not paid in


@dataclass
class FakeKispg:
    """Stands in for KispgClient; `held` is the truth about money."""

    mid: str = "fakemid00m"
    auths: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # tid -> (KISPG ordNo, amount, method)
    held: dict[str, Held] = field(default_factory=dict)
    faults: list[tuple[str, str]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    approvals: Counter = field(default_factory=Counter)  # KISPG ordNo -> approvals made
    cancels: list[tuple[str, int]] = field(default_factory=list)  # (tid, amount) cancels made
    serial: int = 0
    lmt_day: str = "20261204"  # the deadline of the virtual accounts it issues
    refunds: list = field(default_factory=list)  # (tid, Refund) of virtual-account refunds made

    # -- the test's side ---------------------------------------------------------------------------

    def authenticate(self, kispg_ord_no: str, amt: int, pay_method: str = "card") -> str | None:
        """The shopper authenticated in KISPG's window: a new tid for this ordNo.

        None when KISPG already holds a payment under that ordNo: its window then ends in
        `MOID 중복 또는 이미 처리된 주문` (KISPG_FACTS.md, "Reused ordNo").
        """
        if any(h.ord_no == kispg_ord_no for h in self.held.values()):
            return None
        self.serial += 1
        tid = f"{self.mid}0101{self.serial:016d}"
        self.auths[tid] = (kispg_ord_no, amt, pay_method)
        return tid

    def self_approve(self, tid: str) -> None:
        """KISPG approved by itself (payReqType other than 1)."""
        ord_no, amt, method = self.auths[tid]
        if not any(h.ord_no == ord_no for h in self.held.values()):
            self.held[tid] = Held(ord_no, amt, method)
            self.approvals[ord_no] += 1

    def deposit(self, tid: str) -> None:
        """The shopper paid the whole amount into the virtual account issued under this tid."""
        self.held[tid].awaiting_deposit = False

    def arm(self, operation: str, mode: str) -> None:
        """Answer the next `operation` call with the fault `mode`."""
        self.faults.append((operation, mode))

    def _fault(self, operation: str) -> str | None:
        for index, (op, mode) in enumerate(self.faults):
            if op == operation:
                del self.faults[index]
                return mode
        return None

    # -- KispgClient's side ------------------------------------------------------------------------

    def approve(self, tid: str, goods_amt) -> Approval:
        self.calls.append(("approve", tid))
        mode = self._fault("approve")
        if mode == "connect":
            raise KispgTimeout("connect timeout", url="fake", phase="connect")
        if mode == "not_sent":
            raise FieldError("tid: refused before sending", field="tid")
        if mode == "firewall":
            raise UnregisteredServerError("302: register this server's address with KISPG", status=302, body="",
                                          location="https://kisvan.co.kr/firewall.html")
        if mode == "decline":
            raise DeclinedError("declined", result_cd="3011", result_msg="카드 한도 초과")
        auth = self.auths.get(tid)
        if auth is None:
            raise DeclinedError("unknown", result_cd=result_codes.UNKNOWN_TRANSACTION, result_msg="거래 내역이 없습니다.")
        ord_no, amt, method = auth
        if any(h.ord_no == ord_no for h in self.held.values()):
            raise DeclinedError("dup", result_cd=result_codes.DUPLICATE_ORDER,
                                result_msg=result_codes.MESSAGES[result_codes.DUPLICATE_ORDER])
        if int(goods_amt) != amt:
            raise DeclinedError("amount", result_cd=result_codes.AMOUNT_MISMATCH, result_msg="금액 불일치")
        if mode == "lost":
            raise KispgTimeout("read timeout", url="fake", phase="read")
        self.held[tid] = Held(ord_no, amt, method, awaiting_deposit=method == "vacnt")
        self.approvals[ord_no] += 1
        if mode == "timeout_after":
            raise KispgTimeout("read timeout", url="fake", phase="read")
        if mode == "garbled_after":
            raise InvalidResponseError("not JSON", body="{")
        if mode == "other_amount":  # the real client refuses an answer naming another amount
            raise ResponseMismatchError("amt in the answer is 1", field="amt", expected=str(amt), actual="1")
        answer = {"resultCd": "3001", "resultMsg": "카드 결제 성공", "payMethod": method, "tid": tid,
                  "ordNo": ord_no, "amt": str(amt), "appNo": "12345678", "appDtm": "20261201120000"}
        if method == "vacnt":  # an account issued (guide §3.2.2 vacntNo, lmtDay; the bank by name in fnNm)
            answer.update(resultCd="4100", resultMsg="가상계좌 발급 성공", vacntNo="56211234567890",
                          lmtDay=self.lmt_day, fnNm="국민")
        if mode == "other_ord_no":
            answer["ordNo"] = "X" * 30
        if mode == "no_ord_no":
            del answer["ordNo"]
        if mode == "no_amount":
            del answer["amt"]
        return Approval.from_response(answer)

    def inquire(self, tid: str | None = None, ord_no: str | None = None, *, goods_amt) -> Inquiry:
        self.calls.append(("inquire", tid or ord_no))
        mode = self._fault("inquire")
        if mode == "timeout":
            raise KispgTimeout("read timeout", url="fake", phase="read")
        if tid:
            found = tid if tid in self.held else None
        else:
            found = next((t for t, h in self.held.items() if h.ord_no == ord_no), None)
        if found is None:
            raise DeclinedError("none", result_cd=result_codes.UNKNOWN_TRANSACTION, result_msg="거래 내역이 없습니다.")
        held = self.held[found]
        if int(goods_amt) != held.amt or mode == "other_amount":
            raise DeclinedError("amount", result_cd=result_codes.AMOUNT_MISMATCH, result_msg="금액 불일치")
        status = result_codes.TRX_CANCELLED if held.cancelled >= held.amt else result_codes.TRX_APPROVED
        if held.awaiting_deposit and not held.cancelled:
            status = result_codes.TRX_AWAITING_DEPOSIT
        rows = [{"tid": found, "ccDtm": "20261201120000", "ccAmt": held.cancelled,
                 "remainAmt": held.amt - held.cancelled}] if held.cancelled else []
        answer = {"resultCd": "0000", "resultMsg": "정상", "payMethod": held.pay_method, "tid": found,
                  "ordNo": held.ord_no, "amt": str(held.amt), "trxStatus": status,
                  "cancelData": json.dumps(rows) if rows else ""}
        if held.pay_method == "vacnt":  # §3.4.2: a virtual account's inquiry carries vacntNo and lmtDay
            answer.update(vacntNo="56211234567890", lmtDay=self.lmt_day, fnNm="국민")
        if mode == "other_ord_no":
            answer["ordNo"] = "X" * 30
        if mode == "no_ord_no":
            del answer["ordNo"]
        return Inquiry.from_response(answer)

    def cancel(self, tid: str, can_amt, *, reason: str, pay_method: str = "card", partial: bool = False,
               ord_no: str | None = None, refund=None, **_ignored) -> Cancellation:
        self.calls.append(("cancel", tid))
        mode = self._fault("cancel")
        if mode == "decline":
            raise DeclinedError("refused", result_cd=result_codes.CANCEL_OVER_BALANCE, result_msg="잔액 초과")
        held = self.held.get(tid)
        if held is None:
            raise DeclinedError("none", result_cd=result_codes.UNKNOWN_TRANSACTION, result_msg="거래 내역이 없습니다.")
        amount = int(can_amt)
        if amount > held.amt - held.cancelled:
            raise DeclinedError("over", result_cd=result_codes.CANCEL_OVER_BALANCE, result_msg="잔액 초과")
        if mode == "lost":
            raise KispgTimeout("read timeout", url="fake", phase="read")
        if held.pay_method == "vacnt" and not held.awaiting_deposit and refund is None:
            raise DeclinedError("refund", result_cd=result_codes.MISSING_FIELD,
                                result_msg=result_codes.missing_field_message("refundBankCd"))
        held.cancelled += amount
        self.cancels.append((tid, amount))
        if refund is not None:
            self.refunds.append((tid, refund))
        if mode == "timeout_after":
            raise KispgTimeout("read timeout", url="fake", phase="read")
        answer = {"resultCd": result_codes.CANCELLED, "resultMsg": "취소 성공", "payMethod": held.pay_method, "tid": tid,
                  "ordNo": "X" * 30 if mode == "other_ord_no" else held.ord_no, "amt": str(amount)}
        return Cancellation.from_response(answer)
