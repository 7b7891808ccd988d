"""Tests for the schema versions: migrations build exactly the tables the code uses, and upgrades keep data."""
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from webview_toolkit import migrations
from webview_toolkit.cli import main
from webview_toolkit.engines import make_engine
from webview_toolkit.store import OrderStore

from .migration_helpers import disposing, released_order, released_schema, schema_differences
from .sqlite_helpers import another_writer_holding

pytestmark = pytest.mark.postgres

def test_the_migrations_build_exactly_the_tables_the_code_declares(database_url):
    with disposing(make_engine(database_url)) as engine:
        migrations.upgrade(engine)
        assert schema_differences(engine) == []
        with engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()


def test_a_released_database_upgrades_with_every_order_and_event(database_url):
    with disposing(make_engine(database_url)) as engine:
        released_schema(engine)
        with engine.begin() as conn:
            released_order(conn, "A" * 30, "paid", tid="T" * 30)
            released_order(conn, "B" * 30, "created")
            released_order(conn, "C" * 30, "unknown", tid="U" * 30)
        with pytest.raises(migrations.SchemaError, match="webview-toolkit db upgrade"):
            OrderStore(database_url)  # serve refuses a database that is behind, naming the command
        before, after = migrations.upgrade(engine)
        assert (before, after) == (migrations.UNVERSIONED, migrations.head())
        assert schema_differences(engine) == []
    with disposing(OrderStore(database_url)) as store:
        paid, created, unknown = (store.get(c * 30) for c in "ABC")
        assert (paid.status, paid.tid, paid.goods_amt, paid.goods_nm, paid.attempt_no) == (
            "paid", "T" * 30, 999999999999999, "무선 이어폰", 1)
        assert [(a.n, a.kispg_ord_no, a.tid, a.outcome) for a in store.attempts(paid.ord_no)] == [
            (1, "A" * 30, "T" * 30, "approved")]
        assert store.attempts(created.ord_no)[0].outcome == "open" and unknown.status == "unknown"
        assert [e["kind"] for e in store.events("A" * 30)] == ["created"]
        assert store.checkout_order(created.ord_no).token == store.attempts(created.ord_no)[0].token


def test_an_upgrade_refuses_a_tid_held_by_two_orders_and_changes_nothing(database_url):
    with disposing(make_engine(database_url)) as engine:
        released_schema(engine)
        with engine.begin() as conn:
            released_order(conn, "A" * 30, "paid", tid="T" * 30)
            released_order(conn, "B" * 30, "unknown", tid="T" * 30)
        with pytest.raises(RuntimeError, match=f"{'T' * 30}: {'A' * 30}; {'T' * 30}: {'B' * 30}"):
            migrations.upgrade(engine)
        with engine.connect() as conn:
            assert migrations.current(conn) in (migrations.UNVERSIONED, "0001_initial")
            assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar() == 2


def test_db_upgrade_and_status_from_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    engine = create_engine(url)
    released_schema(engine)
    engine.dispose()
    env = {"WEBVIEW_DATABASE_URL": url, "KISPG_ENV": "sandbox"}
    runner = CliRunner()
    status = runner.invoke(main, ["db", "status"], env=env)
    assert status.exit_code == 1 and f"at {migrations.UNVERSIONED}, newest {migrations.head()}" in status.output
    served = runner.invoke(main, ["serve", "--port", "5999"], env=env)
    assert served.exit_code == 1
    assert served.output.strip().splitlines() == [
        f"Error: the database {url} is at schema revision {migrations.UNVERSIONED}, this version needs "
        f"{migrations.head()}: run `webview-toolkit db upgrade`"]
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0 and f"to {migrations.head()}" in upgraded.output
    again = runner.invoke(main, ["db", "upgrade"], env=env)
    assert again.output.strip() == f"{url}: already at {migrations.head()}"
    assert runner.invoke(main, ["db", "status"], env=env).exit_code == 0


def test_db_status_reads_beside_a_writer_holding_the_sqlite_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    with disposing(OrderStore(url)) as store, another_writer_holding(store.engine):
        started = time.monotonic()
        status = CliRunner().invoke(main, ["db", "status"], env={"WEBVIEW_DATABASE_URL": url, "KISPG_ENV": "sandbox"})
        assert status.exit_code == 0 and f"at {migrations.head()}" in status.output
        assert time.monotonic() - started < 5.0  # it took no lock of its own to wait for


def test_a_database_newer_than_the_code_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    OrderStore(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(migrations.SchemaError, match="newer than this version"):
        OrderStore(url)
