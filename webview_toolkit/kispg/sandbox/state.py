"""The sandbox's memory: open pay windows, authenticated and approved payments, calls and faults.

One SandboxState lives in `app.extensions["kispg_sandbox"]`. Views hold `state.lock`
around every read-check-write, so two approvals of one tid cannot both pass.
Records are frozen; an update replaces the record.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any, Callable, Mapping

from ...registry import Registry, RegistryError, load_registry
from ..answers import CancelEntry
from ..result_codes import TID_METHOD
from ..signing import KST
from .notify import Notifier

EXTENSION = "kispg_sandbox"
WINDOW_TTL = timedelta(minutes=30)
FAULT_ENDPOINTS = ("payment", "cancel", "order")
# GET /_calls lists at most the newest CALL_LOG_LIMIT calls (our choice): a sandbox serving a load
# test for hours keeps a bounded log, appended in O(1), while a test's few calls are all there.
CALL_LOG_LIMIT = 10_000
# firewall: KISPG's answer to a server address it has not registered, an HTTP 302 to a notice page
# (Stevewon/live-commerce-platform 4507dcf, e50bfd8: api.kispg.co.kr/v2/payment → kisvan.co.kr/firewall.html).
FAULT_MODES = ("error500", "garbled", "timeout", "commit_then_timeout", "firewall")


@dataclass(frozen=True, slots=True)
class PendingWindow:
    """An auth request waiting for the shopper's choice in the pay window."""

    fields: Mapping[str, str]
    charset: str
    opened: datetime
    method: str = ""
    card_code: str = ""
    easypay_code: str = ""
    app_id: str = ""


@dataclass(frozen=True, slots=True)
class AuthRecord:
    """A successful authentication: what /v2/payment will be checked against."""

    tid: str
    ord_no: str
    amt: int
    pay_method: str
    card_code: str
    easypay_code: str
    goods_nm: str
    ord_nm: str
    mbs_reserved: str


@dataclass(frozen=True, slots=True)
class Payment:
    """An approved payment and its cancels; `cancel_keys` spots a resent cancel request."""

    auth: AuthRecord
    result_cd: str
    app_dtm: str
    app_no: str
    vacnt_no: str = ""
    lmt_day: str = ""
    vbank_cd: str = ""
    deposited: str = ""  # when the whole amount was paid in (yyyyMMddHHmmss), for a virtual account
    cancels: tuple[CancelEntry, ...] = ()
    cancel_keys: frozenset[tuple[str, ...]] = frozenset()

    @property
    def remaining(self) -> int:
        """What can still be cancelled."""
        return self.cancels[-1].remain_amt if self.cancels else self.auth.amt


@dataclass(frozen=True, slots=True)
class Call:
    """One API call the sandbox received, as GET /_calls lists it."""

    endpoint: str
    tid: str | None
    ord_no: str | None
    result_cd: str | None
    status: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the key is never part of a call)."""
        return {"endpoint": self.endpoint, "tid": self.tid, "ordNo": self.ord_no,
                "resultCd": self.result_cd, "status": self.status}


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected failure for the next `count` calls to one endpoint."""

    endpoint: str
    mode: str
    count: int = 1
    delay: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"endpoint": self.endpoint, "mode": self.mode, "count": self.count, "delay": self.delay}


@dataclass
class SandboxState:
    """Everything the sandbox remembers; guarded by `lock`. Clock and sleep are injectable for tests."""

    registry_override: Registry | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(KST))
    sleep: Callable[[float], None] = field(default=time.sleep)
    lock: threading.RLock = field(default_factory=threading.RLock)
    windows: dict[str, PendingWindow] = field(default_factory=dict)
    auths: dict[str, AuthRecord] = field(default_factory=dict)
    # Approved payments by tid; change them through put_payment, which keeps the two indexes below.
    payments: dict[str, Payment] = field(default_factory=dict)
    calls: deque[Call] = field(default_factory=lambda: deque(maxlen=CALL_LOG_LIMIT))
    faults: list[Fault] = field(default_factory=list)
    # Order numbers whose pay window ended in a failure or cancel: KISPG refuses them again.
    failed_ord_nos: set[str] = field(default_factory=set)
    # The merchant's notification URL (registered with KISPG in real life) and the outbox to it.
    noti_url: str | None = None
    notifier: Notifier | None = None
    # Lookups that would otherwise walk every payment: the latest payment's tid by ordNo, and cancel tids.
    latest_tid_by_ord_no: dict[str, str] = field(default_factory=dict)
    cancel_tids: set[str] = field(default_factory=set)

    def now(self) -> datetime:
        """The current time in KST, from the injected clock."""
        return self.clock().astimezone(KST)

    def registry(self) -> Registry | None:
        """The app registry, or None while schemes/ does not validate."""
        if self.registry_override is not None:
            return self.registry_override
        try:
            return load_registry()
        except RegistryError:
            return None

    def open_window(self, window: PendingWindow) -> str:
        """Keep a pay window under a fresh random token; forget windows older than WINDOW_TTL."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            # Kept in the order they opened: the old ones are at the front, the first young one ends the walk.
            expired = list(takewhile(lambda t: window.opened - self.windows[t].opened > WINDOW_TTL, self.windows))
            for old in expired:
                del self.windows[old]
            self.windows[token] = window
        return token

    def new_tid(self, mid: str, method: str, kind: str) -> str:
        """A 30-character tid: mid + method + kind + yyMMddHHmmss + 4 digits, unique here."""
        stamp = self.now().strftime("%y%m%d%H%M%S")
        with self.lock:
            while True:
                tid = f"{mid}{TID_METHOD.get(method, '01')}{kind}{stamp}{secrets.randbelow(10**4):04d}"
                if tid not in self.auths and tid not in self.cancel_tids:
                    return tid

    def put_payment(self, paid: Payment) -> None:
        """Record a new or changed payment (the caller holds the lock), keeping the lookups by ordNo and cancel tid."""
        if paid.auth.tid not in self.payments:
            self.latest_tid_by_ord_no[paid.auth.ord_no] = paid.auth.tid
        self.payments[paid.auth.tid] = paid
        self.cancel_tids.update(row.tid for row in paid.cancels)

    def payment_by_ord_no(self, ord_no: str) -> Payment | None:
        """The latest approved payment of an order number."""
        with self.lock:
            tid = self.latest_tid_by_ord_no.get(ord_no)
            return self.payments.get(tid) if tid is not None else None

    def ord_no_used(self, ord_no: str) -> bool:
        """Whether ordNo was approved, or ended a pay window in failure: KISPG answers MOID 중복 for both."""
        with self.lock:
            return ord_no in self.failed_ord_nos or self.payment_by_ord_no(ord_no) is not None

    def record_call(self, endpoint: str, tid: str | None, ord_no: str | None,
                    result_cd: str | None, status: int) -> None:
        """Remember one API call for GET /_calls."""
        with self.lock:
            self.calls.append(Call(endpoint, tid, ord_no, result_cd, status))

    def add_fault(self, fault: Fault) -> None:
        """Arm a fault for the next calls to its endpoint."""
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, endpoint: str) -> Fault | None:
        """The first armed fault for endpoint, counting one use of it."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.endpoint == endpoint:
                    if fault.count <= 1:
                        del self.faults[index]
                    else:
                        self.faults[index] = Fault(fault.endpoint, fault.mode, fault.count - 1, fault.delay)
                    return fault
        return None
