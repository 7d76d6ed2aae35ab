"""Placeholder for the held-references work (issue 16); a no-op until it is needed.

Revision ID: a0015
Revises: a0014
Create Date: 2026-12-07
"""

revision = "a0015"
down_revision = "a0014"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
