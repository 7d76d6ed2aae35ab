"""SQLAlchemy engines for both sides: SQLite files in WAL mode, or PostgreSQL."""

import sqlalchemy
from sqlalchemy import event
from pathlib import Path


def create_engine(url, **kwargs):
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    engine_url = sqlalchemy.engine.make_url(url)
    if engine_url.get_backend_name() != "sqlite":
        return sqlalchemy.create_engine(url, pool_pre_ping=True, future=True, **kwargs)
    if engine_url.database and engine_url.database != ":memory:":
        Path(engine_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(url, future=True, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record):
    # FULL: a commit survives power loss, so mail is durable before it is acknowledged.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
