"""The store's round trips on PostgreSQL: pings only for connections that sat idle (reads in autocommit: test_store.py)."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from webview_toolkit import engines
from webview_toolkit.lifecycle import S
from webview_toolkit.store import OrderStore, new_ord_no


@pytest.fixture
def pg_url(pg_cluster):
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


def open_store(url, monkeypatch, ping_after):
    monkeypatch.setattr(engines, "PING_AFTER", ping_after)
    return OrderStore(url)


def make(store):
    return store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=1000, ord_nm="홍길동", ord_tel="010")


def pings(store) -> list:
    """The pings the store's dialect sends from now on."""
    sent = []
    original = store.engine.dialect.do_ping
    store.engine.dialect.do_ping = lambda dbapi_connection: sent.append(1) or original(dbapi_connection)
    return sent


def drop_server_sessions(url: str) -> None:
    """The server ends every session of this database (as a restart would)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url, monkeypatch):
    store = open_store(pg_url, monkeypatch, ping_after=60)
    order = make(store)
    sent = pings(store)
    for _ in range(3):
        assert store.get(order.ord_no) == order
    assert store.transition(order.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    assert sent == []
    store.dispose()


def test_an_idle_connection_is_pinged_and_replaced_when_the_server_dropped_it(pg_url, monkeypatch):
    store = open_store(pg_url, monkeypatch, ping_after=0)
    order = make(store)
    sent = pings(store)
    drop_server_sessions(pg_url)
    assert store.get(order.ord_no) == order  # the ping found it dead: a fresh connection answered
    assert sent == [1]
    store.dispose()


def test_without_the_ping_a_dropped_connection_fails_its_request(pg_url, monkeypatch):
    """What the ping is for: the same lost session, met by a connection used a moment ago."""
    store = open_store(pg_url, monkeypatch, ping_after=60)
    order = make(store)
    drop_server_sessions(pg_url)
    with pytest.raises(OperationalError):
        store.get(order.ord_no)
    assert store.get(order.ord_no) == order  # SQLAlchemy replaced the pool after the failure
    store.dispose()


def test_attempt_and_order_is_one_read_of_both(pg_url, monkeypatch):
    store = open_store(pg_url, monkeypatch, ping_after=60)
    order = make(store)
    attempt, found = store.attempt_and_order(order.ord_no)
    assert found == store.get(order.ord_no) and attempt == store.attempt(order.ord_no)
    assert store.attempt_and_order("missing") is None and store.attempt_and_order("a\x00b") is None
    store.dispose()


def test_transitions_apply_in_one_commit_each_with_its_event(pg_url, monkeypatch):
    from webview_toolkit.records import Change

    store = open_store(pg_url, monkeypatch, ping_after=60)
    order = make(store)
    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    tid = "T" * 30
    authenticated, claimed = store.transitions(
        order.ord_no, Change(S.AUTHENTICATED, "authenticated", bind_tid=tid, values={"result_cd": "0000"}),
        Change(S.APPROVING, "approval_claimed", expect_tid=tid))
    assert (authenticated.status, claimed.status) == ("authenticated", "approving") and commits == [1]
    assert [e["kind"] for e in store.events(order.ord_no)] == ["created", "authenticated", "approval_claimed"]
    assert store.attempt(order.ord_no).result_cd == "0000"
    # The first no longer applies (not `created`); the second is still tried, and loses its claim too.
    assert store.transitions(order.ord_no, Change(S.AUTHENTICATED, "authenticated", bind_tid=tid),
                             Change(S.APPROVING, "approval_claimed", expect_tid=tid)) == [None, None]
    store.dispose()


def test_a_tid_in_use_undoes_every_change_of_the_commit(pg_url, monkeypatch):
    from webview_toolkit.records import Change
    from webview_toolkit.store import TidInUse

    store = open_store(pg_url, monkeypatch, ping_after=60)
    first, second = make(store), make(store)
    store.transition(first.ord_no, S.AUTHENTICATED, "authenticated", bind_tid="T" * 30)
    with pytest.raises(TidInUse):
        store.transitions(second.ord_no, Change(S.AUTHENTICATED, "authenticated", bind_tid="U" * 30),
                          Change(S.APPROVING, "approval_claimed", expect_tid="U" * 30, bind_tid="T" * 30))
    assert store.get(second.ord_no).status == "created"
    assert [e["kind"] for e in store.events(second.ord_no)] == ["created"]
    store.dispose()
