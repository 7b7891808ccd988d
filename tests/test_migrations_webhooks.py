"""Tests for migration 0005 (webhooks and the shop's API): a released database upgrades to what metadata creates."""
import pytest
from sqlalchemy import text

from webview_toolkit import migrations
from webview_toolkit.engines import make_engine
from webview_toolkit.store import OrderStore

from .migration_helpers import disposing, released_order, released_schema, schema_differences

pytestmark = pytest.mark.postgres


def load_released(engine) -> None:
    """The 0.1.0 tables with one paid order, old-1, in them."""
    released_schema(engine)
    with engine.begin() as conn:
        released_order(conn, "old-1", "paid")


def test_a_released_database_upgrades_to_the_tables_metadata_creates(database_url):
    with disposing(make_engine(database_url)) as engine:
        load_released(engine)
        before, after = migrations.upgrade(engine)
        assert (before, after) == ("0001_initial", migrations.head())
        assert schema_differences(engine) == []
    with disposing(OrderStore(database_url)) as store:
        old = store.get("old-1")
        assert old.merchant_order_id is None and old.as_dict()["metadata"] == {}


def test_the_webhooks_migration_downgrades_to_0001(database_url):
    with disposing(make_engine(database_url)) as engine:
        load_released(engine)
        migrations.upgrade(engine)
        from alembic import command
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0001_initial")
            assert migrations.current(conn) == "0001_initial"
            assert "webhook_outbox" not in {row[0] for row in conn.execute(text(
                "SELECT table_name FROM information_schema.tables" if engine.dialect.name == "postgresql"
                else "SELECT name FROM sqlite_master WHERE type='table'"))}
