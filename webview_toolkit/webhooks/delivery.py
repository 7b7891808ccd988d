"""The webhook worker: claims due outbox rows, posts them signed, retries with back-off, marks the hopeless dead.

At least once: a row is marked delivered only after a 2xx, so a worker that dies mid-post
leaves it to be posted again (same event id) once its lease runs out. One at a time: a row is
claimed by a lease (a conditional UPDATE; on PostgreSQL the candidates are also read `FOR
UPDATE SKIP LOCKED`, so workers on several hosts pass over each other's rows instead of
queueing on them). In order: a row waits while an older row of the same order and receiver is
still pending.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import requests
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..engines import writing
from ..store import OrderStore
from . import receivers
from .outbox import DEAD, DELIVERED, PENDING, RETRY_FOR, outbox
from .signing import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

USER_AGENT = "webview-toolkit-webhooks/1"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off with jitter: attempt n waits a random time in [d/2, d], d = base·2ⁿ⁻¹ up to cap."""

    base: float = 10.0
    cap: float = 3600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after the `attempt`-th failure."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, 30))
        # Jitter spreads the retries of many events failing together (a receiver down) over time.
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class Pass:
    """What one `deliver_due` call did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0  # the lease ran out meanwhile and another worker took the row over

    @property
    def attempted(self) -> int:
        """Rows posted (or refused before posting)."""
        return self.delivered + self.failed + self.dead + self.lost


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Deliverer:
    """Delivers the outbox of one store to its receivers, signed with `secret`."""

    store: OrderStore
    secret: str = field(repr=False)  # a repr lands in logs and tracebacks; the secret must not
    session: requests.Session = field(default_factory=requests.Session)
    timeout: tuple[float, float] = (3.0, 10.0)  # connect, read: a hung receiver must not hold the lease
    lease: timedelta = timedelta(seconds=60)
    backoff: Backoff = field(default_factory=Backoff)
    batch: int = 20
    allow_private: bool = False
    resolve: receivers.Resolver = receivers.resolve_host
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")

    def deliver_due(self, now: datetime | None = None, max_passes: int = 100) -> Pass:
        """Post every row due at `now` (default: the clock), oldest first per order; what was done."""
        done = Pass()
        for _ in range(max_passes):
            moment = _utc(now or self.clock())
            claimed = self._claim(moment)
            if not claimed:
                break
            for row in claimed:
                self._deliver(row, moment, done)
        return done

    def _claim(self, now: datetime) -> list:
        earlier = outbox.alias("earlier")
        # The head of each (order, receiver) chain only: later events wait for the older one.
        waits = exists().where(earlier.c.ord_no == outbox.c.ord_no, earlier.c.url == outbox.c.url,
                               earlier.c.status == PENDING, earlier.c.id < outbox.c.id)
        free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        due = and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now, free)
        query = select(outbox).where(due, ~waits).order_by(outbox.c.id).limit(self.batch)
        claimed = []
        # On SQLite the claim takes the write lock at BEGIN, as every write transaction does
        # (engines.begin_immediate): a read that later upgraded to a write failed at once with
        # "database is locked" when another worker claimed meanwhile.
        with writing(self.store.engine) as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=outbox)
            for row in conn.execute(query).all():
                # The lease itself is a conditional UPDATE: on any database, one worker wins it.
                won = conn.execute(update(outbox).where(outbox.c.id == row.id, due).values(
                    lease_until=now + self.lease, leased_by=self.worker_id)).rowcount == 1
                if won:
                    claimed.append(row)
        return claimed

    def _deliver(self, row, now: datetime, done: Pass) -> None:
        problem = receivers.delivery_problem(row.url, allow_private=self.allow_private, resolve=self.resolve)
        status = None
        if problem is None:
            problem, status = self._post(row)
        attempts = row.attempts + 1
        mine = and_(outbox.c.id == row.id, outbox.c.leased_by == self.worker_id, outbox.c.status == PENDING)
        with writing(self.store.engine) as conn:
            if problem is None:
                values = {"status": DELIVERED, "delivered_at": now, "last_error": None}
            elif now >= _utc(row.give_up_at):
                values = {"status": DEAD, "last_error": problem[:300]}
            else:
                delay = timedelta(seconds=self.backoff.delay(attempts, self.rng))
                values = {"next_attempt_at": now + delay, "last_error": problem[:300]}
            updated = conn.execute(update(outbox).where(mine).values(
                attempts=attempts, lease_until=None, leased_by=None, **values)).rowcount
        if not updated:
            done.lost += 1
            return
        detail = {"eventId": row.event_id, "type": row.event_type, "attempt": attempts,
                  "receiver": receivers.shown(row.url)}
        if problem is None:
            done.delivered += 1
            self.store.log(row.ord_no, "webhook_delivered", {**detail, "httpStatus": status})
        elif values.get("status") == DEAD:
            done.dead += 1
            log.warning("webhook %s to %s is dead after %d attempts: %s", row.event_id, detail["receiver"],
                        attempts, problem)
            self.store.log(row.ord_no, "webhook_dead", {**detail, "error": problem[:300]})
        else:
            done.failed += 1
            log.info("webhook %s to %s failed (attempt %d): %s", row.event_id, detail["receiver"], attempts, problem)

    def _post(self, row) -> tuple[str | None, int | None]:
        body = row.payload.encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   SIGNATURE_HEADER: sign(body, self.secret), "Webview-Event-Id": row.event_id}
        try:
            response = self.session.post(row.url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except requests.RequestException as exc:
            # Refused, timed out, reset: say which, without the receiver's URL (it may carry a token).
            return f"{type(exc).__name__}", None
        response.close()
        if 200 <= response.status_code < 300:
            return None, response.status_code
        return f"HTTP {response.status_code}", response.status_code

    def run(self, stop: threading.Event, idle: float = 1.0) -> None:
        """Deliver until `stop` is set, waiting `idle` seconds whenever nothing is due."""
        while not stop.is_set():
            try:
                done = self.deliver_due()
            except SQLAlchemyError as exc:
                # The database is away for a moment: the rows stay, the next pass tries again.
                log.warning("webhook worker: database error, retrying: %s", type(exc).__name__)
                done = Pass()
            if not done.attempted:
                stop.wait(idle)


def retry_dead(store: OrderStore, event_id: str, now: datetime | None = None) -> int:
    """Queue an event's dead deliveries again, with a fresh retry window; how many."""
    now = _utc(now or datetime.now(timezone.utc))
    with writing(store.engine) as conn:
        return conn.execute(update(outbox).where(outbox.c.event_id == event_id, outbox.c.status == DEAD).values(
            status=PENDING, next_attempt_at=now, give_up_at=now + RETRY_FOR, lease_until=None,
            leased_by=None)).rowcount


def listing(store: OrderStore, *, dead_only: bool = False, limit: int = 50) -> list:
    """Outbox rows, newest first (only the dead ones with `dead_only`)."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if dead_only:
        query = query.where(outbox.c.status == DEAD)
    with store.reads.connect() as conn:
        return conn.execute(query).all()


def start_thread(deliverer: Deliverer, idle: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """Run the deliverer in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=deliverer.run, args=(stop, idle), name="webhook-delivery", daemon=True)
    thread.start()
    return thread, stop
