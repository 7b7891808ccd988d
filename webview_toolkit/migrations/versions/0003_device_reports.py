"""Device-test reports: one row per device session, one per app outcome.

Revision ID: 0003_device_reports
Revises: 0002_attempts
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_device_reports"
down_revision = "0002_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_reports",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("app", sa.String(40)),
        sa.Column("escape", sa.String(40)),
        sa.Column("tester", sa.String(40)),
    )
    op.create_table(
        "device_report_results",
        sa.Column("report_id", sa.String(24), sa.ForeignKey("device_reports.id"), primary_key=True),
        sa.Column("app_id", sa.String(40), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("device_report_results")
    op.drop_table("device_reports")
