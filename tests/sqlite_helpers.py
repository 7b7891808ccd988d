"""Another writer holding SQLite's write lock, as a running service's write in progress would."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine

from webview_toolkit import engines


@contextmanager
def another_writer_holding(engine: Engine) -> Iterator[None]:
    """For the block, a connection of the engine's own holds the write lock (BEGIN IMMEDIATE); rolled back after."""
    held = engine.raw_connection()
    engines.begin_immediate(held.driver_connection)
    try:
        yield
    finally:
        held.driver_connection.rollback()
        held.close()
