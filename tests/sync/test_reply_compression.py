"""Replies packed against the message they answer (issue 16), with a real relay (Azurite, the
folder transport for internet mail) and real boxes: an internet reply to mail the box holds
comes down in fewer bytes and reads whole on the box's page, also once its parent was deleted;
a sender's next letter, answering nothing, comes packed against their last one the box holds;
a box's reply to mail it received goes up packed and leaves for the internet whole; a reply
the other side cannot expand is set aside or refused alone, never lost in silence."""

import email
import email.policy
import html
import json
import random
import time
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from appliance.store import mailbox, messages, reply_parents as box_parents
from appliance.store.messages import FAILED, INBOX, SENT
from appliance.store.tables import messages as messages_table, reply_parents, set_aside, user_messages
from appliance.sync import handshake, importer
from pouch import replies
from relay import retention
from relay.schema import outbound, pouches
from tests.sync.test_admin_page import signed_in_on_sync_pages

WORDS = ("water pump clinic school roof rain season market price cassava maize truck road bridge fuel "
         "generator solar panel battery teacher nurse vaccine register meeting Thursday Saturday committee "
         "budget receipt cement bags transport driver harvest village district permit report").split()
SENDER = "ami@example.org"


def letter(seed, lines=60):
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(11)) + "." for _ in range(lines))


PARENT = letter(1)
ANSWER = "Agreed for Thursday: I will bring the receipts and the cement bags myself."
QUOTING = f"{ANSWER}\n\nOn Monday Ami wrote:\n" + "\n".join("> " + line for line in PARENT.splitlines())


@pytest.fixture
def relay_overrides(relay_overrides):
    return {**relay_overrides, "outbound_transport": "folder"}


def mime(to, subject, body, message_id, in_reply_to=None, sender=SENDER):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = f"<{in_reply_to}>"
    message.set_content(body)
    return message.as_bytes()


async def post(relay, to, subject, body, message_id, in_reply_to=None, sender=SENDER):
    response = await relay.webhook({"email": mime(to, subject, body, message_id, in_reply_to, sender),
                                    "envelope": json.dumps({"to": [to]})})
    assert response.code == 200, response.body


def newest_pouch_size(relay, box_name, direction):
    with relay.engine.connect() as db:
        return db.execute(sa.select(pouches.c.size).where(pouches.c.name.like(f"{box_name}/{direction}/%"))
                          .order_by(pouches.c.created_at.desc(), pouches.c.name.desc()).limit(1)).scalar_one()


def stored(box, subject):
    with box.store.read() as conn:
        return conn.execute(sa.select(messages_table).where(messages_table.c.subject == subject)).mappings().one()


async def box_with_the_parent(relay, make_box, name="goma"):
    box = await make_box(name)
    user = box.user("marie")
    await post(relay, f"marie@{name}.relay.test", "Clinic works", PARENT, f"parent.{name}@example.org")
    first = await box.sync()
    assert first.ok and first.messages_down == 1, first.error
    return box, user


async def reply_down(relay, box, name):
    await post(relay, f"marie@{name}.relay.test", "Re: Clinic works", QUOTING, f"reply.{name}@example.org",
               in_reply_to=f"parent.{name}@example.org")
    result = await box.sync()
    assert result.ok and result.messages_down == 1, result.error
    return newest_pouch_size(relay, name, "down")


async def reply_page(box, user):
    """The text of the page of the reply's thread, as ``user`` sees it."""
    with box.store.read() as conn:
        thread_id = conn.execute(sa.select(user_messages.c.thread_id).where(
            user_messages.c.message_id == stored(box, "Re: Clinic works")["id"])).scalar_one()
    async with signed_in_on_sync_pages(box, user) as browser:
        return html.unescape((await browser.get(f"/thread/{thread_id}")).text)


async def without_the_parent(relay, make_box):
    """The same reply's pouch for a box that never had its parent: what it costs unpacked."""
    bukavu = await make_box("bukavu")
    bukavu.user("marie")
    return await reply_down(relay, bukavu, "bukavu")


@pytest.mark.gen_test(timeout=120)
async def test_an_internet_reply_to_mail_the_box_holds_comes_down_packed_and_reads_whole(relay, make_box):
    goma, marie = await box_with_the_parent(relay, make_box)
    packed = await reply_down(relay, goma, "goma")
    whole = await without_the_parent(relay, make_box)
    print(f"reply pouch: {packed} B against its parent, {whole} B without")
    assert packed < whole - 600  # the quote of ~4 KB of text costs a few back-references
    assert stored(goma, "Re: Clinic works")["body"] == QUOTING
    assert ANSWER in await reply_page(goma, marie)


# The sender's weekly report: last week's, a few lines changed, answering nothing.
NEXT_REPORT = "\n".join(line if n % 9 else letter(100 + n, 1) for n, line in enumerate(PARENT.splitlines()))


async def next_report_down(relay, box, name, sender=SENDER):
    await post(relay, f"marie@{name}.relay.test", "Weekly report", NEXT_REPORT, f"report.{name}@example.org",
               sender=sender)
    result = await box.sync()
    assert result.ok and result.messages_down == 1, result.error
    return newest_pouch_size(relay, name, "down")


@pytest.mark.gen_test(timeout=120)
async def test_a_senders_next_letter_comes_down_packed_against_their_last_and_reads_whole(relay, make_box):
    goma, marie = await box_with_the_parent(relay, make_box)
    packed = await next_report_down(relay, goma, "goma")
    bukavu = await make_box("bukavu")  # never had the sender's last letter
    bukavu.user("marie")
    whole = await next_report_down(relay, bukavu, "bukavu")
    print(f"next report pouch: {packed} B against the sender's last letter, {whole} B without")
    assert packed < whole - 600
    assert stored(goma, "Weekly report")["body"] == NEXT_REPORT
    async with signed_in_on_sync_pages(goma, marie) as browser:
        page = html.unescape((await browser.get("/")).text)
    assert "Weekly report" in page


@pytest.mark.gen_test(timeout=120)
async def test_a_letter_is_never_packed_against_another_senders_mail(relay, make_box, monkeypatch):
    monkeypatch.setattr(handshake.history, "newest", lambda conn: None)  # a box that keeps no pieces
    goma, _ = await box_with_the_parent(relay, make_box)
    parents = []  # what each record that came down names as its parent (the pouch's own history aside)
    expand = importer.reply_parents.expanded
    monkeypatch.setattr(importer.reply_parents, "expanded",
                        lambda conn, record: parents.append(record.parent) or expand(conn, record))
    await next_report_down(relay, goma, "goma", sender="someone.else@example.net")
    assert parents == [""]
    assert stored(goma, "Weekly report")["body"] == NEXT_REPORT


@pytest.mark.gen_test(timeout=120)
async def test_a_reply_to_mail_deleted_on_the_box_still_reads(relay, make_box):
    goma, marie = await box_with_the_parent(relay, make_box)
    parent_id = stored(goma, "Clinic works")["id"]
    with goma.store.write() as conn:
        assert mailbox.to_trash(conn, marie["id"], parent_id) and mailbox.delete_forever(conn, marie["id"], parent_id)
    assert [row["subject"] for row in goma.folder(marie, INBOX)] == []
    packed = await reply_down(relay, goma, "goma")
    assert packed < await without_the_parent(relay, make_box) - 600
    assert stored(goma, "Re: Clinic works")["body"] == QUOTING
    assert [row["subject"] for row in goma.folder(marie, INBOX)] == ["Re: Clinic works"]
    page = await reply_page(goma, marie)  # the quote, from the reply alone: its parent is gone
    assert ANSWER in page and PARENT.splitlines()[-1] in page


@pytest.mark.gen_test(timeout=120)
async def test_a_reply_whose_parent_the_box_lost_is_set_aside_and_the_mail_beside_it_arrives(relay, make_box,
                                                                                              monkeypatch):
    # A box that keeps no pieces (an older one): a box that does gets its replies packed against
    # them instead (tests/sync/test_history.py).
    monkeypatch.setattr(handshake.history, "newest", lambda conn: None)
    goma, marie = await box_with_the_parent(relay, make_box)
    with goma.store.write() as conn:  # the store lost it all: a card restored from an old copy, say
        conn.execute(messages_table.update().values(body="something else"))
        conn.execute(reply_parents.delete())
    await post(relay, "marie@goma.relay.test", "Unrelated", "Market day moved to Friday.", "other@example.org")
    await reply_down(relay, goma, "goma")
    assert [row["subject"] for row in goma.folder(marie, INBOX)] == ["Unrelated", "Clinic works"]
    with goma.store.read() as conn:
        [aside] = conn.execute(sa.select(set_aside)).mappings().all()
    assert "Re: Clinic works" in aside["summary"] and "does not expand against its parent" in aside["reason"]


def reply_draft(to, body, parent_id):
    return messages.Draft(to=[("", to)], subject="Re: Clinic works", body=body,
                          in_reply_to=parent_id, references=[parent_id])


@pytest.mark.gen_test(timeout=120)
async def test_a_box_reply_goes_up_packed_and_leaves_for_the_internet_whole(relay, make_box):
    goma, marie = await box_with_the_parent(relay, make_box)
    with goma.store.write() as conn:
        reply_id = messages.send(goma.store, conn, marie, reply_draft(SENDER, QUOTING, "parent.goma@example.org"))
    up = await goma.sync()
    assert up.ok and up.messages_up == 1, up.error
    packed = newest_pouch_size(relay, "goma", "up")

    bukavu = await make_box("bukavu")  # the same reply from a box that never had its parent
    jean = bukavu.user("jean")
    with bukavu.store.write() as conn:
        messages.send(bukavu.store, conn, jean, reply_draft(SENDER, QUOTING, "parent.goma@example.org"))
    assert (await bukavu.sync()).ok
    whole = newest_pouch_size(relay, "bukavu", "up")
    print(f"upload: {packed} B against its parent, {whole} B without")
    assert packed < whole - 600

    await relay.send_all()
    bodies = []
    for sent in relay.settings.sent_folder.glob("*.eml"):
        mail = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
        bodies.append((mail["From"].addresses[0].addr_spec, mail.get_body(("plain",)).get_content().replace("\r\n", "\n")))
    assert sorted(bodies) == sorted([("marie@goma.relay.test", QUOTING + "\n"), ("jean@bukavu.relay.test",
                                                                                   QUOTING + "\n")])
    assert (await goma.sync()).ok
    assert goma.message(reply_id)["state"] == SENT


@pytest.mark.gen_test(timeout=120)
async def test_a_packed_reply_the_relay_cannot_expand_is_refused_alone(relay, make_box, monkeypatch):
    goma, marie = await box_with_the_parent(relay, make_box)

    def against_another_text(conn, record):  # a box whose copy of the parent differs from the relay's
        return replies.compressed(record, "parent.goma@example.org", PARENT.replace("water", "fire")) or record

    monkeypatch.setattr(box_parents, "packed_up", against_another_text)
    with goma.store.write() as conn:
        bad = messages.send(goma.store, conn, marie, reply_draft(SENDER, QUOTING, "parent.goma@example.org"))
        good = messages.send(goma.store, conn, marie, messages.Draft(to=[("", SENDER)], subject="Fuel",
                                                                     body="Two jerrycans, please."))
    assert (await goma.sync()).ok
    await relay.send_all()
    assert (await goma.sync()).ok
    assert goma.message(good)["state"] == SENT
    refused = goma.message(bad)
    assert refused["state"] == FAILED and "does not expand against its parent" in refused["state_reason"]


async def goma_sent_the_parent(relay, make_box):
    """marie on goma wrote to the internet and the relay sent it; the box's copy is in Sent."""
    goma = await make_box("goma")
    marie = goma.user("marie")
    sent_id = goma.send(marie, [SENDER], "Clinic works", PARENT)
    assert (await goma.sync()).ok
    await relay.send_all()
    return goma, marie, goma.message(sent_id)["message_id"]


async def internet_reply_to(relay, box, message_id):
    await post(relay, "marie@goma.relay.test", "Re: Clinic works", QUOTING, "reply.goma@example.org",
               in_reply_to=message_id)
    result = await box.sync()
    assert result.ok and result.messages_down == 1, result.error
    assert stored(box, "Re: Clinic works")["body"] == QUOTING
    return newest_pouch_size(relay, "goma", "down")


@pytest.mark.gen_test(timeout=120)
async def test_an_internet_reply_to_mail_the_box_sent_comes_down_packed(relay, make_box):
    goma, marie, parent_id = await goma_sent_the_parent(relay, make_box)
    packed = await internet_reply_to(relay, goma, parent_id)
    whole = await without_the_parent(relay, make_box)
    print(f"reply to sent mail: {packed} B against its parent, {whole} B without")
    assert packed < whole - 600
    assert ANSWER in await reply_page(goma, marie)


@pytest.mark.gen_test(timeout=120)
async def test_sent_mail_is_cleared_after_the_retention_period_and_a_reply_then_comes_whole(relay, make_box):
    goma, marie, parent_id = await goma_sent_the_parent(relay, make_box)
    keep_days = relay.settings.retention.keep_days
    assert retention.clear_some(relay.engine, keep_days, now=time.time() + (keep_days - 1) * 86400) == 0
    assert retention.clear_some(relay.engine, keep_days, now=time.time() + (keep_days + 1) * 86400) == 1
    with relay.engine.connect() as db:
        assert db.execute(sa.select(outbound.c.payload, outbound.c.state)).one() == (b"", "sent")
    assert await internet_reply_to(relay, goma, parent_id) > await without_the_parent(relay, make_box) - 100
    assert ANSWER in await reply_page(goma, marie)
