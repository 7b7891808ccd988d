"""Indexes for flat cost at 100,000 orders: a reconcile pass reads only the stuck orders whose inquiry is due.

Revision ID: 0007_scale_indexes
Revises: 0006_virtual_accounts

`ix_orders_status_next_check_at` (status, next_check_at) replaces `ix_orders_status`: it serves
every query by status as well (its first column), and `store.due_for_check` reads two ranges of
it (never asked; asked before now) instead of every order in a stuck state. The webhook
worker's queries were served by 0005's indexes already (tests/test_query_plans.py checks all).
"""
from alembic import op

revision = "0007_scale_indexes"
down_revision = "0006_virtual_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_status_next_check_at", "orders", ["status", "next_check_at"])
    op.drop_index("ix_orders_status", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_status", "orders", ["status"])
    op.drop_index("ix_orders_status_next_check_at", table_name="orders")
