"""(to be written by its owner: spam)

Revision ID: r0011
Revises: r0010
Create Date: 2026-12-07
"""

revision = "r0011"
down_revision = "r0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
