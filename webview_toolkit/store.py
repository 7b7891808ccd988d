"""Order persistence on any SQLAlchemy URL (SQLite by default, PostgreSQL for several workers).

State changes are conditional UPDATEs (`... WHERE status IN (...)`): the database,
not a process lock, decides which request may approve or cancel an order.
"""
from __future__ import annotations

import json
import os
import secrets
import weakref
from collections import deque
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import (
    and_, bindparam, func, or_,
    BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
    create_engine, event, insert, select, update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

STATUSES = (
    "created", "authenticated", "approving", "paid", "failed",
    "unknown",  # the approval was sent but its outcome is not known: resolve by inquiry
    "cancelling", "partially_cancelled", "cancelled",
)

metadata = MetaData()

orders = Table(
    "orders", metadata,
    Column("ord_no", String(40), primary_key=True),
    Column("status", String(24), nullable=False, index=True),
    Column("goods_nm", String(200), nullable=False),
    # Amounts: the guide allows 15 digits, beyond a 32-bit INTEGER (PostgreSQL refuses past 2,147,483,647).
    Column("goods_amt", BigInteger, nullable=False),
    Column("ord_nm", String(60), nullable=False),
    Column("ord_tel", String(20), nullable=False),
    Column("ord_email", String(120)),
    Column("pay_method", String(10)),
    Column("mbs_usr_id", String(40)),
    Column("user_ip", String(40)),
    Column("tid", String(30)),
    Column("result_cd", String(8)),
    Column("result_msg", String(200)),
    Column("pay_method_result", String(10)),
    Column("app_no", String(20)),
    Column("app_dtm", String(14)),
    Column("card_code", String(4)),
    Column("fn_nm", String(40)),
    Column("easy_pay_cd", String(4)),
    Column("cancelled_amt", BigInteger, nullable=False, default=0),
    Column("status_before_cancel", String(24)),
    Column("pending_cancel_amt", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The shop's own order id (unique: one shop per service) and its JSON metadata, echoed back.
    Column("merchant_order_id", String(64)),
    Column("merchant_metadata", Text),
    # GET /api/orders walks newest first by (created_at, ord_no).
    UniqueConstraint("merchant_order_id", name="uq_orders_merchant_order_id"),
    Index("ix_orders_created_at_ord_no", "created_at", "ord_no"),
)

events = Table(
    "order_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ord_no", String(40), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("detail", Text, nullable=False),
)


@dataclass(frozen=True, slots=True)
class CheckoutOrder:
    """The columns the checkout page reads on every view: what the auth form and the summary show."""

    ord_no: str
    status: str
    goods_nm: str
    goods_amt: int
    ord_nm: str
    ord_tel: str
    ord_email: str | None
    pay_method: str | None
    mbs_usr_id: str | None
    user_ip: str | None


@dataclass(frozen=True, slots=True)
class Order(CheckoutOrder):
    """One order as stored: the checkout columns, then what the payment made of it."""

    tid: str | None
    result_cd: str | None
    result_msg: str | None
    pay_method_result: str | None
    app_no: str | None
    app_dtm: str | None
    card_code: str | None
    fn_nm: str | None
    easy_pay_cd: str | None
    cancelled_amt: int
    status_before_cancel: str | None
    pending_cancel_amt: int | None
    created_at: datetime
    updated_at: datetime
    merchant_order_id: str | None = None
    merchant_metadata: str | None = None  # JSON text of an object

    @property
    def remaining_amt(self) -> int:
        """What is still charged: the amount less everything cancelled."""
        return self.goods_amt - self.cancelled_amt

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `GET /api/orders/<ordNo>`."""
        return {
            "ordNo": self.ord_no, "status": self.status, "goodsNm": self.goods_nm,
            "goodsAmt": self.goods_amt, "cancelledAmt": self.cancelled_amt,
            "remainingAmt": self.remaining_amt, "payMethod": self.pay_method_result or self.pay_method,
            "tid": self.tid, "resultCd": self.result_cd, "resultMsg": self.result_msg,
            "appNo": self.app_no, "appDtm": self.app_dtm, "cardCode": self.card_code, "fnNm": self.fn_nm,
            "easyPayCd": self.easy_pay_cd,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
            "merchantOrderId": self.merchant_order_id,
            "metadata": json.loads(self.merchant_metadata) if self.merchant_metadata else {},
        }


ORDER_COLUMNS = tuple(f.name for f in fields(Order))
GET_ORDER = select(*(orders.c[name] for name in ORDER_COLUMNS)).where(orders.c.ord_no == bindparam("ord_no"))
GET_CHECKOUT_ORDER = select(*(orders.c[f.name] for f in fields(CheckoutOrder))).where(
    orders.c.ord_no == bindparam("ord_no"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime) -> datetime:
    """The moment with its UTC offset (SQLite hands back naive datetimes; they were stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, whatever the database handed back."""
    return aware(moment).isoformat()


def make_engine(url: str) -> Engine:
    """The engine the store uses for `url` (SQLite in WAL with a busy timeout; pooled elsewhere)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def new_ord_no() -> str:
    """A unique order number: UTC time and 64 random bits (30 bytes, under KISPG's 40)."""
    return _now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)


class OrderStore:
    """Orders and their event log in one database."""

    def __init__(self, url: str, *, webhook_urls: Iterable[str] = ()):
        self.url = url
        self.webhook_urls = tuple(webhook_urls)  # each change the shop is told of is queued for each
        self.engine: Engine = make_engine(url)
        self._prepare_schema()
        self._checkout_read = _DriverRead(GET_CHECKOUT_ORDER, self.engine, keep=self.engine.pool.size())
        _STORES.add(self)

    def _prepare_schema(self, attempts: int = 5) -> None:
        """Create an empty database at the newest schema; refuse one at another revision (SchemaError)."""
        from . import migrations
        # Workers booting together on a fresh database race to create the tables: the loser
        # gets "already exists" and would fail to boot. A retry finds the winner's schema.
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    if migrations.is_empty(conn):
                        metadata.create_all(conn)
                        migrations.stamp_head(conn)
                        return
                    revision = migrations.current(conn)
                break
            except DBAPIError:
                if attempt == attempts - 1:
                    raise
        if revision != migrations.head():
            raise migrations.SchemaError(migrations.behind_message(safe_url(self.url), revision))

    def create(self, **values: Any) -> Order:
        """Insert a new order in `created`."""
        with self.engine.begin() as conn:
            ord_no = self.insert_order(conn, **values)
        return self.get(ord_no)

    def insert_order(self, conn: Connection, **values: Any) -> str:
        """Insert a new order in `created` on the caller's transaction; its ordNo."""
        now = _now()
        row = {"status": "created", "cancelled_amt": 0, "created_at": now, "updated_at": now, **values}
        conn.execute(insert(orders).values(**row))
        conn.execute(insert(events).values(ord_no=row["ord_no"], at=now, kind="created", detail="{}"))
        return row["ord_no"]

    def get_by_merchant_order_id(self, merchant_order_id: str) -> Order | None:
        """The order the shop created with this merchantOrderId, or None."""
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
            return [Order(*row) for row in conn.execute(query)]

    def get(self, ord_no: str) -> Order | None:
        """The order, or None."""
        if "\x00" in ord_no:
            return None  # no stored ordNo has one, and PostgreSQL refuses NUL in any text parameter
        with self.engine.connect() as conn:
            row = conn.execute(GET_ORDER, {"ord_no": ord_no}).first()
        return Order(*row) if row else None

    def checkout_order(self, ord_no: str) -> CheckoutOrder | None:
        """The order's checkout columns, or None: `get` without SQLAlchemy's per-call layers, for the hot page."""
        if "\x00" in ord_no:
            return None
        row = self._checkout_read.first(ord_no=ord_no)
        return CheckoutOrder(*row) if row else None

    def transition(self, ord_no: str, from_statuses: Iterable[str], to_status: str, *,
                   event_kind: str, detail: dict | None = None, require_tid: str | None = None,
                   **values: Any) -> bool:
        """Move the order to `to_status` only if it is in one of `from_statuses` (and has
        `require_tid`, when given); True if this call made the change."""
        now = _now()
        sources = tuple(from_statuses)
        conditions = [orders.c.ord_no == ord_no, orders.c.status.in_(sources)]
        if require_tid is not None:
            conditions.append(orders.c.tid == require_tid)
        with self.engine.begin() as conn:
            result = conn.execute(update(orders).where(*conditions).values(status=to_status, updated_at=now, **values))
            if result.rowcount != 1:
                return False
            conn.execute(insert(events).values(
                ord_no=ord_no, at=now, kind=event_kind,
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            ))
            self._enqueue_webhook(conn, ord_no, to_status, now, out_of_cancelling=sources == ("cancelling",))
        return True

    def _enqueue_webhook(self, conn: Connection, ord_no: str, status: str, at: datetime, *,
                         out_of_cancelling: bool = False) -> None:
        """Queue the webhook event for this change on its own transaction (if the shop is told of it)."""
        if not self.webhook_urls or _outbox.event_type_for(status) is None:
            return
        row = conn.execute(GET_ORDER, {"ord_no": ord_no}).first()
        _outbox.enqueue_change(conn, ord_no, status, Order(*row).as_dict(), self.webhook_urls, at,
                               out_of_cancelling=out_of_cancelling)

    def log(self, ord_no: str, kind: str, detail: dict | None = None) -> None:
        """Append an event without changing the order."""
        with self.engine.begin() as conn:
            conn.execute(insert(events).values(
                ord_no=ord_no, at=_now(), kind=kind,
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            ))

    def events(self, ord_no: str) -> list[dict]:
        """The order's event log, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(events).where(events.c.ord_no == ord_no).order_by(events.c.id)).mappings()
            return [{"kind": r["kind"], "at": r["at"], "detail": json.loads(r["detail"])} for r in rows]

    def in_status(self, statuses: Iterable[str]) -> list[Order]:
        """Every order in these statuses, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(orders).where(orders.c.status.in_(tuple(statuses))).order_by(orders.c.created_at)
            ).mappings().all()
        return [Order(**{name: row[name] for name in ORDER_COLUMNS}) for row in rows]

    def count(self) -> int:
        """How many orders there are."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(orders)).scalar_one()

    def dispose(self) -> None:
        """Close pooled connections, and those the checkout read keeps."""
        self._checkout_read.close()
        self.engine.dispose()

    def _after_fork_in_child(self) -> None:
        # The parent's connections are its own: forget them unclosed, and open fresh ones here.
        self._checkout_read.forget()
        self.engine.dispose(close=False)


_STORES: "weakref.WeakSet[OrderStore]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for store in list(_STORES):
        store._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _DriverRead:
    """One SELECT compiled once for the engine's dialect, run on driver connections kept for it alone.

    The checkout page reads an order on every view; SQLAlchemy's per-execute layers (a Connection,
    the statement's cache key, the result object) and the pool's checkout and checkin measured as
    most of that read (bench/). This keeps its own idle connections instead: taken from the engine
    (so its connect events apply) and detached from the pool (so the pool's limits still hold for
    everything else), in autocommit so none sits idle in a transaction, closed after any driver
    error, with one retry when the error was a lost connection. The dialect's paramstyle and the
    columns' result processors are honoured, so any URL the store accepts works.
    """

    def __init__(self, statement, engine: Engine, keep: int):
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.engine, self.keep = engine, keep
        self.sql = compiled.string
        self.positional = compiled.positiontup if compiled.positional else None
        self.processors = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                                for column in statement.selected_columns)
        self.idle: deque = deque()  # append and pop are atomic: no lock between threads

    def first(self, **params: Any) -> tuple | None:
        """The first row for these bind values, or None."""
        args = tuple(params[name] for name in self.positional) if self.positional is not None else params
        dialect = self.engine.dialect
        for attempt in (1, 2):
            connection = self._take()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(self.sql, args)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            except dialect.loaded_dbapi.Error as exc:
                lost = dialect.is_disconnect(exc, connection.dbapi_connection, None)
                connection.close()
                if not lost or attempt == 2:
                    raise
                self.close()  # the server went away: the idle ones are gone too
                continue
            self._give_back(connection)
            if row is None or not any(self.processors):
                return row
            return tuple(value if process is None else process(value)
                         for process, value in zip(self.processors, row))

    def _take(self):
        try:
            return self.idle.pop()
        except IndexError:
            connection = self.engine.raw_connection()
            connection.detach()
            self.engine.dialect.set_isolation_level(connection.dbapi_connection, "AUTOCOMMIT")
            return connection

    def _give_back(self, connection) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close the idle connections (one in use meanwhile is kept when given back)."""
        while True:
            try:
                connection = self.idle.pop()
            except IndexError:
                return
            connection.close()

    def forget(self) -> None:
        """In a forked child: drop the parent's connections without closing them (that would end its sessions)."""
        self.idle = deque()


# These modules' tables belong to `metadata` too (created with it, compared with the migrations).
from . import idempotency as _idempotency  # noqa: E402,F401
from .webhooks import outbox as _outbox  # noqa: E402


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the one writer; concurrent returnUrl posts need it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
