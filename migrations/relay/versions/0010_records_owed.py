"""Records owed to a box (kind, subject, fields), packed generically: the ``statuses`` table
becomes ``records_owed``.  Each row's state, reason, at and synced_at become the JSON fields of
the record it stands for; its kind takes the record kind's name ("message" -> "status",
"account" -> "account status", "flag" stays).

Revision ID: r0010
Revises: r0009
Create Date: 2026-12-06
"""

import json

from alembic import op
import sqlalchemy as sa

revision = "r0010"
down_revision = "r0009"
branch_labels = None
depends_on = None

KINDS = {"message": "status", "account": "account status", "flag": "flag"}  # as r0004 named them
BATCH = 5000


def _fields(row):
    """The record a statuses row stands for, as its fields (pouch.records, December 2026)."""
    if row.kind == "account":
        return {"id": row.subject, "state": row.state, "at": row.at, "error": row.reason,
                "synced_at": row.synced_at or 0}
    if row.kind == "flag":
        return {"message_id": row.subject, "seen": row.state == "seen", "at": row.at}
    return {"message_id": row.subject, "state": row.state, "at": row.at, "reason": row.reason}


def _columns(row):
    """A records_owed row's fields back as statuses columns."""
    fields = json.loads(row.fields)
    if row.kind == "flag":
        return {"state": "seen" if fields["seen"] else "unseen", "reason": "", "at": fields["at"], "synced_at": None}
    return {"state": fields["state"], "reason": fields.get("reason", fields.get("error", "")), "at": fields["at"],
            "synced_at": fields.get("synced_at") or None}


def _rewrite(table, columns, change):
    """``change(row)`` -> values, for every row of ``table``, a batch at a time."""
    db = op.get_bind()
    last = 0
    while rows := db.execute(sa.select(table.c.id, *columns).where(table.c.id > last)
                             .order_by(table.c.id).limit(BATCH)).all():
        db.execute(table.update().where(table.c.id == sa.bindparam("row_id")),
                   [{"row_id": row.id, **change(row)} for row in rows])
        last = rows[-1].id


def upgrade():
    op.drop_index("statuses_pending", "statuses")
    op.rename_table("statuses", "records_owed")
    with op.batch_alter_table("records_owed") as batch:
        batch.alter_column("message_id", new_column_name="subject", existing_type=sa.String(1000),
                           existing_nullable=False)
        batch.add_column(sa.Column("fields", sa.Text, nullable=False, server_default="{}"))
    table = sa.table("records_owed", *(sa.column(name) for name in (
        "id", "kind", "subject", "state", "reason", "at", "synced_at", "fields")))
    _rewrite(table, (table.c.kind, table.c.subject, table.c.state, table.c.reason, table.c.at, table.c.synced_at),
             lambda row: {"fields": json.dumps(_fields(row), ensure_ascii=False), "kind": KINDS[row.kind]})
    with op.batch_alter_table("records_owed") as batch:
        for name in ("state", "reason", "at", "synced_at"):
            batch.drop_column(name)
        batch.alter_column("fields", server_default=None, existing_type=sa.Text, existing_nullable=False)
        batch.alter_column("kind", server_default=None, existing_type=sa.String(16), existing_nullable=False)
    op.create_index("records_owed_pending", "records_owed", ["box_id", "delivered_at"])


def downgrade():
    op.drop_index("records_owed_pending", "records_owed")
    with op.batch_alter_table("records_owed") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("reason", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("at", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("synced_at", sa.Integer))
        batch.alter_column("kind", server_default="message", existing_type=sa.String(16), existing_nullable=False)
    table = sa.table("records_owed", *(sa.column(name) for name in (
        "id", "kind", "fields", "state", "reason", "at", "synced_at")))
    back = {new: old for old, new in KINDS.items()}
    _rewrite(table, (table.c.kind, table.c.fields), lambda row: {**_columns(row), "kind": back[row.kind]})
    with op.batch_alter_table("records_owed") as batch:
        batch.drop_column("fields")
        batch.alter_column("subject", new_column_name="message_id", existing_type=sa.String(1000),
                           existing_nullable=False)
        batch.alter_column("state", server_default=None, existing_type=sa.String(16), existing_nullable=False)
        batch.alter_column("at", server_default=None, existing_type=sa.Integer, existing_nullable=False)
    op.rename_table("records_owed", "statuses")
    op.create_index("statuses_pending", "statuses", ["box_id", "delivered_at"])
