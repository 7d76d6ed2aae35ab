"""Alembic environment of the appliance database."""

from alembic import context

import migrations

migrations.run_migrations_online(context)
