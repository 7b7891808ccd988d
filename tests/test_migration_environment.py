"""Migration 0004_order_environment (issue 17): a released database gains `orders.environment`,
matching the metadata a fresh database is created from; on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from webview_toolkit import migrations
from webview_toolkit.engines import make_engine
from webview_toolkit.store import OrderStore, new_ord_no
from webview_toolkit.tables import metadata

from .migration_helpers import disposing, released_order, released_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def released_url(request, tmp_path):
    """A database holding the 0.1.0 schema (no alembic_version), with one order in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'released.sqlite3'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database()
    engine = make_engine(url)
    released_schema(engine)
    with engine.begin() as conn:
        released_order(conn, "old-1", "paid")
    yield url, engine
    engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("pg_cluster").drop_database(url)


def test_upgrade_adds_the_environment_column_and_keeps_orders(released_url):
    url, engine = released_url
    before, after = migrations.upgrade(engine)
    assert (before, after) == ("0001_initial", migrations.head())
    columns = {c["name"]: c for c in inspect(engine).get_columns("orders")}
    assert "environment" in columns and columns["environment"]["nullable"]
    assert [c.name for c in metadata.tables["orders"].columns] == list(columns), "same columns, same order"
    with disposing(OrderStore(url)) as store:
        assert store.get("old-1").environment is None, "an older order's environment is not guessed"
        made = store.create(ord_no=new_ord_no(), goods_nm="x", goods_amt=1, ord_nm="y", ord_tel="010",
                            environment="prod")
        assert store.get(made.ord_no).as_dict()["environment"] == "prod"


def test_downgrade_drops_it_again(released_url):
    from alembic import command
    _, engine = released_url
    migrations.upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0001_initial")
    assert "environment" not in {c["name"] for c in inspect(engine).get_columns("orders")}
