"""Webhooks and the shop's API: merchantOrderId and metadata on orders, idempotency keys, the outbox.

Revision ID: 0005_webhooks_api
Revises: 0004_order_environment
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_webhooks_api"
down_revision = "0004_order_environment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("merchant_order_id", sa.String(64)))
        batch.add_column(sa.Column("merchant_metadata", sa.Text))
        batch.create_unique_constraint("uq_orders_merchant_order_id", ["merchant_order_id"])
    op.create_index("ix_orders_created_at_ord_no", "orders", ["created_at", "ord_no"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("ord_no", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("ord_no", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("leased_by", sa.String(80)),
        sa.Column("last_error", sa.String(300)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", "url", name="uq_webhook_outbox_event_url"),
    )
    op.create_index("ix_webhook_outbox_event_id", "webhook_outbox", ["event_id"])
    op.create_index("ix_webhook_outbox_due", "webhook_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_outbox_order", "webhook_outbox", ["ord_no", "url", "status"])


def downgrade() -> None:
    op.drop_table("webhook_outbox")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_orders_created_at_ord_no", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_merchant_order_id", type_="unique")
        batch.drop_column("merchant_metadata")
        batch.drop_column("merchant_order_id")
