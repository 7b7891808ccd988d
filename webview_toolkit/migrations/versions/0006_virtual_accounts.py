"""Virtual accounts: the issued account number, its bank's §9 code, holder and deposit deadline on the order.

Revision ID: 0006_virtual_accounts
Revises: 0005_webhooks_api

Orders from before this revision carry none (nullable columns): an order that was made `paid`
by a 4100 answer before this version stays as it is; ask KISPG (`/v2/order`) about those by hand.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_virtual_accounts"
down_revision = "0005_webhooks_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("vacnt_no", sa.String(20)))
        batch.add_column(sa.Column("vbank_cd", sa.String(3)))
        batch.add_column(sa.Column("vacnt_holder", sa.String(30)))
        batch.add_column(sa.Column("lmt_day", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("lmt_day")
        batch.drop_column("vacnt_holder")
        batch.drop_column("vbank_cd")
        batch.drop_column("vacnt_no")
