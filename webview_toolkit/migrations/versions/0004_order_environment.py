"""Orders keep the KISPG environment they were created under (issue 17).

Revision ID: 0004_order_environment
Revises: 0003_device_reports
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_order_environment"
down_revision = "0003_device_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: which environment an older order was made in is not known, and
    # guessing "sandbox" for a real shop's orders would be worse than saying nothing.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("environment", sa.String(10)))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("environment")
