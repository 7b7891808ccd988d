"""Tests for the order store: conditional transitions decide who may act."""
import ast
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dataclasses
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import AssertionPool, NullPool, QueuePool, SingletonThreadPool, StaticPool

from webview_toolkit import engines
from webview_toolkit.lifecycle import OrderStatus as S
from webview_toolkit.records import CheckoutOrder
from webview_toolkit.store import OrderStore, TidInUse, UndeclaredTransition, new_ord_no
from webview_toolkit.tables import orders

from .sqlite_helpers import another_writer_holding

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(tmp_path):
    store = OrderStore(f"sqlite:///{tmp_path / 'orders.sqlite3'}")
    yield store
    store.dispose()


def make(store):
    return store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=1000, ord_nm="홍길동", ord_tel="010")


def test_create_and_get(store):
    order = make(store)
    assert order.status == "created" and order.remaining_amt == 1000
    assert store.get(order.ord_no) == order
    assert store.get("missing") is None
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created"]


def test_transition_only_from_allowed_states(store):
    order = make(store)
    moved = store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert (moved.status, moved.tid) == ("authenticated", "T" * 30)  # the row as updated, no re-read
    assert store.transition(order.ord_no, S.FAILED, "auth_failed") is None  # not from authenticated
    assert store.transition(order.ord_no, S.APPROVING, "approval_claimed", expect_tid="X" * 30) is None
    assert store.transition(order.ord_no, S.APPROVING, "approval_claimed", expect_tid="T" * 30).status == "approving"
    assert store.get(order.ord_no).status == "approving"
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created", "authenticated", "approval_claimed"]


def test_an_undeclared_transition_is_a_bug_and_changes_nothing(store):
    order = make(store)
    with pytest.raises(UndeclaredTransition, match="paid"):
        store.transition(order.ord_no, S.PAID, "authenticated")
    assert store.get(order.ord_no) == order


def test_a_tid_belongs_to_one_attempt_forever(store):
    first, second = make(store), make(store)
    store.transition(first.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    with pytest.raises(TidInUse):
        store.transition(second.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert store.get(second.ord_no) == second  # the refused change left nothing behind
    assert [e["kind"] for e in store.events(second.ord_no)] == ["created"]
    assert store.tid_owner("T" * 30) == first.ord_no
    # The database itself refuses a second order with that tid, whatever the code does.
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.ord_no == second.ord_no).values(tid="T" * 30))


def test_a_failed_attempt_opens_the_next_under_its_own_kispg_ord_no(store):
    order = make(store)
    store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="A" * 30)
    store.transition(order.ord_no, S.APPROVING, "approval_claimed")
    failed = store.transition(order.ord_no, S.FAILED, "approval_declined", new_attempt=True, result_cd="3011")
    assert (failed.status, failed.attempt_no, failed.kispg_ord_no) == ("failed", 2, f"{order.ord_no}-2")
    first, second = store.attempts(order.ord_no)
    assert (first.outcome, first.tid, first.result_cd) == ("failed", "A" * 30, "3011")
    assert (second.n, second.kispg_ord_no, second.outcome, second.tid) == (2, f"{order.ord_no}-2", "open", None)
    assert first.token != second.token and len(second.token) >= 32
    assert store.attempt(f"{order.ord_no}-2") == second
    # The old tid cannot come back on the new attempt.
    with pytest.raises(TidInUse):
        store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", attempt=2, bind_tid="A" * 30)
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", attempt=1) is None  # not current


def test_one_inquiry_per_interval_whoever_asks(store):
    order = make(store)
    assert store.claim_check(order.ord_no, timedelta(minutes=5))
    assert not store.claim_check(order.ord_no, timedelta(minutes=5))
    with store.engine.begin() as conn:
        conn.execute(orders.update().values(next_check_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert store.claim_check(order.ord_no, timedelta(minutes=5))


def test_one_winner_among_concurrent_claims(store):
    order = make(store)
    barrier = threading.Barrier(16)

    def claim(_):
        barrier.wait()
        return store.transition(order.ord_no, S.UNKNOWN, "already_approved")

    with ThreadPoolExecutor(16) as pool:
        wins = list(pool.map(claim, range(16)))
    assert sum(win is not None for win in wins) == 1


def test_order_numbers_are_unique_and_fit_kispg():
    numbers = {new_ord_no() for _ in range(1000)}
    assert len(numbers) == 1000 and all(len(n) == 30 for n in numbers)


def test_in_status(store):
    first, second = make(store), make(store)
    store.transition(second.ord_no, S.UNKNOWN, "already_approved")
    assert [o.ord_no for o in store.in_status(("unknown",))] == [second.ord_no]
    assert store.count() == 2


@pytest.fixture
def any_store(database_url):
    """A store on SQLite and, in this module, on PostgreSQL too (conftest.POSTGRES_MODULES)."""
    store = OrderStore(database_url)
    yield store
    store.dispose()


def expected_checkout(store, ord_no: str) -> CheckoutOrder:
    """The checkout columns as `get` and `attempts` see them."""
    order, attempt = store.get(ord_no), store.attempts(ord_no)[-1]
    return CheckoutOrder(*(attempt.token if f.name == "token" else getattr(order, f.name)
                           for f in dataclasses.fields(CheckoutOrder)))


def test_checkout_order_is_the_checkout_columns_of_get(any_store):
    """The checkout page's driver-level read returns what `get` does, NULLs, Korean and 15-digit amounts included."""
    sparse = make(any_store)
    full = any_store.create(ord_no=new_ord_no(), goods_nm="무선 이어폰 \"<&>\"", goods_amt=999_999_999_999_999,
                            ord_nm="홍길동", ord_tel="01012345678", ord_email="a@b.kr", pay_method="CARD",
                            mbs_usr_id="user-1", user_ip="10.0.0.1")
    any_store.transition(full.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    for order in (sparse, full):
        got = any_store.checkout_order(order.ord_no)
        assert got == expected_checkout(any_store, order.ord_no)
        assert type(got.goods_amt) is int and type(got.goods_nm) is str
    assert any_store.checkout_order(full.ord_no).status == "authenticated"
    assert any_store.checkout_order("missing") is None
    assert any_store.checkout_order("bad\x00ordNo") is None


def test_the_checkout_read_converts_columns_as_sqlalchemy_does(any_store):
    """SQLite hands datetimes back as text: the read applies the dialect's result processing too."""
    order = make(any_store)
    assert type(any_store.checkout_order(order.ord_no).created_at) is datetime


@pytest.mark.parametrize("poolclass", [None, NullPool, StaticPool, AssertionPool, SingletonThreadPool, QueuePool],
                         ids=lambda pool: getattr(pool, "__name__", "default"))
def test_the_checkout_read_works_on_every_pool_class(database_url, poolclass):
    """Whatever pool the engine has, the read uses it: no private pool that assumes QueuePool's API."""
    store = OrderStore(database_url, poolclass=poolclass)
    try:
        order = make(store)
        assert store.checkout_order(order.ord_no) == expected_checkout(store, order.ord_no)
        store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
        assert store.checkout_order(order.ord_no).status == "authenticated"
        assert store.checkout_order("missing") is None
    finally:
        store.dispose()


@pytest.mark.parametrize("poolclass", [None, StaticPool], ids=["default", "StaticPool"])
def test_an_in_memory_database_serves_the_checkout_read(poolclass):
    """`sqlite://` (SingletonThreadPool, whose `size` is an int) once broke the store at birth."""
    store = OrderStore("sqlite://", poolclass=poolclass)
    order = make(store)
    assert store.checkout_order(order.ord_no) == expected_checkout(store, order.ord_no)
    store.dispose()


def write_and_fail(store, ord_no: str) -> None:
    """Change the order inside a transaction that then fails."""
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.ord_no == ord_no).values(goods_nm="바뀐 상품"))
        raise RuntimeError("the transaction fails after the write")


def test_the_checkout_read_gives_its_connection_back_transactional(any_store):
    """The read runs in autocommit; the connection it gives back must roll back a failed transaction again."""
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    assert any_store.engine.pool.checkedout() == 0
    write_and_fail(any_store, order.ord_no)
    assert any_store.get(order.ord_no).goods_nm == "상품"
    any_store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert any_store.checkout_order(order.ord_no).status == "authenticated"  # a write made since is seen


def other_sessions(url: str) -> set[int]:
    """PostgreSQL backends on this database other than the one asking (seen from a connection of its own)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(conn.exec_driver_sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND pid <> pg_backend_pid()").scalars())
    finally:
        engine.dispose()


def test_a_failed_read_raises_and_leaves_the_store_usable(any_store):
    order = make(any_store)
    with any_store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE order_attempts RENAME TO order_attempts_away")
    with pytest.raises(any_store.engine.dialect.loaded_dbapi.Error):
        any_store.checkout_order(order.ord_no)
    write_and_fail(any_store, order.ord_no)  # the failed read's connection did not come back in autocommit
    assert any_store.get(order.ord_no).goods_nm == "상품"
    with any_store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE order_attempts_away RENAME TO order_attempts")
    assert any_store.checkout_order(order.ord_no) == expected_checkout(any_store, order.ord_no)


def test_a_read_after_the_server_dropped_every_session_reconnects(pg_cluster):
    """PostgreSQL only: SQLite has no server to drop a session."""
    database_url = pg_cluster.create_database()
    store = OrderStore(database_url)
    order = make(store)
    store.checkout_order(order.ord_no)
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    engine.dispose()
    assert store.checkout_order(order.ord_no) == expected_checkout(store, order.ord_no)
    store.dispose()
    pg_cluster.drop_database(database_url)


def test_dispose_closes_connections_and_the_store_reopens_them(any_store):
    order = make(any_store)
    any_store.checkout_order(order.ord_no)
    any_store.dispose()
    if any_store.engine.dialect.name == "postgresql":
        assert other_sessions(any_store.url) == set()
    assert any_store.checkout_order(order.ord_no).ord_no == order.ord_no


def test_a_forked_child_reads_on_its_own_connections_and_leaves_the_parents_alone(any_store):
    """gunicorn --preload forks workers from a process that already has a store with pooled connections."""
    order = make(any_store)
    expected = expected_checkout(any_store, order.ord_no)
    any_store.checkout_order(order.ord_no)
    postgresql = any_store.engine.dialect.name == "postgresql"
    parents = other_sessions(any_store.url) if postgresql else set()
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        ok = any_store.checkout_order(order.ord_no) == expected
        if postgresql:
            ok = ok and other_sessions(any_store.url) > parents  # a session of its own
        any_store.dispose()  # closes the child's connections, never the parent's
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    if postgresql:
        assert parents and other_sessions(any_store.url) >= parents
    assert any_store.checkout_order(order.ord_no) == expected


def test_reads_are_single_statements_outside_a_transaction_and_changes_inside_one(any_store):
    """No BEGIN/ROLLBACK around a read (SQLite: none sent; PostgreSQL: autocommit), each change in its transaction."""
    store = any_store
    order = make(store)
    seen = []

    def in_transaction(driver) -> bool:
        # psycopg in autocommit runs each statement on its own; sqlite3 says whether BEGIN ran.
        return driver.in_transaction if store.engine.dialect.name == "sqlite" else not driver.autocommit

    event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(
        (statement.split()[0], in_transaction(cursor.connection))))
    store.get(order.ord_no)
    store.attempt_and_order(order.ord_no)
    store.tid_owner("T" * 30)
    assert seen == [("SELECT", False)] * 3
    seen.clear()
    store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    # Every statement of the change ran inside its transaction (on SQLite, BEGIN IMMEDIATE goes
    # to the driver itself, unseen by these events).
    assert seen[0][0] == "UPDATE" and ("INSERT", True) in seen and all(inside for _, inside in seen)
    seen.clear()
    assert store.get(order.ord_no).status == S.AUTHENTICATED  # committed, and seen by the next read
    assert seen == [("SELECT", False)], "the write's connection went back to the pool as it came"


def test_snapshot_reads_see_one_state_and_keep_no_writer_waiting(any_store):
    """Two reads in one snapshot transaction: a change committed between them is not seen, and does not wait."""
    store = any_store
    order = make(store)
    with engines.snapshot_reads(store.engine).connect() as conn:
        status = select(orders.c.status).where(orders.c.ord_no == order.ord_no)
        assert conn.execute(status).scalar() == S.CREATED
        started = time.monotonic()
        assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
        assert time.monotonic() - started < 1.0  # SQLite: no write lock held by the reader
        assert conn.execute(status).scalar() == S.CREATED  # the snapshot of the first read
        # It cannot write (PostgreSQL: READ ONLY; SQLite: not from a snapshot older than a commit).
        with pytest.raises(DBAPIError):
            conn.execute(orders.update().where(orders.c.ord_no == order.ord_no).values(goods_nm="x"))
    assert store.get(order.ord_no).status == S.AUTHENTICATED
    assert store.get(order.ord_no).goods_nm == order.goods_nm
    for name in ("a", "b", "c"):  # the pool's connections, the reader's among them, write again
        with store.engine.begin() as conn:
            conn.execute(orders.update().where(orders.c.ord_no == order.ord_no).values(goods_nm=name))
    assert store.get(order.ord_no).goods_nm == "c"


def test_a_sqlite_write_takes_the_lock_at_begin_and_waits_for_another_writer(store):
    order = make(store)
    held = store.engine.raw_connection()  # another writer holds the lock ...
    other = held.driver_connection
    engines.begin_immediate(other)
    released = threading.Timer(0.3, other.commit)
    released.start()
    started = time.monotonic()
    # ... and this change waits for it, then goes through.
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert time.monotonic() - started >= 0.25
    released.join()
    held.close()
    with store.engine.connect() as conn:
        # SQLite's own wait is back for every other statement.
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == engines.SQLITE_WRITE_WAIT * 1000
    assert store.get(order.ord_no).status == S.AUTHENTICATED


def test_writers_of_one_process_queue_on_sqlite_and_not_on_postgresql(any_store):
    """On SQLite a second writer of this process waits before taking a connection; on PostgreSQL it goes ahead."""
    store = any_store
    first, second = make(store), make(store)
    holding, done = threading.Event(), threading.Event()
    entered = threading.Event()

    def first_writer():
        with engines.writing(store.engine) as conn:
            conn.execute(orders.update().where(orders.c.ord_no == first.ord_no).values(goods_nm="first"))
            holding.set()
            done.wait(5)

    def second_writer():
        with engines.writing(store.engine) as conn:
            entered.set()
            conn.execute(orders.update().where(orders.c.ord_no == second.ord_no).values(goods_nm="second"))

    a = threading.Thread(target=first_writer)
    a.start()
    assert holding.wait(5)
    b = threading.Thread(target=second_writer)
    b.start()
    try:
        if store.engine.dialect.name == "sqlite":
            assert not entered.wait(0.3)  # queued behind the first ...
            assert store.engine.pool.checkedout() == 1  # ... without a connection of its own
        else:
            assert entered.wait(5)  # PostgreSQL locks rows, not the database
    finally:
        done.set()
        a.join(5)
        b.join(5)
    assert entered.is_set()
    assert (store.get(first.ord_no).goods_nm, store.get(second.ord_no).goods_nm) == ("first", "second")


def test_a_child_forked_while_a_parent_writer_is_queued_first_can_write(store):
    """The child's queue of writers is its own: the parent's writer, first in line at the fork, is not the child's."""
    first, second = make(store), make(store)
    waiting, release = threading.Event(), threading.Event()
    holder = {}

    def hold_in_checkout(*_args) -> None:
        # The parent's writer is first in its queue and waits for a connection (no SQLite call running).
        if threading.get_ident() == holder.get("ident"):
            waiting.set()
            release.wait(5)

    event.listen(store.engine.pool, "checkout", hold_in_checkout)

    def writer() -> None:
        holder["ident"] = threading.get_ident()
        store.transition(first.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="A" * 30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert waiting.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: its own write, not behind a thread it does not have
        engines.SQLITE_WRITE_WAIT = 2.0
        try:
            ok = store.transition(second.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="B" * 30) is not None
        except Exception:
            ok = False
        store.dispose()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    release.set()
    thread.join(5)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get(first.ord_no).status == store.get(second.ord_no).status == S.AUTHENTICATED


def test_a_sqlite_writer_queued_behind_this_process_gives_up_after_its_wait(store, monkeypatch):
    order = make(store)
    monkeypatch.setattr(engines, "SQLITE_WRITE_WAIT", 0.2)
    holding, done = threading.Event(), threading.Event()

    def holder():
        with engines.writing(store.engine):
            holding.set()
            done.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
        assert time.monotonic() - started >= 0.15
    finally:
        done.set()
        thread.join(5)
    assert store.get(order.ord_no).status == S.CREATED
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)


# Where the package may open a transaction or a connection other than through engines' doors.
OWN_TRANSACTIONS = {"begin": {"engines.py", "migrations/__init__.py"}, "raw_connection": {"compiled_read.py"}}
READ_DOORS = {"reads", "single_reads", "snapshot_reads"}


def database_doors(source: str) -> list[tuple[int, str]]:
    """(line, call) for each `.begin()`, `.raw_connection()` or `.connect()` in `source`, `.connect()` only on
    an engine that is not one of engines' read engines (`store.reads`, `single_reads(…)`, `snapshot_reads(…)`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args):
            continue
        name, receiver = node.func.attr, node.func.value
        if name == "connect":
            door = receiver.func if isinstance(receiver, ast.Call) else receiver
            if (getattr(door, "attr", None) or getattr(door, "id", None)) in READ_DOORS:
                continue
        elif name not in OWN_TRANSACTIONS:
            continue
        found.append((node.lineno, name))
    return found


def test_the_package_writes_only_through_engines_writing():
    """engines.writing queues SQLite's writers: a transaction begun anywhere else would skip the queue."""
    package = Path(engines.__file__).parent
    strays = [f"{path.relative_to(package)}:{line} .{name}()"
              for path in sorted(package.rglob("*.py"))
              for line, name in database_doors(path.read_text())
              if str(path.relative_to(package)) not in OWN_TRANSACTIONS.get(name, ())]
    assert strays == []
    assert database_doors("engine.begin()\nengine.connect()\nstore.reads.connect()\n"
                          "snapshot_reads(e).connect()\nsocket.connect(address)\n") == [(1, "begin"), (2, "connect")]


def test_a_sqlite_write_gives_up_after_its_wait_and_changes_nothing(store, monkeypatch):
    order = make(store)
    monkeypatch.setattr(engines, "SQLITE_WRITE_WAIT", 0.2)
    with another_writer_holding(store.engine):
        with pytest.raises(OperationalError, match="locked"):
            store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert store.get(order.ord_no).status == S.CREATED
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
