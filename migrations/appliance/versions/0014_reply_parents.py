"""(to be written by its owner: reply_parents)

Revision ID: a0014
Revises: a0013
Create Date: 2026-12-07
"""

revision = "a0014"
down_revision = "a0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
