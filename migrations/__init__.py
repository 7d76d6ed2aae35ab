"""Alembic migrations, one script folder per database: ``appliance`` and ``relay``.

Both sides call :func:`upgrade` from their ``migrate`` command and
:func:`check_current` before they serve.
"""

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pouch.runtime.database import create_engine

HERE = Path(__file__).resolve().parent
DATABASES = ("appliance", "relay")


class SchemaOutOfDate(RuntimeError):
    """The database is not at the revision this code needs."""


def alembic_config(database, url):
    if database not in DATABASES:
        raise ValueError(f"no migrations for a database called {database!r}")
    config = Config()
    config.set_main_option("script_location", str(HERE / database))
    # Alembic's ini interpolation treats % specially; URLs may carry %-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_migrations_online(context):
    """The body of each database's env.py: run its migrations on a connection of our own engine."""
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def upgrade(database, url, revision="head"):
    command.upgrade(alembic_config(database, url), revision)


def head_revision(database, url):
    return ScriptDirectory.from_config(alembic_config(database, url)).get_current_head()


def current_revision(engine):
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_current(database, engine, command_name):
    """Raise SchemaOutOfDate, with what to run, unless ``engine`` is at head."""
    url = engine.url.render_as_string(hide_password=False)
    head = head_revision(database, url)
    current = current_revision(engine)
    if current != head:
        found = f"revision {current}" if current else "no schema"
        raise SchemaOutOfDate(
            f"the {database} database {engine.url.render_as_string()} has {found}, "
            f"this version needs revision {head}: run `{command_name} migrate` first"
        )


def migrate_command(database, url):
    upgrade(database, url)
    print(f"database {url} is at the current schema")


def engine_at_head(database, url, command_name):
    """An engine on ``url``; exits saying to run `migrate` when its schema is not current."""
    engine = create_engine(url)
    try:
        check_current(database, engine, command_name)
    except SchemaOutOfDate as error:
        engine.dispose()
        sys.exit(f"{command_name}: {error}")
    return engine
