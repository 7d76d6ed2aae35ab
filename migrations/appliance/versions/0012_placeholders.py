"""(to be written by its owner: placeholders)

Revision ID: a0012
Revises: a0011
Create Date: 2026-12-07
"""

revision = "a0012"
down_revision = "a0011"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
