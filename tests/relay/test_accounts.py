"""External IMAP accounts, relay side: a box adds an account in a pouch, the relay syncs it
from a real Dovecot and queues its mail for the box, tagged with the account."""

import datetime
import socket
import time

import imapclient
import pytest
import sqlalchemy as sa

from pouch import mime
from pouch.records import ACCOUNT_PAUSED, ACCOUNT_REMOVED, FlagRecord
from relay.accounts import mailmap
from relay.schema import records_owed
from tests.relay.accounts_support import (ACCOUNT_ID, ADDRESS, FAST, OWNER, PASSWORD, account_record, account_row,
                                          accounts_running, database_url, mapped, message, queued_subjects,
                                          received, relay_overrides, settings_for, until, upload)
from tests.relay.test_boxes import cli_env, run_cli
from tests.relay.test_status import OPERATOR
from tests.support.dovecot import trust

__all__ = ["cli_env", "database_url", "relay_overrides"]  # fixtures, imported by name

FAST_SMALL_BATCHES = dict(FAST, accounts_batch=3)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.gen_test(timeout=60)
async def test_initial_sync_brings_the_last_days_newest_first_tagged_with_the_account(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("two days", 2), message("old", 45), message("today", 0.1, seen=True),
                           message("a week", 7), message("older", 31), message("yesterday", 1)])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, days=30)))
    async with accounts_running(relay):
        await until(lambda: len(queued_subjects(relay)) == 4, "the four recent messages queued")
        assert queued_subjects(relay) == ["today", "yesterday", "two days", "a week"]
        # The round's sync time is recorded just after its mail is queued.
        await until(lambda: account_row(relay)["synced_at"], "the round reported")
        mail, account_statuses = await received(box, tmp_path)
    assert [m.subject for m in mail] == ["today", "yesterday", "two days", "a week"]
    assert all(m.recipients == [OWNER] and m.extra["account"] == ACCOUNT_ID for m in mail)
    assert [m.extra.get("seen", False) for m in mail] == [True, False, False, False]
    [status] = account_statuses
    assert status.id == ACCOUNT_ID and status.state == "syncing" and status.error == ""
    assert time.time() - 60 < status.synced_at <= time.time()
    # Fetching does not mark anything read on the server.
    assert dovecot.seen_subjects(ADDRESS) == {"two days": False, "old": False, "today": True, "a week": False,
                                              "older": False, "yesterday": False}
    assert account_row(relay)["sync_state"] == "syncing"


@pytest.mark.parametrize("relay_overrides", [dict(FAST, inbound_max_message_bytes=40_000)])
@pytest.mark.gen_test(timeout=60)
async def test_mail_over_the_relays_limit_comes_as_a_notice_saying_where_it_is(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    big_raw, arrived, _ = message("=?utf-8?q?Photos_de_l=E2=80=99=C3=A9cole?=", 1, body="x" * 60_000)
    dovecot.seed(ADDRESS, [(big_raw, arrived, False), message("small", 0.5)])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    async with accounts_running(relay):
        await until(lambda: len(queued_subjects(relay)) == 2, "both messages queued")
        mail, _ = await received(box, tmp_path)
    small, notice = mail
    assert small.subject == "small" and "x" * 100 not in notice.body
    assert notice.subject == "Photos de l\u2019\u00e9cole" and notice.from_ == [("Ami", "ami@elsewhere.example")]
    assert f"is {round(len(big_raw) / 1024)} KB, more than the 39 KB" in notice.body and ADDRESS in notice.body
    assert notice.message_id == mime.parse(big_raw, "x").record.message_id  # replies thread with the original
    assert notice.extra["account"] == ACCOUNT_ID and notice.recipients == [OWNER]


@pytest.mark.gen_test(timeout=60)
async def test_new_mail_arriving_while_idle_is_queued_within_seconds(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("already there")])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    async with accounts_running(relay):
        await until(lambda: queued_subjects(relay) == ["already there"], "the initial sync")
        await received(box, tmp_path)
        for subject in ("news 1", "news 2"):
            raw, _, _ = message(subject)
            started = time.monotonic()
            dovecot.deliver(ADDRESS, raw)
            await until(lambda: subject in queued_subjects(relay), f"{subject} queued", timeout_s=5)
            assert time.monotonic() - started < 5
        mail, _ = await received(box, tmp_path)
    assert [m.subject for m in mail] == ["news 1", "news 2"]


@pytest.mark.gen_test(timeout=60)
async def test_a_new_uidvalidity_resyncs_without_duplicating_what_the_box_has(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message(f"before {n}", n) for n in range(3)])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    async with accounts_running(relay):
        await until(lambda: len(queued_subjects(relay)) == 3, "the initial sync")
    old = {row["uidvalidity"] for row in mapped(relay)}
    await received(box, tmp_path)

    # The server is rebuilt while the relay is away: same mail, new UIDVALIDITY, and one more message.
    dovecot.change_uidvalidity(ADDRESS, 4242)
    dovecot.deliver(ADDRESS, message("after")[0])
    async with accounts_running(relay):
        await until(lambda: {row["uidvalidity"] for row in mapped(relay)} == {4242} and len(mapped(relay)) == 4,
                    "every message bound under the new UIDVALIDITY")
        await until(lambda: "after" in queued_subjects(relay), "the new message queued")
    assert old != {4242}
    assert sorted(queued_subjects(relay)) == ["after", "before 0", "before 1", "before 2"]
    mail, _ = await received(box, tmp_path)
    assert [m.subject for m in mail] == ["after"]


# Dovecot delays logins from an address that just failed one (its anvil penalty): a longer timeout.
@pytest.mark.parametrize("relay_overrides", [dict(FAST, accounts_timeout_s=15)])
@pytest.mark.gen_test(timeout=60)
async def test_a_wrong_password_is_an_error_the_box_and_operator_see_and_is_not_hammered(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("waiting")])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, password="wrong")))
    async with accounts_running(relay) as supervisor:
        row = await until(lambda: (row := account_row(relay)) and row["sync_state"] == "error" and row,
                          "the account in error")
        assert "refused the user name or password" in row["last_error"] and ADDRESS in row["last_error"]
        for _ in range(10):  # the supervisor keeps ticking; the account waits for new settings
            await supervisor.tick()
        assert dovecot.log().count("auth failed") == 1

        _, account_statuses = await received(box, tmp_path)
        assert [(s.id, s.state) for s in account_statuses] == [(ACCOUNT_ID, "error")]
        assert "refused the user name or password" in account_statuses[0].error
        page = (await relay.request("/status", method="GET", auth=OPERATOR)).body.decode()
        assert ADDRESS in page and "refused the user name or password" in page
        metrics = (await relay.request("/metrics", method="GET", auth=OPERATOR)).body.decode()
        assert 'mailpouch_relay_accounts{state="error"} 1' in metrics

        # The user types the right password on the box: the relay tries it at once.
        await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
        await until(lambda: queued_subjects(relay) == ["waiting"], "the mail, with the right password")
    assert account_row(relay)["sync_state"] == "syncing" and account_row(relay)["last_error"] == ""


@pytest.mark.parametrize("relay_overrides", [dict(FAST_SMALL_BATCHES)])
@pytest.mark.gen_test(timeout=90)
async def test_a_server_gone_mid_sync_loses_and_repeats_nothing_once_it_is_back(relay, dovecot, flaky_proxy,
                                                                              tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    subjects = [f"message {n:02}" for n in range(30)]
    dovecot.seed(ADDRESS, [message(subject, days_ago=n / 10, body="words " * 300)
                           for n, subject in enumerate(subjects)])
    proxy = flaky_proxy(dovecot.host, dovecot.port, rate_bps=400_000)  # a slow link: the sync takes seconds
    settings = dict(settings_for(dovecot), imap_port=proxy.port)
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings))
    async with accounts_running(relay):
        await until(lambda: len(queued_subjects(relay)) >= 5, "the first batches")
        dovecot.stop()
        proxy.cut_now()
        stopped_at = len(queued_subjects(relay))
        row = await until(lambda: (row := account_row(relay))["sync_state"] == "error" and row, "the error")
        assert stopped_at < len(subjects)
        assert "cannot reach" in row["last_error"] or "broke off" in row["last_error"]
        dovecot.start()
        await until(lambda: len(queued_subjects(relay)) == len(subjects), "the rest, once the server is back")
        await until(lambda: account_row(relay)["sync_state"] == "syncing", "syncing again")
    assert queued_subjects(relay) == subjects  # each once, newest first
    mail, _ = await received(box, tmp_path)
    assert sorted(m.subject for m in mail) == sorted(subjects)


@pytest.mark.gen_test(timeout=60)
async def test_read_state_set_on_the_box_reaches_the_imap_server(relay, dovecot, tmp_path):
    box = await box_with_account(relay, dovecot, tmp_path, message("unread", 1), message("read", 2, seen=True))
    async with accounts_running(relay):
        ids = await first_mail_ids(relay, box, tmp_path, 2)
        now = int(time.time())
        await upload(box, tmp_path, FlagRecord(ids["unread"], True, now), FlagRecord(ids["read"], False, now),
                     FlagRecord("999999", True, now))  # not a message of this box's accounts: ignored
        await until(lambda: dovecot.seen_subjects(ADDRESS) == {"unread": True, "read": False},
                    "the read state on Dovecot")
        await until(lambda: all(row["seen_wanted"] is None for row in mapped(relay)), "the wishes done")


@pytest.mark.gen_test(timeout=60)
async def test_read_state_set_by_another_client_reaches_the_box(relay, dovecot, tmp_path):
    box = await box_with_account(relay, dovecot, tmp_path, message("read on the phone", 1),
                                 message("read on the box", 2))
    async with accounts_running(relay):
        ids = await first_mail_ids(relay, box, tmp_path, 2)
        await upload(box, tmp_path, FlagRecord(ids["read on the box"], True, int(time.time())))
        await until(lambda: dovecot.seen_subjects(ADDRESS)["read on the box"], "the box's read state on Dovecot")

        with dovecot.client(ADDRESS) as phone:  # the user's phone reads the other one
            phone.select_folder("INBOX")
            phone.add_flags(phone.search(["SUBJECT", "read on the phone"]), [imapclient.SEEN])
        await until(lambda: owed_flags(relay) == 1, "the server's read state owed to the box")
        _, records = await box.receive(tmp_path)
        flags = [r for r in records if isinstance(r, FlagRecord)]
        # what the box itself asked for does not come back to it
        assert [(f.message_id, f.seen) for f in flags] == [(ids["read on the phone"], True)]


async def box_with_account(relay, dovecot, tmp_path, *seeded):
    """A box that added the Dovecot account holding ``seeded`` messages."""
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, list(seeded))
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    return box


async def first_mail_ids(relay, box, tmp_path, count):
    """{subject: record id} of the initial sync's ``count`` messages, once the box has them."""
    await until(lambda: len(queued_subjects(relay)) == count, "the initial sync")
    mail, _ = await received(box, tmp_path)
    return {m.subject: m.id for m in mail}


def owed_flags(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).where(records_owed.c.kind == "flag")).scalar()


@pytest.mark.gen_test(timeout=60)
async def test_pause_resume_and_remove(relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("first")])
    box = await relay.register("goma")
    settings = settings_for(dovecot)
    await upload(box, tmp_path, account_record(relay, settings))
    async with accounts_running(relay) as supervisor:
        await until(lambda: queued_subjects(relay) == ["first"], "the initial sync")
        await upload(box, tmp_path, account_record(relay, None, state=ACCOUNT_PAUSED))
        await supervisor.tick()
        assert supervisor.runners == {} and account_row(relay)["sync_state"] == "paused"
        dovecot.deliver(ADDRESS, message("while paused")[0])
        await supervisor.tick()
        assert queued_subjects(relay) == ["first"]
        mail, account_statuses = await received(box, tmp_path)
        assert [m.subject for m in mail] == ["first"] and account_statuses[-1].state == "paused"

        await upload(box, tmp_path, account_record(relay, None))  # resumed, settings unchanged
        await until(lambda: queued_subjects(relay) == ["first", "while paused"], "syncing again")

        await upload(box, tmp_path, account_record(relay, None, state=ACCOUNT_REMOVED))
        await supervisor.tick()
        assert supervisor.runners == {} and account_row(relay) is None and mapped(relay) == []
        mail, account_statuses = await received(box, tmp_path)
    assert [m.subject for m in mail] == ["while paused"]  # the mail already synced stays queued
    assert account_statuses[-1].state == "removed"


@pytest.mark.gen_test(timeout=60)
async def test_a_server_that_hangs_holds_up_no_other_account(relay, dovecot, tmp_path):
    silent = socket.socket()  # accepts connections (the kernel does) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("from the good server")])
    box = await relay.register("goma")
    hanging = dict(settings_for(dovecot), imap_port=silent.getsockname()[1])
    await upload(box, tmp_path, account_record(relay, hanging, account_id="hangs", address="x@hangs.example"),
                 account_record(relay, settings_for(dovecot)))
    try:
        async with accounts_running(relay):
            started = time.monotonic()
            await until(lambda: queued_subjects(relay) == ["from the good server"], "the good account's mail")
            assert time.monotonic() - started < relay.settings.accounts.timeout_s
            row = await until(lambda: (row := account_row(relay, "hangs"))["sync_state"] == "error" and row,
                              "the silent server's account in error")
            assert "did not answer in time" in row["last_error"]
    finally:
        silent.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.gen_test(timeout=60)
async def test_tls_and_starttls_with_a_verified_certificate(relay, dovecot, tmp_path, monkeypatch, security):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("over TLS")])
    box = await relay.register("goma")
    # Dovecot's certificate is signed by the tests' own CA: unknown to the relay at first.
    await upload(box, tmp_path, account_record(relay, dict(settings_for(dovecot, security=security),
                                                            imap_host="localhost")))
    async with accounts_running(relay) as supervisor:
        row = await until(lambda: (row := account_row(relay))["sync_state"] == "error" and row, "refused")
        assert "certificate" in row["last_error"] and "could not be verified" in row["last_error"]
        trust(monkeypatch, dovecot.ca_file)  # as an operator adding a private CA would
        await upload(box, tmp_path, account_record(relay, dict(settings_for(dovecot, security=security),
                                                                imap_host="localhost")))
        await until(lambda: queued_subjects(relay) == ["over TLS"], f"the mail over {security}")
        assert supervisor.runners


@pytest.mark.corpus
@pytest.mark.gen_test(timeout=90)
async def test_real_mail_from_the_corpus_arrives_once_each_as_the_box_would_show_it(relay, dovecot, corpus_dir,
                                                                                    tmp_path):
    # Three messages of each corpus project: odd MIME, charsets, big attachments, missing ids.
    paths = [path for folder in sorted(corpus_dir.iterdir()) if folder.is_dir()
             for path in sorted(folder.glob("*.eml"))[:3]]
    raws = [path.read_bytes() for path in paths]
    dovecot.add_user(ADDRESS, PASSWORD)
    now = datetime.datetime.now()
    dovecot.seed(ADDRESS, [(raw, now - datetime.timedelta(hours=index), False) for index, raw in enumerate(raws)])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    async with accounts_running(relay):
        await until(lambda: account_row(relay)["synced_at"], "the initial sync done", timeout_s=60)
    # Each message once, as the box shows it; of messages sharing a Message-ID, the newest is kept.
    expected = {}
    for raw in raws:  # newest first
        expected.setdefault(mailmap.key_of(mime.parse(raw, "x").record.message_id or None, raw), raw)
    assert len(mapped(relay)) == len(expected)
    mail, _ = await received(box, tmp_path)
    assert sorted(m.subject for m in mail) == sorted(mime.parse(raw, "x").record.subject
                                                     for raw in expected.values())
    assert {m.extra["account"] for m in mail} == {ACCOUNT_ID}


@pytest.mark.gen_test(timeout=60)
async def test_operators_list_stop_and_start_accounts(relay, dovecot, tmp_path, cli_env, monkeypatch, capsys):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("first")])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))
    async with accounts_running(relay) as supervisor:
        await until(lambda: account_row(relay)["synced_at"], "the initial sync")
        [line] = run_cli(cli_env, monkeypatch, capsys, "account", "list").splitlines()[1:]
        assert line.split()[:3] == [ADDRESS, "goma", "syncing"] and line.endswith(" -")

        assert "is stopped" in run_cli(cli_env, monkeypatch, capsys, "account", "stop", ADDRESS.upper())
        await supervisor.tick()
        assert supervisor.runners == {}
        assert "paused" in run_cli(cli_env, monkeypatch, capsys, "account", "list")
        _, account_statuses = await received(box, tmp_path)
        assert (account_statuses[-1].state, account_statuses[-1].error) == ("paused", "stopped by the relay's operator")

        dovecot.deliver(ADDRESS, message("second")[0])
        assert "syncs again" in run_cli(cli_env, monkeypatch, capsys, "account", "start", ADDRESS)
        await until(lambda: queued_subjects(relay) == ["first", "second"], "syncing again")
        with pytest.raises(SystemExit) as unknown:
            run_cli(cli_env, monkeypatch, capsys, "account", "stop", "nobody@example.org")
        assert "no account nobody@example.org" in str(unknown.value)
