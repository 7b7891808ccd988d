"""The store's tables: orders, their attempts and their event log, in one `metadata` with every other table.

Alembic's migrations (migrations/) create and change them; a test compares the two on SQLite and PostgreSQL.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

# Constraint names as Alembic's migrations spell them, so the two always compare equal.
metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s"})

orders = Table(
    "orders", metadata,
    Column("ord_no", String(40), primary_key=True),
    # Indexed with next_check_at below (ix_orders_status_next_check_at), which serves status alone too.
    Column("status", String(24), nullable=False),
    Column("goods_nm", String(200), nullable=False),
    # Amounts: the guide allows 15 digits, beyond a 32-bit INTEGER (PostgreSQL refuses past 2,147,483,647).
    Column("goods_amt", BigInteger, nullable=False),
    Column("ord_nm", String(60), nullable=False),
    Column("ord_tel", String(20), nullable=False),
    Column("ord_email", String(120)),
    Column("pay_method", String(10)),
    Column("mbs_usr_id", String(40)),
    Column("user_ip", String(40)),
    # The current attempt's tid; a tid belongs to one order forever (also unique over attempts).
    Column("tid", String(30), unique=True),
    Column("result_cd", String(8)),
    Column("result_msg", String(200)),
    Column("pay_method_result", String(10)),
    Column("app_no", String(20)),
    Column("app_dtm", String(14)),
    Column("card_code", String(4)),
    Column("fn_nm", String(40)),
    Column("easy_pay_cd", String(4)),
    Column("cancelled_amt", BigInteger, nullable=False, default=0),
    Column("status_before_cancel", String(24)),
    Column("pending_cancel_amt", BigInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Which attempt the checkout page offers and a return may complete (see order_attempts).
    Column("attempt_no", Integer, nullable=False, default=1, server_default="1"),
    # No inquiry for this order before then, whoever asks (result-page views included).
    Column("next_check_at", DateTime(timezone=True)),
    # The KISPG_ENV the order was created under (sandbox, test, prod); NULL for orders from before it was kept.
    Column("environment", String(10)),
    # The shop's own order id (unique: one shop per service) and its JSON metadata, echoed back.
    Column("merchant_order_id", String(64)),
    Column("merchant_metadata", Text),
    # GET /api/orders walks newest first by (created_at, ord_no).
    # A virtual account issued for the order (guide §3.2.2 vacntNo 20, lmtDay 8; the bank by §9 code).
    Column("vacnt_no", String(20)),
    Column("vbank_cd", String(3)),
    Column("vacnt_holder", String(30)),
    Column("lmt_day", String(8)),
    UniqueConstraint("merchant_order_id", name="uq_orders_merchant_order_id"),
    Index("ix_orders_created_at_ord_no", "created_at", "ord_no"),
    # A reconcile pass reads only the stuck orders whose inquiry is due (store.due_for_check).
    Index("ix_orders_status_next_check_at", "status", "next_check_at"),
)

events = Table(
    "order_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ord_no", String(40), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("detail", Text, nullable=False),
)

# One row per checkout attempt: KISPG sees each under its own ordNo (it refuses an ordNo it has seen).
attempts = Table(
    "order_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ord_no", String(40), ForeignKey("orders.ord_no"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("kispg_ord_no", String(40), nullable=False, unique=True),
    # The per-checkout secret in returnUrl: a return without it changes nothing.
    Column("token", String(64), nullable=False),
    Column("tid", String(30), unique=True),
    Column("outcome", String(24), nullable=False),
    Column("result_cd", String(8)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("ord_no", "n", name="uq_order_attempts_ord_no_n"),
)


# These modules' tables belong to `metadata` too (created with it, compared with the migrations).
from . import idempotency as _idempotency  # noqa: E402,F401
from .webhooks import outbox as _outbox  # noqa: E402,F401
