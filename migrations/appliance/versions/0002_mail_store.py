"""The mail store: users, messages stored once with a per-user view, threads,
contacts, attachments, full-text search, the change log and sync history.

Revision ID: a0002
Revises: a0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column("origin_id", sa.String(200), nullable=True, unique=True),
        sa.Column("sender_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("from_json", sa.Text, nullable=False),
        sa.Column("to_json", sa.Text, nullable=False),
        sa.Column("cc_json", sa.Text, nullable=False),
        sa.Column("bcc_json", sa.Text, nullable=False),
        sa.Column("reply_to_json", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("date", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False, index=True),
        sa.Column("in_reply_to", sa.String(300), nullable=True),
        sa.Column("references", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("body_type", sa.String(8), nullable=False),
        sa.Column("snippet", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("state_at", sa.Integer, nullable=True),
        sa.Column("envelope_json", sa.Text, nullable=False, server_default="[]"),
        sa.Index("ix_messages_state_sender", "state", "sender_user_id"),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("last_date", sa.Integer, nullable=False),
        sa.Index("ix_threads_user_subject", "user_id", "subject_key"),
    )
    op.create_table(
        "user_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("thread_id", sa.Integer, sa.ForeignKey("threads.id"), nullable=False),
        sa.Column("folder", sa.String(16), nullable=False),
        sa.Column("is_read", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("starred", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("date", sa.Integer, nullable=False),
        sa.UniqueConstraint("user_id", "message_id"),
        sa.Index("ix_user_messages_folder", "user_id", "folder", "date"),
        sa.Index("ix_user_messages_unread", "user_id", "folder", "is_read"),
        sa.Index("ix_user_messages_thread", "thread_id", "date"),
        sa.Index("ix_user_messages_message", "message_id"),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("cid", sa.String(255), nullable=True),
        sa.Column("inline", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("last_seen", sa.Integer, nullable=False),
        sa.Column("times", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("user_id", "email"),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=True, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.Integer, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("at", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.Integer, nullable=False),
        sa.Column("finished_at", sa.Integer, nullable=True),
        sa.Column("ok", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("bytes_up", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bytes_down", sa.Integer, nullable=False, server_default="0"),
        sa.Column("messages_up", sa.Integer, nullable=False, server_default="0"),
        sa.Column("messages_down", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    # Full-text index of messages (rowid = messages.id); accents fold so "ecole" finds "école".
    # `owners` holds a token per user who has the message, so a search only ranks that user's mail.
    op.execute("CREATE VIRTUAL TABLE message_search USING fts5("
               "subject, addresses, body, owners, tokenize = 'unicode61 remove_diacritics 2')")


def downgrade():
    op.execute("DROP TABLE message_search")
    for table in ("sync_runs", "changes", "contacts", "attachments", "user_messages",
                  "threads", "messages", "users"):
        op.drop_table(table)
