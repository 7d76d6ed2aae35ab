"""Store rules: Bcc kept with the sender, senders and limits checked in the store.

Revision ID: a0008
Revises: a0007
Create Date: 2026-12-06
"""

import json

from alembic import op
import sqlalchemy as sa

revision = "a0008"
down_revision = "a0007"
branch_labels = None
depends_on = None


# Messages whose Bcc the search index holds while users other than the sender have them:
# mail sent on the box to its own users before the rule.
SHARED_WITH_BCC = sa.text(
    "SELECT m.id, m.from_json, m.to_json, m.cc_json FROM messages m WHERE m.bcc_json != '[]' "
    "AND (SELECT count(*) FROM user_messages um WHERE um.message_id = m.id) > 1")


def _listed(*lists):
    """As appliance.store.addresses.format_list writes them (a migration keeps its own copy)."""
    pairs = [pair for text in lists for pair in json.loads(text or "[]")]
    return ", ".join(f'"{name}" <{email}>' if name else email for name, email in pairs)


def upgrade():
    """Bcc is the sender's alone: the index row all owners share forgets it."""
    conn = op.get_bind()
    for row in conn.execute(SHARED_WITH_BCC).mappings().all():
        conn.execute(sa.text("UPDATE message_search SET addresses = :addresses WHERE rowid = :id"),
                     {"id": row["id"], "addresses": _listed(row["from_json"], row["to_json"], row["cc_json"])})


def downgrade():
    pass  # the Bcc addresses are not put back into other users' search
