"""The schema's versions: Alembic migrations, and the checks `serve` and the store make with them.

`versions/` holds one migration per schema change, oldest first; `0001_initial` is the schema
as released before versioning. A fresh, empty database is created at the newest version
directly; any other database must be at the newest version (`webview-toolkit db upgrade`).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
# The revision that reproduces the tables released before the schema was versioned.
UNVERSIONED = "0001_initial"
# Tables of the unversioned release: a database holding them but no alembic_version is at UNVERSIONED.
UNVERSIONED_TABLES = frozenset({"orders", "order_events"})


class SchemaError(Exception):
    """The database's schema is not the one this version of the code needs."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the package's migrations, running on `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The database's revision: alembic's record, UNVERSIONED for a pre-versioning database, None if empty."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and UNVERSIONED_TABLES <= set(inspect(connection).get_table_names()):
        return UNVERSIONED
    return revision


def is_empty(connection: Connection) -> bool:
    """Whether the database holds none of our tables and no revision."""
    names = set(inspect(connection).get_table_names())
    return not names & (UNVERSIONED_TABLES | {"alembic_version"})


def stamp_head(connection: Connection) -> None:
    """Record the newest revision (for a database just created from the current tables)."""
    MigrationContext.configure(connection).stamp(ScriptDirectory.from_config(alembic_config()), "head")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; (revision before, revision after)."""
    with engine.begin() as connection:
        before = current(connection)
        if before == UNVERSIONED and MigrationContext.configure(connection).get_current_revision() is None:
            # Released before versioning: its tables are exactly UNVERSIONED's; record that first.
            MigrationContext.configure(connection).stamp(ScriptDirectory.from_config(alembic_config()), UNVERSIONED)
        command.upgrade(alembic_config(connection), "head")
        return before, current(connection)


def behind_message(url: str, revision: str | None) -> str:
    """The one line `serve` prints for a database that is not at the newest revision."""
    newest = head()
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision is not None and revision not in known:
        return (f"the database {url} is at schema revision {revision}, newer than this version of "
                f"webview-toolkit knows (newest {newest}): upgrade webview-toolkit")
    return (f"the database {url} is at schema revision {revision}, this version needs {newest}: "
            f"run `webview-toolkit db upgrade`")
