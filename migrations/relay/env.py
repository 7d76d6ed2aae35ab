"""Alembic environment of the relay database."""

from alembic import context

import migrations

migrations.run_migrations_online(context)
