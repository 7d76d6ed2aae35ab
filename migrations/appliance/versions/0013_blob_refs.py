"""(to be written by its owner: blob_refs)

Revision ID: a0013
Revises: a0012
Create Date: 2026-12-07
"""

revision = "a0013"
down_revision = "a0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
