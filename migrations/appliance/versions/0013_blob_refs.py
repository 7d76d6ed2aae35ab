"""Blob references (issue 16): which attachments the relay holds for this box and since when
(``relay_blobs``: a forward names them instead of uploading them), and the attachments the relay
counted on the box holding that it lacks (``missing_blobs``, told to the relay once).

Revision ID: a0013
Revises: a0012
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0013"
down_revision = "a0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "relay_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "missing_blobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("relay_id", sa.String(200), nullable=False),
        sa.Column("reported_at", sa.Integer),
        sa.UniqueConstraint("sha256", "relay_id", name="uq_missing_blobs_sha256_relay"),
    )


def downgrade():
    op.drop_table("missing_blobs")
    op.drop_table("relay_blobs")
