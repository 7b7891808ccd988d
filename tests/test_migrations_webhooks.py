"""Tests for migration 0005 (webhooks and the shop's API): a released database upgrades to what metadata creates."""
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from webview_toolkit import migrations
from webview_toolkit.store import OrderStore, make_engine, metadata

pytestmark = pytest.mark.postgres

RELEASED = Path(__file__).parent / "data" / "released"


def load_released(engine) -> None:
    ddl = (RELEASED / f"schema-0.1.0.{engine.dialect.name}.sql").read_text()
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
            if body:
                conn.execute(text(body))
        conn.execute(text(
            "INSERT INTO orders (ord_no, status, goods_nm, goods_amt, ord_nm, ord_tel, cancelled_amt, created_at, "
            "updated_at) VALUES ('old-1', 'paid', 'x', 1000, 'y', '010', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))


def test_a_released_database_upgrades_to_the_tables_metadata_creates(database_url):
    engine = make_engine(database_url)
    try:
        load_released(engine)
        before, after = migrations.upgrade(engine)
        assert (before, after) == ("0001_initial", migrations.head())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    store = OrderStore(database_url)
    try:
        old = store.get("old-1")
        assert old.merchant_order_id is None and old.as_dict()["metadata"] == {}
    finally:
        store.dispose()


def test_the_webhooks_migration_downgrades_to_0001(database_url):
    engine = make_engine(database_url)
    try:
        load_released(engine)
        migrations.upgrade(engine)
        from alembic import command
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0001_initial")
            assert migrations.current(conn) == "0001_initial"
            assert "webhook_outbox" not in {row[0] for row in conn.execute(text(
                "SELECT table_name FROM information_schema.tables" if engine.dialect.name == "postgresql"
                else "SELECT name FROM sqlite_master WHERE type='table'"))}
    finally:
        engine.dispose()
