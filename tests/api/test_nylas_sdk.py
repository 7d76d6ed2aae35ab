"""The Nylas Python SDK 4.12.1, unmodified and with no request rewriting, against a real box
over TLS (a certificate of the test's own CA, through REQUESTS_CA_BUNDLE): what an app written
for the Nylas API does, and the mail it sends leaves with the next sync through a real relay."""

import email
import hashlib

import pytest
from tornado.ioloop import IOLoop

from appliance.store import tokens
from pouch.records import Attachment, MessageRecord
from tests.api.test_send_leaves import serve_api
from tests.support.tls import tls_context
# The sync tests' fixtures: a relay, and boxes registered with it (they win over tests/api's).
from tests.sync.conftest import (  # noqa: F401 (fixtures)
    app, database_url, direct_urls, engine, make_box, proxy, public_url, relay, relay_overrides,
    settings, store, through_proxy)

nylas = pytest.importorskip("nylas", reason="the test extra installs nylas==4.12.1")

REPORT = b"%PDF-1.4 harvest figures"


def deliver(box, to, subject, body, attachments=(), blobs=None):
    """Mail from outside, as a pouch from the relay brings it; returns its Message-ID."""
    record = MessageRecord(
        id=f"relay-{subject}", from_=[("Chef", "chef@example.org")], to=[("Marie", to)],
        subject=subject, date=1_700_000_000, message_id=f"{len(subject)}@example.org",
        body=body, attachments=list(attachments), recipients=[to])
    box.store.deliver_incoming(record, blobs or {})
    return record.message_id


def an_app_session(api_server, token, address, message_id_header):
    """What an app does with the SDK; returns what it saw, for the test to check."""
    client = nylas.APIClient(access_token=token, api_server=api_server)
    seen = {"account": client.account.email_address}
    cursor = client.session.post(api_server + "/delta/latest_cursor").json()["cursor"]

    threads = client.threads.all()
    seen["threads"] = sorted(t.subject for t in threads)
    seen["thread"] = client.threads.get(threads[0].id).subject
    found = client.messages.where(in_="inbox", from_="chef@example.org", subject="Harvest plan").all()
    seen["filtered"] = [m.subject for m in found]
    seen["by_header"] = [m.subject for m in client.messages.where(
        message_id_header=f"<{message_id_header}>").all()]
    seen["oldest_first"] = [m.subject for m in client.messages.where(order_by="date").all()]
    seen["searched"] = [m.subject for m in client.messages.search("harvest")]
    seen["thread_searched"] = [t.subject for t in client.threads.search("harvest")]
    message = client.messages.get(found[0].id)
    seen["raw_subject"] = email.message_from_bytes(message.raw)["Subject"]
    message.mark_as_read()
    message.star()
    again = client.messages.get(message.id)
    seen["read_starred"] = (again.unread, again.starred)
    attachments = message.attachments.all()
    seen["attachments"] = [(f.filename, f.download()) for f in attachments]
    seen["file_get"] = client.files.get(attachments[0].id).filename

    upload = client.files.create()
    upload.filename, upload.content_type, upload.data = "notes.txt", "text/plain", "field notes"
    upload.save()
    seen["uploaded"] = client.files.get(upload.id).download()

    draft = client.drafts.create()
    draft.subject, draft.body = "Harvest report", "<p>First words</p>"
    draft.to = [{"name": "Partner", "email": "partner@example.com"}]
    draft.attach(upload)
    draft.save()
    draft.subject = "Harvest report, final"
    draft.save()  # an update: the SDK sends back every field it got
    stored = client.drafts.get(draft.id)
    seen["draft"] = (stored.subject, stored.version, [f["filename"] for f in stored.files])
    seen["sent"] = draft.send()["subject"]

    reply = client.drafts.create()
    reply.subject, reply.body, reply.to = "Re: Harvest plan", "<p>Agreed</p>", message.from_
    reply.reply_to_message_id = message.id
    answered = reply.send()
    seen["reply_thread"] = client.messages.get(answered["id"]).thread_id == message.thread_id

    contacts = client.contacts.all()
    seen["contacts"] = sorted(e for c in contacts for emails in c.emails.values() for e in emails)
    seen["contact_name"] = (client.contacts.get(contacts[0].id).given_name, contacts[0].surname)
    seen["folder"] = client.folders.get("inbox").display_name
    seen["labels"] = client.labels.all()

    deltas = client.session.get(api_server + "/delta", params={"cursor": cursor}).json()["deltas"]
    seen["deltas"] = {(d["object"], d["id"]) for d in deltas}
    seen["starred_delta"] = any(d["id"] == message.id and d["attributes"]["starred"]
                                for d in deltas if d["object"] == "message")
    seen["ids"] = {"message": message.id, "sent": answered["id"]}
    client.session.close()
    return seen


@pytest.mark.gen_test(timeout=120)
async def test_an_app_written_for_nylas_works_unchanged(relay, make_box, sendgrid_standin,
                                                        tmp_path, monkeypatch):
    goma = await make_box("goma")
    marie = goma.user("marie")
    pdf = Attachment("figures.pdf", "application/pdf", len(REPORT), hashlib.sha256(REPORT).digest())
    header = deliver(goma, marie["email"], "Harvest plan", "<p>Our harvest figures</p>",
                     [pdf], {pdf.sha256: REPORT})
    deliver(goma, marie["email"], "Market day", "<p>Bring baskets</p>")
    with goma.store.write() as conn:
        token = tokens.create(conn, marie["id"], "phone app")
    context, ca_file = tls_context(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    server, api_server = await serve_api(goma, ssl_options=context)
    try:
        seen = await IOLoop.current().run_in_executor(
            None, an_app_session, api_server, token, marie["email"], header)
    finally:
        server.stop()

    assert seen["account"] == "marie@goma.relay.test"
    assert seen["threads"] == ["Harvest plan", "Market day"] and seen["thread"] in seen["threads"]
    assert seen["filtered"] == seen["by_header"] == ["Harvest plan"]
    assert seen["oldest_first"][0] == "Harvest plan"
    assert seen["searched"] == seen["thread_searched"] == ["Harvest plan"]
    assert seen["raw_subject"] == "Harvest plan"
    assert seen["read_starred"] == (False, True)
    assert seen["attachments"] == [("figures.pdf", REPORT)] and seen["file_get"] == "figures.pdf"
    assert seen["uploaded"] == b"field notes"
    assert seen["draft"] == ("Harvest report, final", 1, ["notes.txt"])
    assert seen["sent"] == "Harvest report, final" and seen["reply_thread"]
    assert seen["contacts"] == ["chef@example.org", "partner@example.com"]
    assert seen["contact_name"] in {("Chef", ""), ("Partner", "")}
    assert seen["folder"] == "Inbox" and seen["labels"] == []
    assert ("message", seen["ids"]["message"]) in seen["deltas"] and seen["starred_delta"]
    assert ("message", seen["ids"]["sent"]) in seen["deltas"]

    first = await goma.sync()
    assert first.ok and first.messages_up == 2, first.error
    await relay.send_all()
    left = {mail["subject"]: mail for mail in sendgrid_standin.accepted}
    assert sorted(left) == ["Harvest report, final", "Re: Harvest plan"]
    report = left["Harvest report, final"]
    assert [p["to"] for p in report["personalizations"]] == [[{"email": "partner@example.com",
                                                               "name": "Partner"}]]
    assert [a["filename"] for a in report["attachments"]] == ["notes.txt"]
    assert left["Re: Harvest plan"]["headers"]["In-Reply-To"] == f"<{header}>"
