"""Order persistence on any SQLAlchemy URL (SQLite by default, PostgreSQL for several workers).

State changes are conditional UPDATEs (`... WHERE status IN (...)`): the database,
not a process lock, decides which request may approve or cancel an order. The tables are in
tables.py, the rows it hands out in records.py, the engine for a URL in engines.py.
"""
from __future__ import annotations

import functools
import json
import os
import secrets
import weakref
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import Pool

from .compiled_read import CompiledRead
from .database import shown_url
from .engines import make_engine, single_reads, writing
from .lifecycle import OrderStatus, S, sources
from .logs import log_order_event
from .records import OUTCOME_FOR, Attempt, AttemptOutcome, Change, CheckoutOrder, Order, attempt_ord_no
from .tables import attempts, events, metadata, orders
from .webhooks import outbox

class StoreError(Exception):
    """A change the database refused."""


class TidInUse(StoreError):
    """The tid is already bound to another attempt (of this order or another)."""


class UndeclaredTransition(StoreError, ValueError):
    """A change that lifecycle.TRANSITIONS does not declare: a bug in the caller."""


ORDER_COLUMNS = tuple(f.name for f in fields(Order))
ATTEMPT_COLUMNS = tuple(f.name for f in fields(Attempt))
ORDER_RETURNING = tuple(orders.c[name] for name in ORDER_COLUMNS)
GET_ORDER = select(*ORDER_RETURNING).where(orders.c.ord_no == bindparam("ord_no"))
# The hot path's statements, built once: building one, and its cache key, cost more than running it (bench/).
INSERT_ORDER = insert(orders).returning(*ORDER_RETURNING)
INSERT_ATTEMPT = insert(attempts)
INSERT_EVENT = insert(events)
GET_ATTEMPT = select(*(attempts.c[n] for n in ATTEMPT_COLUMNS)).where(attempts.c.kispg_ord_no == bindparam("kispg_ord_no"))
GET_TID_OWNER = select(attempts.c.ord_no).where(attempts.c.tid == bindparam("tid"))
GET_ATTEMPT_AND_ORDER = (
    select(*(attempts.c[name] for name in ATTEMPT_COLUMNS), *ORDER_RETURNING)
    .join_from(attempts, orders, attempts.c.ord_no == orders.c.ord_no)
    .where(attempts.c.kispg_ord_no == bindparam("kispg_ord_no"))
)
# The checkout page's read: CheckoutOrder's columns, the token from the current attempt's row.
GET_CHECKOUT_ORDER = (
    select(*(orders.c[f.name] for f in fields(CheckoutOrder) if f.name != "token"), attempts.c.token)
    .join(attempts, (attempts.c.ord_no == orders.c.ord_no) & (attempts.c.n == orders.c.attempt_no))
    .where(orders.c.ord_no == bindparam("ord_no"))
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_token() -> str:
    """An unguessable per-checkout token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def new_ord_no() -> str:
    """A unique order number: UTC time and 64 random bits (30 bytes, under KISPG's 40)."""
    return _now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)


class OrderStore:
    """Orders and their event log in one database."""

    def __init__(self, url: str, *, webhook_urls: Iterable[str] = (), poolclass: type[Pool] | None = None):
        self.url = url
        self.webhook_urls = tuple(webhook_urls)  # each change the shop is told of is queued for each
        self.engine: Engine = make_engine(url, poolclass)
        # Reads are single statements: in autocommit they need no BEGIN and no ROLLBACK round trip.
        self.reads: Engine = single_reads(self.engine)
        self._statements: dict[tuple, Any] = {}  # transitions' statements by shape (_order_update)
        # A child forked with this store (gunicorn --preload) must not share the parent's pooled
        # connections: it forgets them unclosed (closing would end the parent's sessions) and opens
        # its own. Registered per store, holding it weakly: a store gone leaves a no-op behind.
        os.register_at_fork(after_in_child=functools.partial(_forget_parent_connections, weakref.ref(self)))
        self._prepare_schema()
        # SQLite's connections are in the driver's autocommit mode already (_sqlite_pragmas).
        self._checkout_read = CompiledRead(GET_CHECKOUT_ORDER, self.engine,
                                           driver_autocommits=self.engine.dialect.name == "sqlite")

    def _prepare_schema(self, tries: int = 5) -> None:
        """Create an empty database at the newest schema; refuse one at another revision (SchemaError)."""
        from . import device_reports, migrations  # noqa: F401  (device_reports adds its tables to `metadata`)
        # Workers booting together on a fresh database race to create the tables: the loser
        # gets "already exists" and would fail to boot. A retry finds the winner's schema.
        for attempt in range(tries):
            try:
                # On SQLite the check and the creation hold the write lock from the start, as every
                # write transaction does (engines.begin_immediate): a second worker waits for the first.
                with writing(self.engine) as conn:
                    if migrations.is_empty(conn):
                        metadata.create_all(conn)
                        migrations.stamp_head(conn)
                        return
                    revision = migrations.current(conn)
                break
            except DBAPIError:
                if attempt == tries - 1:
                    raise
        if revision != migrations.head():
            raise migrations.SchemaError(migrations.behind_message(shown_url(self.url), revision))

    def create(self, **values: Any) -> Order:
        """Insert a new order in `created`, with its first attempt."""
        with writing(self.engine) as conn:
            return self.insert_order(conn, **values)

    def insert_order(self, conn: Connection, **values: Any) -> Order:
        """Insert a new order in `created`, with its first attempt, on the caller's transaction."""
        now = _now()
        row = {"status": S.CREATED, "cancelled_amt": 0, "created_at": now, "updated_at": now, "attempt_no": 1,
               **values}
        created = conn.execute(INSERT_ORDER, row).one()
        self._insert_attempt(conn, row["ord_no"], 1, now)
        self._write_event(conn, row["ord_no"], "created", {}, now, tid="")
        return Order(*created)

    def get_by_merchant_order_id(self, merchant_order_id: str) -> Order | None:
        """The order the shop created with this merchantOrderId, or None."""
        with self.reads.connect() as conn:
            row = conn.execute(select(*(orders.c[name] for name in ORDER_COLUMNS))
                               .where(orders.c.merchant_order_id == merchant_order_id)).first()
        return Order(*row) if row else None

    def page(self, *, limit: int, after: tuple[datetime, str] | None = None, status: Iterable[str] = (),
             created_from: datetime | None = None, created_to: datetime | None = None,
             merchant_order_id: str | None = None) -> list[Order]:
        """Up to `limit` orders newest first, after the (created_at, ordNo) key of the last one seen.

        A keyset, not an offset: orders created meanwhile are newer than any key, so pages never shift.
        """
        query = select(*(orders.c[name] for name in ORDER_COLUMNS))
        if status:
            query = query.where(orders.c.status.in_(tuple(status)))
        if created_from is not None:
            query = query.where(orders.c.created_at >= created_from)
        if created_to is not None:
            query = query.where(orders.c.created_at < created_to)
        if merchant_order_id is not None:
            query = query.where(orders.c.merchant_order_id == merchant_order_id)
        if after is not None:
            created_at, ord_no = after
            query = query.where(or_(orders.c.created_at < created_at,
                                    and_(orders.c.created_at == created_at, orders.c.ord_no < ord_no)))
        query = query.order_by(orders.c.created_at.desc(), orders.c.ord_no.desc()).limit(limit)
        with self.reads.connect() as conn:
            return [Order(*row) for row in conn.execute(query)]

    def get(self, ord_no: str) -> Order | None:
        """The order, or None."""
        if "\x00" in ord_no:
            return None  # no stored ordNo has one, and PostgreSQL refuses NUL in any text parameter
        with self.reads.connect() as conn:
            row = conn.execute(GET_ORDER, {"ord_no": ord_no}).first()
        return Order(*row) if row else None

    def checkout_order(self, ord_no: str) -> CheckoutOrder | None:
        """The order's checkout columns, or None: one compiled read on a driver cursor, for the hot page."""
        if "\x00" in ord_no:
            return None  # as in `get`
        row = self._checkout_read.first(ord_no=ord_no)
        return CheckoutOrder(*row) if row else None

    def attempt(self, kispg_ord_no: str) -> Attempt | None:
        """The attempt KISPG knows by this ordNo, or None."""
        if "\x00" in kispg_ord_no:
            return None
        with self.reads.connect() as conn:
            row = conn.execute(GET_ATTEMPT, {"kispg_ord_no": kispg_ord_no}).first()
        return Attempt(*row) if row else None

    def attempt_and_order(self, kispg_ord_no: str) -> tuple[Attempt, Order] | None:
        """The attempt KISPG knows by this ordNo and its order, in one read; or None."""
        if "\x00" in kispg_ord_no:
            return None
        with self.reads.connect() as conn:
            row = conn.execute(GET_ATTEMPT_AND_ORDER, {"kispg_ord_no": kispg_ord_no}).first()
        return (Attempt(*row[:len(ATTEMPT_COLUMNS)]), Order(*row[len(ATTEMPT_COLUMNS):])) if row else None

    def attempts(self, ord_no: str) -> list[Attempt]:
        """The order's attempts, first first."""
        with self.reads.connect() as conn:
            rows = conn.execute(select(*(attempts.c[n] for n in ATTEMPT_COLUMNS))
                                .where(attempts.c.ord_no == ord_no).order_by(attempts.c.n)).all()
        return [Attempt(*row) for row in rows]

    def tid_owner(self, tid: str) -> str | None:
        """The ordNo of the order one of whose attempts holds this tid, or None."""
        with self.reads.connect() as conn:
            return conn.execute(GET_TID_OWNER, {"tid": tid}).scalar()

    def transition(self, ord_no: str, to: OrderStatus, event: str, *, detail: dict | None = None,
                   only_from: Iterable[OrderStatus] | None = None, expect_tid: str | None = None,
                   attempt: int | None = None, bind_tid: str | None = None, new_attempt: bool = False,
                   **values: Any) -> Order | None:
        """Apply one change declared in lifecycle.TRANSITIONS, with its event, in one transaction.

        The order moves only if it is in one of the change's source states (narrowed by
        `only_from`), holds `expect_tid` and is at attempt `attempt` when those are given.
        `bind_tid` records the tid on the order and its current attempt (TidInUse if any other
        attempt holds it); `new_attempt` opens the next attempt. Returns the order after the
        change, or None when it was not in a state to make it (another request won the claim).
        """
        return self.transitions(ord_no, Change(to, event, detail=detail, only_from=only_from, expect_tid=expect_tid,
                                               attempt=attempt, bind_tid=bind_tid, new_attempt=new_attempt,
                                               values=values))[0]

    def transitions(self, ord_no: str, *changes: Change) -> list[Order | None]:
        """Apply changes one after the other in one transaction (one commit), each as `transition` would.

        Each is tried whatever became of the one before; the answer is each one's order after it,
        or None where the order was not in a state to make it. TidInUse undoes them all.
        """
        allowed = []
        for change in changes:
            sources_of = sources(change.to, change.event)
            if not sources_of:
                raise UndeclaredTransition(f"no transition to {change.to} on {change.event!r} is declared")
            if change.only_from is not None:
                sources_of = tuple(state for state in sources_of if state in tuple(change.only_from))
            allowed.append(tuple(sources_of))
        now = _now()
        try:
            with writing(self.engine) as conn:
                return [self._apply(conn, ord_no, change, sources_of, now) for change, sources_of in zip(changes, allowed)]
        except IntegrityError:
            bound = next((change.bind_tid for change in changes if change.bind_tid is not None), None)
            if bound is None:
                raise
            raise TidInUse(f"tid {bound} is already bound to another attempt") from None

    def _apply(self, conn: Connection, ord_no: str, change: Change, allowed: tuple, now: datetime) -> Order | None:
        """One change on the caller's transaction: the order's UPDATE, its attempt's, the event and the outbox row."""
        values = change.values
        changes = {"status": change.to, "updated_at": now, **values}
        if change.bind_tid is not None:
            changes["tid"] = change.bind_tid
        statement = self._order_update(allowed, change.expect_tid is not None, change.attempt is not None,
                                       tuple(changes), change.new_attempt)
        params = {"w_ord_no": ord_no, "w_tid": change.expect_tid, "w_attempt": change.attempt,
                  **{f"v_{name}": value for name, value in changes.items()}}
        row = conn.execute(statement, params).first()
        if row is None:
            return None
        order = Order(*row)
        n = order.attempt_no - 1 if change.new_attempt else order.attempt_no
        outcome = {"outcome": OUTCOME_FOR[change.to]} if change.to in OUTCOME_FOR else {}
        if change.bind_tid is not None or outcome or "result_cd" in values:
            attempt_changes = {**outcome, "updated_at": now}
            if change.bind_tid is not None:
                attempt_changes["tid"] = change.bind_tid
            if "result_cd" in values:
                attempt_changes["result_cd"] = values["result_cd"]
            conn.execute(self._attempt_update(tuple(attempt_changes)),
                         {"w_ord_no": ord_no, "w_n": n,
                          **{f"v_{name}": value for name, value in attempt_changes.items()}})
        if change.new_attempt:
            self._insert_attempt(conn, ord_no, order.attempt_no, now)
        self._write_event(conn, ord_no, change.event, change.detail, now, tid=order.tid or "")
        # A change back out of `cancelling` with nothing new cancelled is no news to the shop.
        self._enqueue_webhook(conn, order, now, out_of_cancelling=allowed == (S.CANCELLING,))
        return order

    def _order_update(self, allowed: tuple, by_tid: bool, by_attempt: bool, columns: tuple[str, ...],
                      new_attempt: bool):
        """A transition's UPDATE … RETURNING of this shape, built once per store; values are bound at execute."""
        key = ("orders", allowed, by_tid, by_attempt, columns, new_attempt)
        statement = self._statements.get(key)
        if statement is None:
            # The source states as one bound parameter each, fixed in this cached statement: in_()
            # of plain values is an "expanding" parameter, re-rendered into the SQL on every execution.
            sources_in = orders.c.status.in_([bindparam(f"w_from_{i}", state, type_=orders.c.status.type)
                                             for i, state in enumerate(allowed)])
            conditions = [orders.c.ord_no == bindparam("w_ord_no"), sources_in]
            if by_tid:
                conditions.append(orders.c.tid == bindparam("w_tid"))
            if by_attempt:
                conditions.append(orders.c.attempt_no == bindparam("w_attempt"))
            changes = {name: bindparam(f"v_{name}") for name in columns}
            if new_attempt:
                changes["attempt_no"] = orders.c.attempt_no + 1
            statement = update(orders).where(*conditions).values(**changes).returning(*ORDER_RETURNING)
            self._statements[key] = statement
        return statement

    def _attempt_update(self, columns: tuple[str, ...]):
        """The UPDATE of one attempt's columns (by ordNo and n), built once per store."""
        key = ("order_attempts", columns)
        statement = self._statements.get(key)
        if statement is None:
            statement = (update(attempts)
                         .where(attempts.c.ord_no == bindparam("w_ord_no"), attempts.c.n == bindparam("w_n"))
                         .values(**{name: bindparam(f"v_{name}") for name in columns}))
            self._statements[key] = statement
        return statement

    def claim_check(self, ord_no: str, interval: timedelta) -> bool:
        """Reserve the next inquiry for this order: True at most once per `interval`, whoever asks."""
        now = _now()
        with writing(self.engine) as conn:
            result = conn.execute(update(orders).where(
                orders.c.ord_no == ord_no,
                (orders.c.next_check_at.is_(None)) | (orders.c.next_check_at <= now),
            ).values(next_check_at=now + interval))
        return result.rowcount == 1

    def _enqueue_webhook(self, conn: Connection, order: Order, at: datetime, *,
                         out_of_cancelling: bool = False) -> None:
        """Queue the webhook event for this change on its own transaction (if the shop is told of it)."""
        if not self.webhook_urls or outbox.event_type_for(order.status) is None:
            return
        rows = conn.execute(select(*(attempts.c[n] for n in ATTEMPT_COLUMNS))
                            .where(attempts.c.ord_no == order.ord_no).order_by(attempts.c.n)).all()
        outbox.enqueue_change(conn, order.ord_no, order.status, order.as_dict([Attempt(*r) for r in rows]),
                               self.webhook_urls, at,
                               out_of_cancelling=out_of_cancelling)

    def log(self, ord_no: str, kind: str, detail: dict | None = None) -> None:
        """Append an event without changing the order."""
        with writing(self.engine) as conn:
            self._write_event(conn, ord_no, kind, detail, _now())

    def events(self, ord_no: str) -> list[dict]:
        """The order's event log, oldest first."""
        with self.reads.connect() as conn:
            rows = conn.execute(select(events).where(events.c.ord_no == ord_no).order_by(events.c.id)).mappings()
            return [{"kind": r["kind"], "at": r["at"], "detail": json.loads(r["detail"])} for r in rows]

    def due_for_check(self, statuses: Iterable[str], now: datetime, *, approving_before: datetime,
                      limit: int) -> list[Order]:
        """Up to `limit` orders in these statuses whose inquiry is due: never asked first, then the longest waiting.

        An `approving` order counts only once last updated before `approving_before` (until then a
        worker may still be waiting for KISPG's answer). Both reads are ranges of the (status,
        next_check_at) index: settled orders and orders asked about lately are never read.
        """
        candidates = (orders.c.status.in_(tuple(statuses)),
                      or_(orders.c.status != S.APPROVING, orders.c.updated_at <= approving_before))
        # Two ranges rather than `IS NULL OR <= now`, which the index serves by status alone. The
        # never-asked are taken in no order: asking moves each out of that range, so none is left
        # behind, and an ORDER BY created_at let PostgreSQL walk every order by that index instead.
        reads = ((orders.c.next_check_at.is_(None), ()),
                 (orders.c.next_check_at <= now, (orders.c.next_check_at, orders.c.created_at, orders.c.ord_no)))
        found: list[Order] = []
        with self.reads.connect() as conn:
            for due, order in reads:
                if len(found) < limit:
                    query = select(*ORDER_RETURNING).where(*candidates, due).order_by(*order).limit(limit - len(found))
                    found += [Order(*row) for row in conn.execute(query)]
        return found

    def in_status(self, statuses: Iterable[str]) -> list[Order]:
        """Every order in these statuses, oldest first."""
        with self.reads.connect() as conn:
            rows = conn.execute(
                select(*ORDER_RETURNING).where(orders.c.status.in_(tuple(statuses))).order_by(orders.c.created_at)
            ).all()
        return [Order(*row) for row in rows]

    @staticmethod
    def _write_event(conn, ord_no: str, kind: str, detail: dict | None, at: datetime,
                     tid: str | None = None) -> None:
        """The one place an event row is written (in the state change's own transaction), and logged."""
        conn.execute(INSERT_EVENT, {"ord_no": ord_no, "at": at, "kind": kind,
                                    "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)})
        if tid is None:
            # Most details do not carry the tid: read the order's in the same transaction.
            tid = (detail or {}).get("tid") or conn.execute(select(orders.c.tid).where(orders.c.ord_no == ord_no)).scalar()
        log_order_event(ord_no, kind, detail, tid=tid)

    @staticmethod
    def _insert_attempt(conn, ord_no: str, n: int, at: datetime) -> None:
        conn.execute(INSERT_ATTEMPT, {"ord_no": ord_no, "n": n, "kispg_ord_no": attempt_ord_no(ord_no, n),
                                      "token": new_token(), "outcome": AttemptOutcome.OPEN, "created_at": at,
                                      "updated_at": at})

    def ping(self) -> None:
        """Read one order key, or none: the database answers and holds the tables (DBAPIError otherwise)."""
        # Not count(): that reads every order, on each health check a load balancer makes.
        with self.reads.connect() as conn:
            conn.execute(select(orders.c.ord_no).limit(1)).first()

    def count(self) -> int:
        """How many orders there are."""
        with self.reads.connect() as conn:
            return conn.execute(select(func.count()).select_from(orders)).scalar_one()

    def dispose(self) -> None:
        """Close the pooled connections (the store opens new ones when used again)."""
        self.engine.dispose()


def _forget_parent_connections(store_ref: "weakref.ref[OrderStore]") -> None:
    store = store_ref()
    if store is not None:
        store.engine.dispose(close=False)


