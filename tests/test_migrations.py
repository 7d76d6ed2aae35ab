"""The table definitions the code queries (`relay/schema.py`, `appliance/store/tables.py`) are
what the migrations build: a fresh database migrated to head is compared with them by alembic's
autogenerate, and any difference (a table, column, type, nullability, index, key) fails."""

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import migrations
import appliance.store
from appliance.store import tables as appliance_tables
from pouch.runtime.database import create_engine
from relay import schema as relay_schema

# The box's tables are defined in several modules of its store, all on one metadata.
for module in pkgutil.iter_modules(appliance.store.__path__, "appliance.store."):
    importlib.import_module(module.name)
METADATA = {"appliance": appliance_tables.metadata, "relay": relay_schema.metadata}
# SQLite's full-text index of the box (migration a0002) is no SQLAlchemy table: the search
# module queries it in SQL; these are its virtual table and the tables FTS5 keeps beside it.
FULL_TEXT = "message_search"
# SQLite's own bookkeeping (AUTOINCREMENT's counters), which alembic 1.8 (Debian's) still reflects.
SQLITE_INTERNAL = "sqlite_"


def compared(obj, name, kind, reflected, compare_to):
    return not (kind == "table" and name.startswith((FULL_TEXT, SQLITE_INTERNAL)))


def differences(database, url):
    migrations.upgrade(database, url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                 "include_object": compared})
            return compare_metadata(context, METADATA[database])
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["appliance", "relay"])
def test_a_migrated_sqlite_database_is_what_the_tables_say(database, tmp_path):
    assert differences(database, f"sqlite:///{tmp_path / 'migrated.db'}") == []


def test_a_migrated_postgresql_relay_database_is_what_the_tables_say(postgres_url):
    assert differences("relay", postgres_url) == []


def test_a_difference_is_seen(tmp_path):
    """The check can fail: a database one migration short differs from the tables."""
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    migrations.upgrade("appliance", url, "a0007")
    engine = create_engine(url)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), appliance_tables.metadata)
    engine.dispose()
    assert found
