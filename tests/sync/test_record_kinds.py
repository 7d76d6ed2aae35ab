"""Record kinds are declared once (pouch.container.wire.KINDS), and each side has a handler
for every kind the other side sends: a kind added on one side and forgotten on the other
fails here, not in a box's import at night.  A kind a side does not take is skipped with
a logged reason; the records beside it go on."""

import logging

from appliance.sync import importer
from pouch import cli
from pouch.container import PouchWriter, wire
from pouch.records import STATUS_SENT, AccountRecord, MessageRecord, StatusRecord
from relay.boxsync import takeover
from tests.sync.test_import import DOMAIN, imported, store  # noqa: F401 (fixture)


def test_every_kind_is_declared_once_with_a_number_a_name_and_a_class_of_its_own():
    for attribute in ("code", "name", "record"):
        values = [getattr(kind, attribute) for kind in wire.KINDS]
        assert len(set(values)) == len(values), attribute
    assert all(kind.sent_by and set(kind.sent_by) <= {wire.BOX, wire.RELAY} for kind in wire.KINDS)


def test_the_box_takes_every_kind_the_relay_sends():
    assert set(importer.TAKES) == wire.sent_by(wire.RELAY)


def test_the_relay_takes_every_kind_a_box_sends():
    assert set(takeover.TAKES) == wire.sent_by(wire.BOX)


def test_inspect_shows_every_kind():
    assert set(cli.SHOWN) == set(wire.NAMES)


def message(record_id):
    return MessageRecord(id=record_id, from_=[("Ami", "ami@example.org")], to=[("", f"marie@{DOMAIN}")],
                         subject="hello", date=1_790_000_000, body="Hello.", recipients=[f"marie@{DOMAIN}"])


def write(path, *records):
    with open(path, "wb") as out, PouchWriter(out, sender="test", recipient="test") as writer:
        for record in records:
            writer.add(record)
    return path


def test_the_box_skips_a_kind_only_boxes_send_and_imports_the_mail_beside_it(store, tmp_path, caplog):  # noqa: F811
    account = AccountRecord("a1", f"marie@{DOMAIN}", "marie@gmail.com", "active")
    path = write(tmp_path / "down.pouch", message("in-1"), account, message("in-2"))

    with caplog.at_level(logging.WARNING):
        result = importer.import_pouch(store, path, "goma/down/0001.pouch")

    assert result.messages == 2
    assert imported(store) == (2, True)
    assert "1 account record(s) skipped: the box does not take that kind" in caplog.text


def test_the_relay_skips_a_kind_only_relays_send_and_takes_the_mail_beside_it(tmp_path, caplog):
    status = StatusRecord("m0", STATUS_SENT, 1_790_000_000)
    path = write(tmp_path / "up.pouch", message("out-1"), status)

    with caplog.at_level(logging.WARNING):
        upload = takeover.read_upload(path, 1 << 20, tmp_path)
    try:
        assert [record.id for record in upload.messages] == ["out-1"]
    finally:
        upload.messages.close()
    assert "1 status record(s) skipped: the relay does not take that kind" in caplog.text
