"""Databases as webview-toolkit 0.1.0 left them (the schema before versions), and how far one is from metadata."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from webview_toolkit.tables import metadata

RELEASED = Path(__file__).parent / "data" / "released"


def released_schema(engine) -> None:
    """The tables webview-toolkit 0.1.0 created, before the schema was versioned."""
    ddl = (RELEASED / f"schema-0.1.0.{engine.dialect.name}.sql").read_text(encoding="utf-8")
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
            if body:
                conn.exec_driver_sql(body)


def released_order(conn, ord_no, status, tid=None) -> None:
    """An order and its `created` event, as 0.1.0 wrote them."""
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    conn.execute(text(
        "INSERT INTO orders (ord_no, status, goods_nm, goods_amt, ord_nm, ord_tel, tid, result_cd, cancelled_amt,"
        " created_at, updated_at) VALUES (:o, :s, '무선 이어폰', 999999999999999, '홍길동', '01012345678', :t,"
        " '3001', 0, :now, :now)"), {"o": ord_no, "s": status, "t": tid, "now": now})
    conn.execute(text("INSERT INTO order_events (ord_no, at, kind, detail) VALUES (:o, :now, 'created', '{}')"),
                 {"o": ord_no, "now": now})


def schema_differences(engine) -> list:
    """What alembic's autogenerate finds between the database and the code's metadata (types compared too)."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


@contextmanager
def disposing(resource):
    """`with disposing(make_engine(url)) as engine:` disposes the engine (or OrderStore) however the block ends."""
    try:
        yield resource
    finally:
        resource.dispose()
