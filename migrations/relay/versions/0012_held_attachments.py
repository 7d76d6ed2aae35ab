"""(to be written by its owner: held_attachments)

Revision ID: r0012
Revises: r0011
Create Date: 2026-12-07
"""

revision = "r0012"
down_revision = "r0011"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
