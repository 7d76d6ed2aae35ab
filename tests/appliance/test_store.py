"""The data layer: local delivery, the outbox, threads, the change log, search, isolation."""

import hashlib

import pytest
import sqlalchemy as sa

import migrations
from appliance.store import Store, boxinfo, changes, mailbox, other_address_tables, outbox, search, users
from appliance.store.errors import StoreError
from appliance.store.messages import Draft, NewFile, save_draft, send
from pouch.runtime.database import create_engine
from pouch.limits import MAX_MESSAGE_BYTES
from pouch.records import Attachment, BlobRecord, MessageRecord, StatusRecord


def write(store, user, **fields):
    with store.write() as conn:
        return send(store, conn, user, Draft(**fields))


def folder(store, user, name):
    with store.read() as conn:
        rows, _more = mailbox.list_folder(conn, user["id"], name)
        return [row["subject"] for row in rows]


def test_mail_between_users_of_the_box_arrives_at_once_and_never_queues(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    write(store, alice, to=[("", "bob@box.test")], subject="Lunch", body="At noon?",
          new_files=[NewFile("menu.txt", "text/plain", b"rice, beans")])
    assert folder(store, bob, "inbox") == ["Lunch"]
    assert folder(store, alice, "sent") == ["Lunch"]
    assert folder(store, alice, "outbox") == []
    assert store.outbox() == []
    with store.read() as conn:
        message_id = mailbox.list_folder(conn, bob["id"], "inbox")[0][0]["id"]
        (attachment,) = mailbox.attachments_of(conn, [message_id])[message_id]
    assert store.attachment_files.read(attachment["sha256"]) == b"rice, beans"


def test_outside_mail_waits_in_the_outbox_until_the_relay_reports_its_fate(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    write(store, alice, to=[("", "bob@box.test")], cc=[("Zed", "zed@example.org")], subject="Hi")
    assert folder(store, alice, "outbox") == ["Hi"]
    assert folder(store, bob, "inbox") == ["Hi"]
    (record,) = store.outbox()
    assert record.recipients == ["zed@example.org"]
    assert record.from_ == [("Alice", "alice@box.test")]
    with store.write() as conn:
        outbox.mark_uploaded(conn, [record.id])
        outbox.apply_status(conn, StatusRecord(record.id, "failed", 1700000000, "mailbox full"))
    assert folder(store, alice, "outbox") == []
    with store.read() as conn:
        (row,), _ = mailbox.list_folder(conn, alice["id"], "sent")
    assert (row["state"], row["state_reason"]) == ("failed", "mailbox full")


def test_unknown_local_address_is_refused_and_nothing_is_stored(store, make_user):
    alice = make_user("alice")
    with pytest.raises(StoreError, match="nobody@box.test"):
        write(store, alice, to=[("", "nobody@box.test")], subject="Lost?")
    assert folder(store, alice, "sent") == []


def test_replies_join_the_thread_by_references_then_by_subject(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = write(store, alice, to=[("", "bob@box.test")], subject="Plans")
    with store.read() as conn:
        original = mailbox.message(conn, alice["id"], first)
    write(store, bob, to=[("", "alice@box.test")], subject="Something else entirely",
          in_reply_to=original["message_id"])
    write(store, bob, to=[("", "alice@box.test")], subject="RE: Fwd: plans")
    write(store, bob, to=[("", "alice@box.test")], subject="Unrelated")
    with store.read() as conn:
        head, rows = mailbox.thread(conn, alice["id"], original["thread_id"])
        assert [row["subject"] for row in rows] == ["Plans", "Something else entirely", "RE: Fwd: plans"]
        assert mailbox.thread(conn, bob["id"], original["thread_id"]) is None  # alice's thread


def test_no_user_reaches_another_users_message_or_attachment(store, make_user):
    alice, bob, eve = make_user("alice"), make_user("bob"), make_user("eve")
    message_id = write(store, alice, to=[("", "bob@box.test")], subject="Private",
                       new_files=[NewFile("secret.txt", "text/plain", b"s3cret")])
    with store.read() as conn:
        attachment_id = mailbox.attachments_of(conn, [message_id])[message_id][0]["id"]
        assert mailbox.message(conn, eve["id"], message_id) is None
        assert mailbox.attachment(conn, eve["id"], attachment_id) is None
        assert mailbox.attachment(conn, bob["id"], attachment_id) is not None
        assert search.search(conn, eve["id"], "Private") == ([], False)
    with store.write() as conn:
        # Forwarding someone else's attachment by id carries nothing.
        forwarded = send(store, conn, eve, Draft(to=[("", "eve@box.test")], subject="Fwd",
                                                 kept_attachments=[attachment_id]))
        assert mailbox.attachments_of(conn, [forwarded]) == {}


def test_every_change_is_logged_with_increasing_ids(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    with store.write() as conn:
        draft_id = save_draft(store, conn, alice, Draft(to=[("", "bob@box.test")], subject="D"))
        save_draft(store, conn, alice, Draft(to=[("", "bob@box.test")], subject="D2"), draft_id)
        send(store, conn, alice, Draft(to=[("", "bob@box.test")], subject="D2"), draft_id)
        mailbox.set_flags(conn, bob["id"], [draft_id], starred=True)
        logged = changes.since(conn, alice["id"])
        assert [(c["kind"], c["op"]) for c in logged] == [
            ("thread", "insert"), ("draft", "insert"), ("draft", "update"), ("draft", "delete"),
            ("message", "insert"), ("contact", "insert")]
        bobs = [(c["kind"], c["op"]) for c in changes.since(conn, bob["id"])]
        assert bobs == [("thread", "insert"), ("message", "insert"), ("contact", "insert"),
                        ("message", "update")]
        # Ids follow the order of the writes, across users: bob's copy came after alice's draft.
        bob_insert = changes.since(conn, bob["id"])[1]["id"]
        assert logged[3]["id"] < bob_insert < changes.since(conn, bob["id"])[3]["id"]


def test_incoming_mail_is_stored_once_for_its_recipients_and_import_repeats_safely(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    data = b"%PDF-1.4 report"
    digest = hashlib.sha256(data).digest()
    record = MessageRecord(
        id="r-1", from_=[("Zed", "zed@example.org")], to=[("", "alice@box.test")],
        cc=[("", "bob@box.test")], subject="Rapport mensuel", date=1700000000,
        message_id="x@example.org", body="<p>Voici le <b>rapport</b> de l'école</p>", body_type="html",
        attachments=[Attachment("r.pdf", "application/pdf", len(data), digest)],
        recipients=["alice@box.test", "bob@box.test"])
    first = store.deliver_incoming(record, {digest: data})
    again = store.deliver_incoming(record, {BlobRecord(digest, data).sha256: data})
    assert first == again
    assert folder(store, alice, "inbox") == folder(store, bob, "inbox") == ["Rapport mensuel"]
    with store.read() as conn:
        rows, _ = search.search(conn, alice["id"], "ecole")
        assert "<mark>école</mark>" in search.marked_html(rows[0]["body_marked"])


def test_search_ranks_subject_matches_first(store, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    write(store, alice, to=[("", "bob@box.test")], subject="Notes", body="the harvest was good")
    write(store, alice, to=[("", "bob@box.test")], subject="Harvest dates", body="see below")
    with store.read() as conn:
        rows, more = search.search(conn, bob["id"], "harvest")
    assert [row["subject"] for row in rows] == ["Harvest dates", "Notes"] and not more


def test_sign_up_rules(store):
    with store.write() as conn:
        users.create_user(conn, "Marie.K", "box.test", "long enough")
        for name, password in [("marie.k", "long enough"), ("admin", "long enough"),
                               ("a", "long enough"), ("bad name", "long enough"),
                               ("ok-name", "short")]:
            with pytest.raises(StoreError):
                users.create_user(conn, name, "box.test", password)
        assert users.authenticate(conn, "marie.k@box.test", "long enough")["email"] == "marie.k@box.test"
        assert users.authenticate(conn, "marie.k@box.test", "wrong one") is None


def test_incoming_mail_for_an_unknown_address_goes_to_the_admins(store, make_user):
    admin = make_user("mama", is_admin=True)
    store.deliver_incoming(MessageRecord(id="r-9", from_=[("", "x@example.org")], subject="Lost?",
                                         date=1700000000, recipients=["ghost@box.test"]), {})
    assert folder(store, admin, "inbox") == ["Lost?"]


def test_a_message_over_the_whole_message_limit_is_refused_at_save_and_send(store, make_user):
    alice = make_user("alice")
    with store.write() as conn:
        boxinfo.put(conn, boxinfo.MAX_ATTACHMENTS_MB, 64)  # the admin's limit is not the only one
    big = Draft(to=[("", "friend@example.org")], subject="Scans",
                new_files=[NewFile("scans.zip", "application/zip", bytes(MAX_MESSAGE_BYTES))])
    for write_it in (save_draft, send):
        with pytest.raises(StoreError, match=r"The message is too big \(30.0 MB\); at most 30.0 MB"):
            with store.write() as conn:
                write_it(store, conn, alice, big)
    assert store.outbox() == [] and folder(store, alice, "drafts") == []


def test_the_upgrade_takes_bcc_out_of_the_search_others_share(box_settings, monkeypatch):
    """Mail sent to users of the box before the rule: its index row named the Bcc for all."""
    url = box_settings.box.database
    engine = create_engine(url)
    migrations.upgrade("appliance", url, "a0007")
    # Today's code writes the mail; at a0007 the other addresses' table had its old name (a0009).
    monkeypatch.setattr(other_address_tables.other_addresses, "name", "external_accounts")
    old = Store(engine, box_settings.box.data_dir, box_settings.box.domain)
    with old.write() as conn:
        alice, bob = (users.find_by_id(conn, users.create_user(conn, name, "box.test", "pw long enough"))
                      for name in ("alice", "bob"))
    write(old, alice, to=[("", "bob@box.test")], bcc=[("", "secret@example.org")], subject="Plans")
    write(old, alice, to=[("", "friend@example.org")], bcc=[("", "quiet@example.org")], subject="Mine")
    with old.write() as conn:  # as the index was written then
        conn.execute(sa.text("UPDATE message_search SET addresses = addresses || ', secret@example.org' "
                             "WHERE subject = 'Plans'"))
        assert search.search(conn, bob["id"], "secret")[0]
    monkeypatch.undo()
    migrations.upgrade("appliance", url)
    with old.read() as conn:
        assert search.search(conn, bob["id"], "secret") == ([], False)
        assert search.search(conn, alice["id"], "secret") == ([], False)
        assert [row["subject"] for row in search.search(conn, alice["id"], "quiet")[0]] == ["Mine"]
        assert [row["subject"] for row in search.search(conn, bob["id"], "plans")[0]] == ["Plans"]
    engine.dispose()


def test_a_bcc_that_travels_with_incoming_mail_is_kept_from_its_recipients(store, make_user):
    bob = make_user("bob")
    store.deliver_incoming(MessageRecord(
        id="in-bcc", from_=[("", "boss@example.org")], to=[("", "bob@box.test")],
        bcc=[("", "hidden@example.org")], subject="Review", date=1_700_000_000,
        recipients=["bob@box.test"]), {})
    with store.read() as conn:
        [row], _more = mailbox.list_folder(conn, bob["id"], "inbox")
        assert mailbox.message(conn, bob["id"], row["id"])["bcc_json"] == "[]"
        assert search.search(conn, bob["id"], "hidden") == ([], False)
