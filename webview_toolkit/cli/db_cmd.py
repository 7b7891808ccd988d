"""`webview-toolkit db upgrade|status`: bring the configured database to the code's schema."""
from __future__ import annotations

import os

import click

from sqlalchemy.exc import ArgumentError, DBAPIError

from .. import database
from ..config import DEFAULTS, ConfigError, from_environment, instance_path, resolve


def database_url(instance_path: str) -> str:
    """The database the service would use with the current environment."""
    config = {**DEFAULTS, **from_environment(os.environ)}
    try:
        resolve(config, instance_path)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}")
    return config["WEBVIEW_DATABASE_URL"]


def _instance_path() -> str:
    # The same place `serve` and `reconcile` use (config.instance_path), whatever the install.
    return instance_path(os.environ)


def _engine(url: str):
    from ..engines import make_engine
    try:
        return make_engine(url)
    except (ImportError, ArgumentError, ValueError) as exc:
        raise click.ClickException(database.describe(url, exc))


@click.group()
def db() -> None:
    """The database schema: its version, and upgrading it."""


@db.command()
def upgrade() -> None:
    """Apply every migration the database lacks (a database from before versioning included)."""
    from .. import migrations
    from ..database import shown_url

    url = database_url(_instance_path())
    engine = _engine(url)
    try:
        before, after = migrations.upgrade(engine)
    except DBAPIError as exc:
        raise click.ClickException(database.describe(url, exc))
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{shown_url(url)}: already at {after}")
    else:
        click.echo(f"{shown_url(url)}: upgraded from {before or 'an empty database'} to {after}")


@db.command()
def status() -> None:
    """Print the database's schema revision and the newest one; exit 1 when it is behind."""
    from .. import migrations
    from ..database import shown_url
    from ..engines import snapshot_reads

    url = database_url(_instance_path())
    engine = _engine(url)
    try:
        # Only reads: on SQLite they must not take the lock a running service writes with.
        with snapshot_reads(engine).connect() as connection:
            revision = migrations.current(connection)
    except DBAPIError as exc:
        raise click.ClickException(database.describe(url, exc))
    finally:
        engine.dispose()
    newest = migrations.head()
    click.echo(f"{shown_url(url)}: at {revision or 'nothing (empty)'}, newest {newest}")
    if revision not in (newest, None):
        raise SystemExit(1)
