"""Importing a downloaded pouch is all or nothing, even when the process is killed
midway, and importing it again adds nothing."""

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

import migrations
from appliance.store import Store, sync_state, users
from appliance.store.tables import messages
from appliance.sync.importer import import_pouch
from pouch.container import PouchWriter
from pouch.runtime.database import create_engine
from pouch.records import MessageRecord
from tests.relay.conftest import ROOT_DIR

DOMAIN = "goma.relay.test"
COUNT = 1500
NAME = "goma/down/0001.pouch"
IMPORT = ("import sys; from appliance.store import Store; from pouch.runtime.database import create_engine; "
          "from appliance.sync.importer import import_pouch; "
          "import_pouch(Store(create_engine(sys.argv[1]), sys.argv[2], sys.argv[3]), "
          "__import__('pathlib').Path(sys.argv[4]), sys.argv[5])")


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'box.db'}"
    migrations.upgrade("appliance", url)
    store = Store(create_engine(url), tmp_path, DOMAIN)
    with store.write() as conn:
        users.create_user(conn, "marie", DOMAIN, "correct horse battery")
    yield store
    store.engine.dispose()


@pytest.fixture
def pouch_file(tmp_path):
    path = tmp_path / "down.pouch"
    with open(path, "wb") as out, PouchWriter(out, sender="relay", recipient="goma") as writer:
        for index in range(COUNT):
            writer.add(MessageRecord(
                id=f"in-{index}", from_=[("Ami", "ami@example.org")], to=[("", f"marie@{DOMAIN}")],
                subject=f"news {index}", date=1_790_000_000 + index, body=f"Hello number {index}. " * 20,
                body_type="text", recipients=[f"marie@{DOMAIN}"]))
    return path


def imported(store):
    with store.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
        return count, NAME in sync_state.unacked(conn)


def test_a_killed_import_leaves_all_or_nothing(store, tmp_path, pouch_file):
    url = str(store.engine.url)
    for delay in (0.8, 1.2, 1.6, 2.0):
        process = subprocess.Popen([sys.executable, "-c", IMPORT, url, str(tmp_path), DOMAIN,
                                    str(pouch_file), NAME], cwd=ROOT_DIR)
        time.sleep(delay)
        process.kill()
        process.wait(10)
        assert imported(store) in [(0, False), (COUNT, True)]
    import_pouch(store, pouch_file, NAME)
    assert imported(store) == (COUNT, True)
    assert import_pouch(store, pouch_file, NAME).messages == COUNT  # read again ...
    assert imported(store) == (COUNT, True)  # ... but nothing added twice
