"""(to be written by its owner: box_blobs)

Revision ID: r0013
Revises: r0012
Create Date: 2026-12-07
"""

revision = "r0013"
down_revision = "r0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
