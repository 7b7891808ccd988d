"""The engine for a database URL: SQLite in WAL with real transactions, PostgreSQL pooled and pinged after idling."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import Pool, QueuePool

# Seconds a pooled connection may sit idle before its next use pings the server first.
PING_AFTER = 10.0


def make_engine(url: str, poolclass: type[Pool] | None = None) -> Engine:
    """The engine the store uses for `url` (SQLite in WAL with a busy timeout; pooled elsewhere).

    `poolclass` replaces SQLAlchemy's choice for the URL (NullPool behind PgBouncer, StaticPool
    for one in-memory SQLite database shared by threads).
    """
    chosen = {"poolclass": poolclass} if poolclass is not None else {}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **chosen)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _WRITERS[engine] = threading.RLock()
        return engine
    sized = {"pool_size": 10, "max_overflow": 20} if poolclass is None or issubclass(poolclass, QueuePool) else {}
    engine = create_engine(url, **sized, **chosen)
    ping_when_idle(engine, PING_AFTER)
    return engine


def ping_when_idle(engine: Engine, after: float) -> None:
    """Ping a pooled connection before use only if it sat idle `after` seconds; replace it if the server is gone.

    SQLAlchemy's pool_pre_ping pings on every checkout: a round trip before each of a checkout's
    ten database calls (bench/profile_service.py). A connection used a moment ago is alive; one
    idle long enough to have met a restart or an idle timeout is checked first. A server lost
    meanwhile fails the request that meets it, and SQLAlchemy then replaces the whole pool.
    """
    def stamp(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    def check(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc  # the pool opens a fresh connection
            raise

    event.listen(engine.pool, "checkin", stamp)
    event.listen(engine.pool, "checkout", check)


# How long a write waits for another writer's transaction to end (SQLite has one writer at a time).
SQLITE_WRITE_WAIT = 30.0
# The pauses between tries while it waits: short, as writers hold the lock for about a millisecond.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0002, 0.004


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver's own transaction handling skips BEGIN before DDL, so two workers creating the
    # schema saw each other's half-made tables: SQLAlchemy's documented recipe hands BEGIN to us.
    dbapi_connection.isolation_level = None
    # WAL lets readers run beside the one writer; concurrent returnUrl posts need it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(_sqlite_wait())
    cursor.close()


# This process's writers of each SQLite engine, one at a time (see writing()).
_WRITERS: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()


def _fresh_queues() -> None:
    # A child forked while a thread of the parent's held its place in a queue (gunicorn --preload
    # with the webhook thread running) would inherit that lock held, by a thread it does not have,
    # and every write of the child would wait SQLITE_WRITE_WAIT and fail.
    for engine in list(_WRITERS):
        _WRITERS[engine] = threading.RLock()


os.register_at_fork(after_in_child=_fresh_queues)


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction, as `engine.begin()`; on SQLite after this process's other writers, one at a time.

    SQLite takes one writer at a time anyway. Threads of one process that all began at once (a
    burst of returnUrl posts under gthread) each took a pooled connection, opening those past the
    pool's five and closing them again afterwards, and handed the GIL to one another around every
    SQLite call: measured by hand in one process, 30 transitions begun at once took 80 to 97 ms
    of CPU, queued here 22 to 45 ms (one after another, 16 to 24). The wait here is up to
    SQLITE_WRITE_WAIT, as the wait for another process's writer is after it. Every write of the
    package comes here: a transaction begun anywhere else would skip the queue (a test reads
    the package's source for any).
    """
    # PostgreSQL locks rows, not the database: queued, its writers were slower (83-95 checkouts/s
    # against 93-123 in the same runs). An engine not made here has no queue either.
    lock = _WRITERS.get(engine)
    if lock is not None and not lock.acquire(timeout=SQLITE_WRITE_WAIT):
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), sqlite3.OperationalError(
            f"database is locked: this process's other writers held it {SQLITE_WRITE_WAIT:g} s"), sqlite3.Error)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        if lock is not None:
            lock.release()


def single_reads(engine: Engine) -> Engine:
    """The engine for reads of one statement each: no BEGIN on SQLite, autocommit on PostgreSQL.

    One SELECT is atomic on its own (SQLite gives it a read transaction of its own), so a BEGIN
    and the pool's ROLLBACK after it would be two statements for nothing.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="none")
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def snapshot_reads(engine: Engine) -> Engine:
    """The engine for reads of several statements that must see one state of the database.

    They take no write lock: on SQLite a deferred BEGIN, whose snapshot (WAL) starts at its first
    read and never keeps the writer waiting; on PostgreSQL a REPEATABLE READ, READ ONLY transaction,
    whose statements all see the snapshot of its first (READ COMMITTED gives each its own).
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="deferred")
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def _sqlite_begin(connection) -> None:
    # The store's transactions all write, so they begin IMMEDIATE; the engines above ask for less.
    begin = connection.get_execution_options().get("sqlite_begin", "immediate")
    if begin == "none":
        return
    if begin == "deferred":
        connection.connection.driver_connection.execute("BEGIN")
        return
    try:
        begin_immediate(connection.connection.driver_connection)
    except sqlite3.Error as exc:
        # As SQLAlchemy raises the driver's errors everywhere else (OperationalError and kin).
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from None


def begin_immediate(driver, wait: float | None = None) -> None:
    """BEGIN IMMEDIATE on a sqlite3 connection: take the write lock now, waiting for another writer in short steps.

    Every write transaction takes the lock at its start: a deferred BEGIN that read first could
    not upgrade once another writer committed in between (SQLITE_BUSY_SNAPSHOT, no waiting), and
    the store's transactions all write. SQLite's own busy handler waits 1, 2, 5, 10 … 100 ms
    between tries; under four workers' concurrent checkouts that was most of the p99 of a
    checkout (bench/bench_service.py), for locks held about a millisecond. Here the handler is off
    for the BEGIN alone and the tries come every 0.2 to 4 ms, for up to SQLITE_WRITE_WAIT seconds.
    """
    wait = SQLITE_WRITE_WAIT if wait is None else wait
    deadline = time.monotonic() + wait
    pause = _FIRST_PAUSE
    driver.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if driver.in_transaction or "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
    finally:
        driver.execute(_sqlite_wait())


def _sqlite_wait() -> str:
    """The PRAGMA that gives every statement SQLite's own wait for the lock, SQLITE_WRITE_WAIT long."""
    return f"PRAGMA busy_timeout={int(SQLITE_WRITE_WAIT * 1000)}"
