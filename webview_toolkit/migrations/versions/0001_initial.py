"""The schema as released before versioning: orders and their event log.

Revision ID: 0001_initial
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("ord_no", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("goods_nm", sa.String(200), nullable=False),
        sa.Column("goods_amt", sa.BigInteger, nullable=False),
        sa.Column("ord_nm", sa.String(60), nullable=False),
        sa.Column("ord_tel", sa.String(20), nullable=False),
        sa.Column("ord_email", sa.String(120)),
        sa.Column("pay_method", sa.String(10)),
        sa.Column("mbs_usr_id", sa.String(40)),
        sa.Column("user_ip", sa.String(40)),
        sa.Column("tid", sa.String(30)),
        sa.Column("result_cd", sa.String(8)),
        sa.Column("result_msg", sa.String(200)),
        sa.Column("pay_method_result", sa.String(10)),
        sa.Column("app_no", sa.String(20)),
        sa.Column("app_dtm", sa.String(14)),
        sa.Column("card_code", sa.String(4)),
        sa.Column("fn_nm", sa.String(40)),
        sa.Column("easy_pay_cd", sa.String(4)),
        sa.Column("cancelled_amt", sa.BigInteger, nullable=False),
        sa.Column("status_before_cancel", sa.String(24)),
        sa.Column("pending_cancel_amt", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ord_no", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_order_events_ord_no", "order_events", ["ord_no"])


def downgrade() -> None:
    op.drop_table("order_events")
    op.drop_table("orders")
