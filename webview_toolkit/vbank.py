"""Virtual accounts (가상계좌): the account KISPG issued, its deadline, and refund accounts.

What the guide settles: the approval and inquiry answers carry `vacntNo` (20) and `lmtDay`
(8, `yyyyMMdd`) and name the bank only in `fnNm` (§3.2.2 "카드사명, 은행명"); §9 lists the
virtual-account bank codes; a refund after a deposit needs `refundBankCd` (3), `refundAccnt`
(20) and `refundNm` (30) in the cancel request (§3.3.1). What it does not settle, and is our
choice here: the deadline is the end of `lmtDay` in KST; the bank code is `fnNm` looked up in
§9's virtual-account table (or a `vbankCd`/`fnCd` field, should an answer carry one); a holder
is read from `vacntNm` when present (no public source shows its name).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from .kispg import specs
from .kispg.client import Refund
from .kispg.signing import deposit_deadline
from .registry import RegistryError, load_registry

# Unverified field names, read when present; the guide's tables have none of them.
BANK_CODE_FIELDS = ("vbankCd", "fnCd")
HOLDER_FIELDS = ("vacntNm",)
REFUND_FIELDS = ("refundBankCd", "refundAccnt", "refundNm")
WEEKDAYS = "월화수목금토일"


@dataclass(frozen=True, slots=True)
class VirtualAccount:
    """An issued account: where and by when the shopper pays how much."""

    number: str
    bank_cd: str | None
    bank_nm: str | None
    holder: str | None
    lmt_day: str | None
    amount: int

    @property
    def deadline(self) -> datetime | None:
        """The last moment a deposit counts: the end of lmtDay in KST (our reading; the guide gives a date)."""
        return deposit_deadline(self.lmt_day)

    def deadline_ko(self) -> str | None:
        """The deadline as a shopper reads it: 2026년 12월 4일(금) 23:59까지."""
        deadline = self.deadline
        if deadline is None:
            return None
        return (f"{deadline.year}년 {deadline.month}월 {deadline.day}일({WEEKDAYS[deadline.weekday()]}) "
                f"{deadline:%H:%M}까지")

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape inside `GET /api/orders/<ordNo>`."""
        deadline = self.deadline
        return {"accountNo": self.number, "bankCd": self.bank_cd, "bankNm": self.bank_nm, "holder": self.holder,
                "lmtDay": self.lmt_day, "deadline": deadline.isoformat() if deadline else None,
                "amount": self.amount}


def parse_lmt_day(value: str | None):
    """lmtDay (yyyyMMdd) as a date, or None when absent or not a date."""
    try:
        return datetime.strptime(value or "", "%Y%m%d").date()
    except ValueError:
        return None


def is_past_deadline(lmt_day: str | None, now: datetime) -> bool:
    """Whether `now` is after the end of lmtDay (KST); an account without a readable deadline never expires here."""
    deadline = deposit_deadline(lmt_day)
    return deadline is not None and now > deadline


def _tables():
    try:
        return load_registry().codes
    except RegistryError:
        return None


def bank_name(code: str | None) -> str | None:
    """The §9 virtual-account bank name for a code, or None."""
    tables = _tables()
    return tables.name("vbank", code) if tables and code else None


def bank_code(answer: Mapping[str, Any]) -> str | None:
    """The bank's §9 code for an approval or inquiry answer: a code field if any, else fnNm in the vbank table."""
    for name in BANK_CODE_FIELDS:
        if str(answer.get(name) or "").strip():
            return str(answer[name]).strip()[:3]
    name = str(answer.get("fnNm") or "").strip()
    tables = _tables()
    if not name or tables is None:
        return None
    for code, known in tables.tables.get("vbank", {}).items():
        # fnNm may say 국민 or 국민은행: either names the §9 row.
        if name in (known, known + "은행"):
            return code
    return None


def issued_columns(answer: Mapping[str, Any]) -> dict[str, str | None]:
    """Store columns for the account an answer describes (vacntNo, bank code, holder, lmtDay)."""

    def text(name: str, size: int) -> str | None:
        value = str(answer.get(name) or "").strip()
        return value[:size] or None

    holder = next((text(n, 30) for n in HOLDER_FIELDS if text(n, 30)), None)
    return {"vacnt_no": text("vacntNo", 20), "vbank_cd": bank_code(answer), "vacnt_holder": holder,
            "lmt_day": text("lmtDay", 8)}


def account_of(order) -> VirtualAccount:
    """The virtual account stored on an order."""
    return VirtualAccount(number=order.vacnt_no, bank_cd=order.vbank_cd, bank_nm=bank_name(order.vbank_cd),
                          holder=order.vacnt_holder, lmt_day=order.lmt_day, amount=order.goods_amt)


def refund_account(body: Mapping[str, Any]) -> tuple[Refund | None, dict[str, str]]:
    """The refund account in a cancel body, checked against the cancel table (§3.3.1) and §9's bank codes.

    Returns (Refund, {}) when all three fields are good, (None, {}) when none is given, and
    (None, field → problem) otherwise.
    """
    given = {name: body.get(name) for name in REFUND_FIELDS if body.get(name) not in (None, "")}
    if not given:
        return None, {}
    problems = {name: "is required for a refund" for name in REFUND_FIELDS if name not in given}
    for name, value in given.items():
        if not isinstance(value, str):
            problems[name] = f"must be a string, got {type(value).__name__}"
            continue
        problem = specs.field_problem("cancel_request", name, value)
        if problem:
            problems[name] = problem
    bank, account = given.get("refundBankCd"), given.get("refundAccnt")
    if isinstance(bank, str) and "refundBankCd" not in problems and not _known_bank(bank):
        problems["refundBankCd"] = "must be a bank code of the guide's §9 tables, such as 004"
    if isinstance(account, str) and "refundAccnt" not in problems and not account.isdigit():
        problems["refundAccnt"] = "must be the account number's digits only"
    if problems:
        return None, problems
    return Refund(given["refundBankCd"], given["refundAccnt"], given["refundNm"].strip()), {}


def _known_bank(code: str) -> bool:
    tables = _tables()
    if tables is None:
        return len(code) == 3 and code.isdigit()
    return bool(tables.name("bank", code) or tables.name("vbank", code))
