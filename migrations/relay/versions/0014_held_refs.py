"""Placeholder for the held-references work (issue 16); a no-op until it is needed.

Revision ID: r0014
Revises: r0013
Create Date: 2026-12-07
"""

revision = "r0014"
down_revision = "r0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
