"""Dates never lose mail: a message's date travels signed, and one that does not read is
replaced by a usable one (its Received stamp, else when the relay got it)."""

import json

import pytest

from pouch import mime
from pouch.records import MessageRecord
from relay.inbound import preparation
from tests.pouch.test_cli import run
from tests.pouch.test_container import read_all, write_pouch

ARRIVED = 1796551200  # 6 Dec 2026


def message(date_header=None, received=None):
    lines = ["From: ami@example.org", "To: marie@goma.relay.test", "Subject: Dated"]
    lines += [f"Received: from mx.example.org by mx.sendgrid.net; {received}"] if received else []
    lines += [f"Date: {date_header}"] if date_header else []
    return ("\r\n".join(lines) + "\r\n\r\nHello.\r\n").encode()


@pytest.mark.parametrize("seconds", [-2**63, -14182940, 0, 7258154400, 2**63 - 1])
def test_any_signed_64_bit_date_travels(seconds):
    record = MessageRecord(id="m1", from_=[("", "ami@example.org")], date=seconds)
    _, [back] = read_all(write_pouch(lambda pouch: pouch.add(record)))
    assert back.date == seconds


@pytest.mark.parametrize("seconds", [2**63, 1.5, True, "1969"])
def test_a_date_that_is_no_64_bit_whole_number_is_refused_with_its_reason(seconds):
    record = MessageRecord(id="m1", from_=[("", "ami@example.org")], date=seconds)
    with pytest.raises(ValueError, match="message.date should be a whole number of seconds"):
        write_pouch(lambda pouch: pouch.add(record))


@pytest.mark.parametrize("header, received, seconds", [
    ("Sun, 20 Jul 1969 20:17:40 +0000", None, -14182940),
    ("Wed, 1 Jan 2200 10:00:00 +0000", None, 7258154400),
    (None, "Sun, 6 Dec 2026 10:00:00 +0000", 1796551200),  # no Date: when a server stamped it
    ("not a date at all", "Sun, 6 Dec 2026 10:00:00 +0000", 1796551200),
    ("Sat, 1 Jan 10000 00:00:00 +0000", None, ARRIVED),  # out of any sane range: when it arrived
    (None, None, ARRIVED),
    ("the day after tomorrow", None, ARRIVED),
])
def test_the_relay_dates_mail_by_its_header_else_its_received_stamp_else_its_arrival(header, received, seconds):
    record, _ = preparation.message_record(message(header, received), "1", "ami@example.org", ARRIVED)
    assert record.date == seconds
    _, [back] = read_all(write_pouch(lambda pouch: pouch.add(record)))
    assert back.date == seconds


def test_unreadable_mail_travelling_as_an_attachment_is_dated_its_arrival(monkeypatch):
    def unreadable(raw, record_id):
        raise mime.MimeError("no")

    monkeypatch.setattr(mime, "parse", unreadable)
    record, _ = preparation.message_record(message("Sun, 20 Jul 1969 20:17:40 +0000"), "1", "a@b.c", ARRIVED)
    assert record.date == ARRIVED and record.attachments[0].name == "original.eml"


def test_inspect_shows_dates_before_1970_and_beyond_year_9999(tmp_path):
    path = tmp_path / "dated.pouch"
    path.write_bytes(write_pouch(lambda pouch: [
        pouch.add(MessageRecord(id=f"m{seconds}", from_=[("", "ami@example.org")], date=seconds))
        for seconds in (-14182940, 2**62)]))
    result = run("inspect", path, "--json")
    assert result.returncode == 0, result.stderr
    assert [r["date"] for r in json.loads(result.stdout)["records"]] == ["1969-07-20T20:17:40Z", str(2**62)]
