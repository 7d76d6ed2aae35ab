"""Fixture `migrate`: a database at the head of its migrations, without running them per test.

``migrate(database, url)`` does what ``migrations.upgrade(database, url)`` does to a new, empty
database (``database``: "appliance" or "relay"; ``url``: a SQLite file, or a database of the
`postgres_url` cluster), from a copy of one migrated once per session: running the chain takes
a second or more, copying it a few milliseconds.  Every test still gets a database of its own.
"""

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

import migrations


@pytest.fixture(scope="session")
def migrate(tmp_path_factory):
    templates = {}

    def template(database, url):
        key = (database, url.get_backend_name(), url.host, url.port)
        if key not in templates:
            if url.get_backend_name() == "sqlite":
                made = url.set(database=str(tmp_path_factory.mktemp("schema") / f"{database}.db"))
            else:
                made = url.set(database=f"template_{database}")
                _admin(url, f'CREATE DATABASE "{made.database}"')
            migrations.upgrade(database, made.render_as_string(hide_password=False))
            templates[key] = made
        return templates[key]

    def migrate(database, url):
        url = sa.engine.make_url(url)
        if url.get_backend_name() == "sqlite":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # as the real engine does
            with sqlite3.connect(template(database, url).database) as source, \
                    sqlite3.connect(url.database) as target:
                source.backup(target)
            source.close()
            target.close()
        elif url.get_backend_name() == "postgresql":
            made = template(database, url)
            _admin(url, f'DROP DATABASE "{url.database}"')
            _admin(url, f'CREATE DATABASE "{url.database}" TEMPLATE "{made.database}"')
        else:
            migrations.upgrade(database, url.render_as_string(hide_password=False))
    return migrate


def _admin(url, statement):
    """Run ``statement`` outside a transaction, on the cluster's own database."""
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()
