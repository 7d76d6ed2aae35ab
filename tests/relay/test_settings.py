"""Relay settings: defaults follow data_dir; a plain PostgreSQL URL uses the driver the relay ships with."""

from pathlib import Path

from relay import settings as relay_settings


def test_folders_and_database_follow_data_dir():
    settings = relay_settings.load(environ={"MAILPOUCH_RELAY_DATA_DIR": "/srv/relay"})
    assert settings.relay.database == "sqlite:////srv/relay/relay.db"
    assert settings.blob_folder == Path("/srv/relay/blobs") and settings.sent_folder == Path("/srv/relay/sent")


def test_plain_postgresql_url_uses_psycopg2():
    settings = relay_settings.load(environ={"MAILPOUCH_RELAY_DATABASE_URL": "postgresql://mailpouch@/mailpouch"})
    assert settings.relay.database == "postgresql+psycopg2://mailpouch@/mailpouch"
