"""Mail the relay cannot convert or pack is set aside, never blocking the box's other mail;
operators see it (status page, /metrics, `mailpouch-relay mail`) and retry or drop it."""

import asyncio
import logging
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from pouch import mime
from pouch.records import MessageRecord
from relay.inbound import preparation
from relay.schema import inbound
from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, ROOT_DIR, deliver, relay_environ

OPERATOR = (OPERATOR_USER, OPERATOR_PASSWORD)
MARIE = "marie@goma.relay.test"
GOOD = 100
BAD_SUBJECT = "The one that will not pack"


@pytest.fixture
def cli(settings, database_url, http_port):
    """Run the real `mailpouch-relay` against the test relay's database: (exit code, what it
    printed: its output, or its error when it failed)."""
    environ = dict(os.environ, **relay_environ(settings.relay.data_dir, database_url, http_port))

    async def run(*args):
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "relay.cli", *args], cwd=ROOT_DIR,
                                       env=environ, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout if done.returncode == 0 else done.stderr
    return run


def inbound_id(relay, subject):
    for row in relay.engine.connect().execute(sa.select(inbound.c.id, inbound.c.raw)).all():
        if f"Subject: {subject}".encode() in row.raw:
            return row.id
    raise AssertionError(f"no inbound message {subject!r}")


def corrupt_payload(relay, monkeypatch, bad_id):
    """The bad message's prepared payload is damaged: a retry prepares it again from its raw MIME."""
    preparation.prepare_some(relay.engine, limit=GOOD + 1)
    with relay.engine.begin() as db:
        db.execute(inbound.update().where(inbound.c.id == bad_id).values(prepared=b"\x93\x01\xc1damaged"))


def converter_fails(relay, monkeypatch, bad_id, background=True):
    """Converting the bad message raises (a bug, not a MimeError) until the test removes the cause;
    in the background's preparation, or in the sync's own for mail not prepared yet."""
    parse = mime.parse

    def failing(raw, record_id, *args, **kwargs):
        if record_id == str(bad_id):
            raise RuntimeError("a bug the converter has for this one message")
        return parse(raw, record_id, *args, **kwargs)

    monkeypatch.setattr(mime, "parse", failing)
    if background:
        preparation.prepare_some(relay.engine, limit=GOOD + 1)


def record_refused(relay, monkeypatch, bad_id):
    """The record the bad message converts to would be refused by the pouch (a RecordError)."""
    record = preparation.message_record

    def refused(raw, record_id, *args):
        built, blobs = record(raw, record_id, *args)
        if record_id == str(bad_id):
            built.from_ = "not a list of addresses"
        return built, blobs

    monkeypatch.setattr(preparation, "message_record", refused)


CAUSES = {"corrupt payload": corrupt_payload, "converter raises in the background": converter_fails,
          "converter raises during the sync": lambda *a: converter_fails(*a, background=False),
          "record refused by the pouch": record_refused}


async def relay_with_one_bad_message(relay, monkeypatch, cause):
    box = await relay.register("goma")
    for index in range(GOOD):
        await deliver(relay, MARIE, subject=f"Good {index}", body=f"message {index}")
    await deliver(relay, MARIE, subject=BAD_SUBJECT, body="odd")
    bad_id = inbound_id(relay, BAD_SUBJECT)
    CAUSES[cause](relay, monkeypatch, bad_id)
    return box, bad_id


async def page(relay, path):
    response = await relay.request(path, method="GET", auth=OPERATOR)
    assert response.code == 200
    return response.body.decode()


def subjects(records):
    return sorted(record.subject for record in records if isinstance(record, MessageRecord))


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.gen_test(timeout=120)
async def test_one_message_that_cannot_pack_never_holds_up_the_hundred_beside_it(
        relay, tmp_path, monkeypatch, cli, caplog, cause):
    caplog.set_level(logging.WARNING, logger="relay.quarantine")
    box, bad_id = await relay_with_one_bad_message(relay, monkeypatch, cause)

    names, records = await box.receive(tmp_path)  # answered 200, whatever the one message does
    assert subjects(records) == sorted(f"Good {index}" for index in range(GOOD))
    print(f"\n{cause}: {len(subjects(records))} of {GOOD + 1} messages delivered in {len(names)} pouch(es)")
    again = await box.sync()  # set aside: not offered again, nor retried at every sync
    assert again["downloads"] == []
    while preparation.prepare_some(relay.engine):  # the background's turn: it leaves the one aside
        pass
    [logged] = [r.getMessage() for r in caplog.records if "mail set aside" in r.getMessage()]  # once
    assert f"inbound={bad_id}" in logged

    code, listed = await cli("mail", "list", "--quarantined")
    assert code == 0, listed
    [line] = listed.splitlines()[1:]
    assert line.split()[:2] == [str(bad_id), "goma"] and "quarantined" in line, listed
    status = await page(relay, "/status")
    assert "Quarantined mail" in status and f"<tr><td>{bad_id}</td><td>goma</td>" in status
    assert 'mailpouch_relay_quarantined_messages{box="goma"} 1' in await page(relay, "/metrics")
    code, shown = await cli("mail", "show", str(bad_id))
    assert code == 0 and BAD_SUBJECT in shown and "box goma (marie@goma.relay.test): quarantined" in shown

    monkeypatch.undo()  # the cause is gone
    code, said = await cli("mail", "retry", str(bad_id))
    assert code == 0 and f"message {bad_id} is offered again" in said, said
    _, records = await box.receive(tmp_path)
    assert subjects(records) == [BAD_SUBJECT]
    assert (await box.sync())["downloads"] == []  # delivered once
    assert 'mailpouch_relay_quarantined_messages{box="goma"} 0' in await page(relay, "/metrics")
    code, listed = await cli("mail", "list", "--quarantined")
    assert code == 0 and listed.splitlines()[1:] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.gen_test(timeout=90)
async def test_mail_that_still_fails_is_set_aside_again_and_dropped_mail_is_done(relay, tmp_path, monkeypatch, cli):
    box, bad_id = await relay_with_one_bad_message(relay, monkeypatch, "converter raises during the sync")
    await box.receive(tmp_path)
    await deliver(relay, MARIE, subject="Still waiting")
    code, listed = await cli("mail", "list")
    states = [(line.split()[0], line.split()[6]) for line in listed.splitlines()[1:]]  # ID, STATE
    assert code == 0 and states == [(str(bad_id), "quarantined"), (str(bad_id + 1), "waiting")], listed

    code, _ = await cli("mail", "retry", str(bad_id))  # the cause is still there
    assert code == 0
    _, records = await box.receive(tmp_path)
    assert subjects(records) == ["Still waiting"]
    code, listed = await cli("mail", "list", "--quarantined")
    assert code == 0 and [line.split()[0] for line in listed.splitlines()[1:]] == [str(bad_id)]
    assert (await box.sync())["downloads"] == []  # only the one set aside was pending: no empty pouch

    code, said = await cli("mail", "retry", "999999")
    assert code != 0 and "no message 999999" in said
    code, said = await cli("mail", "drop", str(bad_id))
    assert code == 0 and f"message {bad_id} is dropped" in said, said
    assert (await box.sync())["downloads"] == []
    metrics = await page(relay, "/metrics")
    assert 'mailpouch_relay_quarantined_messages{box="goma"} 0' in metrics
    assert 'mailpouch_relay_pending_messages{box="goma"} 0' in metrics
    assert f"mailpouch_relay_inbound_messages_total {GOOD + 2}" in metrics  # counters never go back
    code, shown = await cli("mail", "show", str(bad_id))
    assert code == 0 and "box goma (marie@goma.relay.test): dropped" in shown
    code, said = await cli("mail", "retry", str(bad_id))
    assert code != 0 and "is not quarantined" in said
