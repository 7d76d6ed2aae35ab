"""Spam stays on the relay: each delivery's spamd score (per box: each box has its own Bayes),
SendGrid's spam_score of the inbound mail, held and released deliveries, and what a box chose
(BoxSettingsRecord: spam threshold, automatic attachment limit, users' own lower limits).

Revision ID: r0011
Revises: r0010
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "r0011"
down_revision = "r0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("boxes") as batch:
        batch.add_column(sa.Column("spam_threshold", sa.Float))
        batch.add_column(sa.Column("attachment_limit", sa.BigInteger))
        batch.add_column(sa.Column("user_limits", sa.Text))
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(sa.Column("sendgrid_spam_score", sa.Float))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("spam_score", sa.Float))
        batch.add_column(sa.Column("scored_at", sa.Integer))
        batch.add_column(sa.Column("held_at", sa.Integer))
        batch.add_column(sa.Column("released_at", sa.Integer))
    op.create_index("deliveries_held", "deliveries", ["box_id", "held_at"])


def downgrade():
    # Columns are dropped in place (SQLite 3.35+): boxes and deliveries are referenced by other
    # tables, which a batch's copy-and-rename would trip over with foreign keys on.
    op.drop_index("deliveries_held", "deliveries")
    with op.batch_alter_table("deliveries", recreate="never") as batch:
        for name in ("released_at", "held_at", "scored_at", "spam_score"):
            batch.drop_column(name)
    with op.batch_alter_table("inbound", recreate="never") as batch:
        batch.drop_column("sendgrid_spam_score")
    with op.batch_alter_table("boxes", recreate="never") as batch:
        for name in ("user_limits", "attachment_limit", "spam_threshold"):
            batch.drop_column(name)
