"""Idempotency keys for `POST /api/orders`: a retried request gets the first response, not a second order.

The key's row is inserted in the transaction that creates the order, and the key is the
table's primary key: of any number of concurrent requests with one key, the database lets one
insert and the others fail on the constraint, then read the winner's response. No lock.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError

from .engines import writing
from .tables import metadata

if TYPE_CHECKING:  # tables.py imports this module to register its table: no import of the store at run time
    from .store import OrderStore

# Stripe keeps keys for 24 hours; so does this service.
KEY_TTL = timedelta(hours=24)
KEY_MAX = 255

keys = Table(
    "idempotency_keys", metadata,
    Column("key", String(KEY_MAX), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the canonical request body
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("ord_no", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class IdempotencyConflict(Exception):
    """The key was used for a request with another body."""

    def __init__(self, key: str, ord_no: str):
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request body "
                         f"(it created order {ord_no})")
        self.key, self.ord_no = key, ord_no


def key_problem(key: str) -> str | None:
    """What is wrong with an Idempotency-Key header value, or None."""
    if not key or len(key) > KEY_MAX:
        return f"must be 1 to {KEY_MAX} characters"
    if not all("!" <= char <= "~" for char in key):
        return "must be printable ASCII without spaces"
    return None


def fingerprint(body: Any) -> str:
    """The request body's identity: SHA-256 of its canonical JSON (key order and spacing do not count)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_once(store: OrderStore, key: str, body_fingerprint: str, values: dict[str, Any],
                respond: Callable[[str], tuple[int, dict]], now: datetime | None = None
                ) -> tuple[int, dict, bool]:
    """Create the order in `values` unless `key` already did: (status, body, replayed) of the first response.

    Raises IdempotencyConflict for the same key with another body; any other constraint
    (a merchantOrderId already used) raises IntegrityError, and nothing is recorded for the key.
    """
    now = now or datetime.now(timezone.utc)
    status, body = respond(values["ord_no"])
    try:
        with writing(store.engine) as conn:
            # An expired key is free again; deleting it first lets this insert take its place.
            conn.execute(delete(keys).where(keys.c.key == key, keys.c.created_at < now - KEY_TTL))
            conn.execute(insert(keys).values(key=key, fingerprint=body_fingerprint, status_code=status,
                                             response=json.dumps(body, ensure_ascii=False), ord_no=values["ord_no"],
                                             created_at=now))
            store.insert_order(conn, **values)
    except IntegrityError:
        with store.reads.connect() as conn:
            first = conn.execute(select(keys).where(keys.c.key == key)).first()
        if first is None:
            raise  # not the key: another constraint refused the order
        if first.fingerprint != body_fingerprint:
            raise IdempotencyConflict(key, first.ord_no) from None
        return first.status_code, json.loads(first.response), True
    return status, body, False
