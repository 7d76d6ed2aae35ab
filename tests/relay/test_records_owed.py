"""Records owed to a box: r0010 keeps what the statuses table held, and the relay owes only
records a box takes."""

import pytest
import sqlalchemy as sa
from alembic import command

import migrations
from pouch.records import STATUS_FAILED, AccountRecord, AccountStatusRecord, FlagRecord, StatusRecord
from pouch.runtime.database import create_engine
from relay import owed
from relay.schema import records_owed

OLD_ROWS = [  # as r0009 held them: the fate of a sent message, an account's state, read state
    {"kind": "message", "message_id": "out-1", "state": "failed", "reason": "550 no such user", "at": 100,
     "synced_at": None},
    {"kind": "account", "message_id": "a1", "state": "error", "reason": "wrong password", "at": 200,
     "synced_at": 150},
    {"kind": "flag", "message_id": "417", "state": "seen", "reason": "", "at": 300, "synced_at": None},
]
RECORDS = [StatusRecord("out-1", "failed", 100, "550 no such user"), AccountStatusRecord("a1", "error", 200,
           "wrong password", 150), FlagRecord("417", True, 300)]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'relay.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    migrations.upgrade("relay", url, "r0009")
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO boxes (id, name, domain, created_at) VALUES (1, 'goma', 'goma.relay.test', 0)"))
        for row in OLD_ROWS:
            db.execute(sa.text("INSERT INTO statuses (box_id, kind, message_id, state, reason, at, synced_at, "
                               "pouch_name) VALUES (1, :kind, :message_id, :state, :reason, :at, :synced_at, NULL)"),
                       row)
    engine.dispose()
    return url


def test_r0010_keeps_every_status_as_the_record_it_stands_for_and_back(url):
    migrations.upgrade("relay", url)
    engine = create_engine(url)
    with engine.connect() as db:
        assert [owed.record_of(row) for row in owed.pending(db, 1)] == RECORDS
        assert db.execute(sa.select(records_owed.c.kind, records_owed.c.subject)).all() == [
            ("status", "out-1"), ("account status", "a1"), ("flag", "417")]
    engine.dispose()

    command.downgrade(migrations.alembic_config("relay", url), "r0009")
    engine = create_engine(url)
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT kind, message_id, state, reason, at, synced_at FROM statuses "
                                  "ORDER BY id")).mappings().all()
    engine.dispose()
    assert [dict(row) for row in rows] == OLD_ROWS


def test_a_record_owed_replaces_the_one_about_its_subject_still_waiting(url):
    migrations.upgrade("relay", url)
    engine = create_engine(url)
    with engine.begin() as db:
        owed.owe(db, 1, AccountStatusRecord("a1", "syncing", 400), replace=True)
        owed.owe(db, 1, StatusRecord("out-2", STATUS_FAILED, 500, "refused"))
        assert [owed.record_of(row) for row in owed.pending(db, 1)] == [
            RECORDS[0], AccountStatusRecord("a1", "syncing", 400), RECORDS[2], StatusRecord("out-2", "failed", 500,
                                                                                            "refused")]
        with pytest.raises(ValueError, match="a relay does not send account records"):
            owed.owe(db, 1, AccountRecord("a1", "amani@goma", "amani@gmail.com", "active"))
    engine.dispose()
