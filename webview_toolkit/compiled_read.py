"""One SELECT compiled once for an engine's dialect and run on a driver cursor of the engine's own pool.

The checkout page reads its order on every view. Through a SQLAlchemy Connection that read cost
about 65 µs on SQLite (the Connection, the statement's cache key, the result object) around a
5 µs lookup; on a driver cursor it costs about 13 µs (bench/profile_checkout.py), 5 of them the
pool's checkout and checkin. Connections kept aside would save those 5 µs at the price of a pool
of our own; this takes them from `engine.raw_connection()`, so whatever pool the engine has
(QueuePool, SingletonThreadPool for `sqlite://`, StaticPool, NullPool, AssertionPool) keeps its
limits and its events (the store's ping after idling), and nothing here outlives the engine or needs
care after a fork. A connection the server dropped fails the read once; it is read again on a fresh one.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Engine


class CompiledRead:
    """A SELECT run by its bind names on the engine's pooled connections, its columns processed as SQLAlchemy would."""

    def __init__(self, statement: Select, engine: Engine, *, driver_autocommits: bool = False):
        """Compile `statement` for the engine; `driver_autocommits`: its connections never open a transaction."""
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.engine, self.dialect = engine, dialect
        self.sql = compiled.string
        # The dialect's paramstyle: a tuple in the compiled order, or the names themselves.
        self.positional = compiled.positiontup if compiled.positional else None
        processors = (column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in statement.selected_columns)
        # Only the columns whose driver value needs converting (SQLite's datetimes, which it keeps as text).
        self.processors = tuple((index, process) for index, process in enumerate(processors) if process is not None)
        # A transactional driver (psycopg) would BEGIN before the SELECT and the pool would ROLLBACK
        # after it: two more round trips. The read runs in autocommit, and gives the connection
        # back in the isolation level it had. SQLite's connections are autocommit already (store.py).
        self.toggle_autocommit = not driver_autocommits

    def first(self, **params: Any) -> tuple | None:
        """The first row for these bind values, or None; read again once if the server had dropped the connection."""
        args = tuple(params[name] for name in self.positional) if self.positional is not None else params
        try:
            row = self._run(args)
        except _Lost:
            # A pooled connection is pinged only after sitting idle (store.ping_when_idle): one the
            # server dropped meanwhile (a restart) fails here. A read changes nothing, so reading
            # again on a fresh connection is safe; any other error is the caller's to see.
            row = self._run(args, retry=False)
        if row is None or not self.processors:
            return row
        values = list(row)
        for index, process in self.processors:
            values[index] = process(values[index])
        return tuple(values)

    def _run(self, args, retry: bool = True) -> tuple | None:
        connection = self.engine.raw_connection()
        try:
            driver = connection.dbapi_connection
            if self.toggle_autocommit:
                self.dialect.set_isolation_level(driver, "AUTOCOMMIT")
            cursor = driver.cursor()
            try:
                cursor.execute(self.sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
            if self.toggle_autocommit:
                self.dialect.reset_isolation_level(driver)
        except BaseException as exc:
            # Whatever state a failed read left the connection in, the pool never hands it out again.
            lost = (retry and isinstance(exc, self.dialect.loaded_dbapi.Error)
                    and self.dialect.is_disconnect(exc, connection.dbapi_connection, None))
            connection.invalidate()
            if lost:
                raise _Lost() from exc
            raise
        finally:
            connection.close()
        return row


class _Lost(Exception):
    """The read's connection had been dropped by the server: worth one more try on a fresh one."""
