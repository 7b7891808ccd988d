"""Checkout attempts (own KISPG ordNo, per-checkout token, tid unique), the order's current attempt, next check time.

Revision ID: 0002_attempts
Revises: 0001_initial

Every existing order becomes attempt 1 under its own ordNo (what KISPG already saw), with a
fresh token: a checkout page opened before the upgrade posts a returnUrl without it and is
refused, so the shopper reloads the page. A tid held by two orders (possible before this
version) stops the upgrade with the ordNos to resolve by hand: which order owns it is a
question for KISPG's records, not for a migration.
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = "0002_attempts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# The order's status → its only attempt's outcome (store.OUTCOME_FOR, frozen as of this revision).
OUTCOMES = {
    "created": "open", "authenticated": "authenticated", "approving": "authenticated", "paid": "approved",
    "failed": "failed", "unknown": "unknown", "cancelling": "approved", "partially_cancelled": "approved",
    "cancelled": "approved",
}


def upgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(sa.text(
        "SELECT tid, COUNT(*) FROM orders WHERE tid IS NOT NULL GROUP BY tid HAVING COUNT(*) > 1")).all()
    if shared:
        owners = bind.execute(sa.text("SELECT tid, ord_no FROM orders WHERE tid IN :tids ORDER BY tid, ord_no")
                              .bindparams(sa.bindparam("tids", expanding=True)),
                              {"tids": [row[0] for row in shared]}).all()
        raise RuntimeError("these orders share a tid; resolve them with KISPG's records before upgrading: "
                           + "; ".join(f"{tid}: {ord_no}" for tid, ord_no in owners))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("attempt_no", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True)))
        batch.create_unique_constraint("uq_orders_tid", ["tid"])
    op.create_table(
        "order_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ord_no", sa.String(40), sa.ForeignKey("orders.ord_no"), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("kispg_ord_no", sa.String(40), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("tid", sa.String(30)),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("result_cd", sa.String(8)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ord_no", "n", name="uq_order_attempts_ord_no_n"),
        sa.UniqueConstraint("kispg_ord_no", name="uq_order_attempts_kispg_ord_no"),
        sa.UniqueConstraint("tid", name="uq_order_attempts_tid"),
    )
    outcome = "CASE status " + " ".join(f"WHEN '{s}' THEN '{o}'" for s, o in OUTCOMES.items()) + " ELSE 'unknown' END"
    # Copied in SQL, so every column keeps its stored type; each attempt then gets its own token.
    bind.execute(sa.text(
        "INSERT INTO order_attempts (ord_no, n, kispg_ord_no, token, tid, outcome, result_cd, created_at, updated_at) "
        f"SELECT ord_no, 1, ord_no, '', tid, {outcome}, result_cd, created_at, updated_at FROM orders"))
    for (attempt_id,) in bind.execute(sa.text("SELECT id FROM order_attempts")).all():
        bind.execute(sa.text("UPDATE order_attempts SET token = :token WHERE id = :id"),
                     {"token": secrets.token_urlsafe(24), "id": attempt_id})


def downgrade() -> None:
    op.drop_table("order_attempts")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_tid", type_="unique")
        batch.drop_column("next_check_at")
        batch.drop_column("attempt_no")
