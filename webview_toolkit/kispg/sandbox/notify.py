"""The sandbox's notifications to the merchant ("결제 결과 수신", guide §2.2), resent with back-off until taken.

Evidence and choices:
- The fields and `hashStr` = SHA-256(mid + ediDate + amt + key), form-encoded: KORPAY's published
  notification spec (a sister platform; forteleaf/bill-and-pay docs/PRD-06_korpay.md).
- resultCd `4110` for a virtual-account deposit: the NICE family (KISPG_FACTS.md "Notifications").
- Resending until the merchant answers success: sister platforms (KISPG_FACTS.md). What counts as
  success here — HTTP 200 whose body, stripped, is `OK` or `0000` — and the schedule (BACKOFF, at most
  MAX_SENDS sends) are our own choices: KISPG's are not public.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

import requests

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed send (our choice); MAX_SENDS bounds the sends.
BACKOFF = (5.0, 15.0, 60.0, 300.0, 1800.0)
MAX_SENDS = len(BACKOFF) + 1
SUCCESS_BODIES = ("OK", "0000")
TIMEOUT = (3.05, 10.0)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification and how its delivery went."""

    id: int
    url: str
    fields: Mapping[str, str]
    next_at: datetime
    sends: int = 0
    delivered: bool = False
    last_result: str = ""

    max_sends: int = MAX_SENDS

    @property
    def given_up(self) -> bool:
        """No more sends: the bound was reached without success."""
        return not self.delivered and self.sends >= self.max_sends

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the fields carry a hash, never the key)."""
        return {"id": self.id, "url": self.url, "fields": dict(self.fields), "sends": self.sends,
                "delivered": self.delivered, "givenUp": self.given_up, "lastResult": self.last_result,
                "nextAt": self.next_at.isoformat()}


@dataclass
class Notifier:
    """The outbox of notifications; `deliver_due` sends each one that is due, once per call."""

    clock: Callable[[], datetime]
    session_factory: Callable[[], requests.Session] = requests.Session
    auto_resend: bool = True
    backoff: tuple[float, ...] = BACKOFF
    lock: threading.Lock = field(default_factory=threading.Lock)
    notices: list[Notice] = field(default_factory=list)
    timer: threading.Timer | None = None

    def enqueue(self, url: str, fields: Mapping[str, str]) -> Notice:
        """Queue a notification, due now."""
        with self.lock:
            notice = Notice(id=len(self.notices) + 1, url=url, fields=dict(fields), next_at=self.clock(),
                            max_sends=len(self.backoff) + 1)
            self.notices.append(notice)
        return notice

    def deliver_due(self) -> list[Notice]:
        """Send every undelivered notification whose time has come; the notices after their send."""
        now = self.clock()
        with self.lock:
            due = [n for n in self.notices if not n.delivered and not n.given_up and n.next_at <= now]
        sent = [self._send(notice) for notice in due]
        if self.auto_resend:
            self._schedule_next()
        return sent

    def get(self, notice_id: int) -> Notice | None:
        """A notice by id."""
        with self.lock:
            return next((n for n in self.notices if n.id == notice_id), None)

    def _send(self, notice: Notice) -> Notice:
        # No lock held while sending: the merchant asks /v2/order of this same sandbox meanwhile.
        try:
            response = self.session_factory().post(notice.url, data=dict(notice.fields), timeout=TIMEOUT)
            ok = response.status_code == 200 and response.text.strip() in SUCCESS_BODIES
            result = f"HTTP {response.status_code} {response.text.strip()[:80]}"
        except requests.RequestException as exc:
            ok, result = False, type(exc).__name__
        sends = notice.sends + 1
        wait = self.backoff[min(sends - 1, len(self.backoff) - 1)]
        updated = replace(notice, sends=sends, delivered=ok, last_result=result,
                          next_at=self.clock() + timedelta(seconds=wait))
        with self.lock:
            self.notices[notice.id - 1] = updated
        log.info("sandbox notification %s to %s: send %s, %s", notice.id, notice.url, sends, result)
        return updated

    def _schedule_next(self) -> None:
        with self.lock:
            waiting = [n.next_at for n in self.notices if not n.delivered and not n.given_up]
            if self.timer is not None:
                self.timer.cancel()  # one timer, for the soonest resend
                self.timer = None
            if not waiting:
                return
            delay = max(0.0, (min(waiting) - self.clock()).total_seconds())
            self.timer = threading.Timer(delay, self.deliver_due)
            self.timer.daemon = True
            self.timer.start()
