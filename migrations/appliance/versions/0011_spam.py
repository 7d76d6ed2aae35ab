"""(to be written by its owner: spam)

Revision ID: a0011
Revises: a0010
Create Date: 2026-12-07
"""

revision = "a0011"
down_revision = "a0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
