"""Real mail through SendGrid's webhook into a real box, each message exactly once.

Every real-traffic message of the shared corpus is posted in raw mode for
Marie, a third of them in parsed mode too (built as SendGrid documents its
parsed fields) for Paul, plus messages made here to be awkward; then every
post is sent again, as SendGrid does after a timeout.  One sync later the box
holds each message answered 200 exactly once, per recipient.
"""

import asyncio
import email.utils
import json
import logging
import re
import time

import pytest
import sqlalchemy as sa

from appliance.store.tables import messages, user_messages
from tests.relay.conftest import email_bytes
from tests.support import inbound_parse

BATCH = 24  # posts in flight at once: SendGrid posts in parallel too
README_REAL_TRAFFIC = re.compile(r"^\| `([^`/]+)/` \|.*\*\*\[real traffic\]\*\*", re.MULTILINE)


def real_traffic(corpus_dir):
    """The messages of the folders the corpus README marks [real traffic]."""
    folders = README_REAL_TRAFFIC.findall((corpus_dir / "README.md").read_text(encoding="utf-8"))
    return [path.read_bytes() for folder in folders for path in sorted((corpus_dir / folder).rglob("*.eml"))]


def dated(to, subject, date):
    return (f"Date: {date}\r\n".encode() if date else b"") + email_bytes(to, subject=subject, body=subject)


def awkward(to):
    """Messages made to be hard: odd dates, a 500 KB header, 400 MIME parts, odd Message-IDs."""
    long_header = "X-Long: " + "\r\n ".join("x" * 70 for _ in range(7000)) + "\r\n"
    many_parts = email_bytes(to, subject="400 MIME parts",
                             attachments=[(f"part{n}.txt", "text/plain", f"part {n}".encode()) for n in range(399)])
    plain = b"From: ami@example.org\r\nTo: " + to.encode() + b"\r\nSubject: %s\r\n%s\r\nBonjour\r\n"
    return [
        dated(to, "Moon landing", "Sun, 20 Jul 1969 20:17:40 +0000"),
        dated(to, "From 2200", "Wed, 1 Jan 2200 10:00:00 +0000"),
        email_bytes(to, subject="No date at all"),
        long_header.encode() + email_bytes(to, subject="A 500 KB header"),
        many_parts,
        plain % (b"Folded id", b"Message-ID:\r\n <folded-20261206.1234\r\n .5678@example.org>\r\n"),
        plain % (b"Bare id", b"Message-ID: bare-20261206@example.org\r\n"),
    ]


async def post_all(relay, posts):
    """[(response code, answer)] of webhook ``posts`` [(fields, files)], BATCH at a time."""
    results = []
    for start in range(0, len(posts), BATCH):
        batch = posts[start:start + BATCH]
        responses = await asyncio.gather(*(relay.webhook(fields, files) for fields, files in batch))
        results += [(r.code, json.loads(r.body) if r.body else {}) for r in responses]
    return results


def box_mail(box, user):
    """Message-IDs of the mail ``user`` has on ``box``, one entry per message held."""
    with box.store.read() as conn:
        return conn.execute(sa.select(messages.c.message_id).join(
            user_messages, user_messages.c.message_id == messages.c.id).where(
            user_messages.c.user_id == user["id"])).scalars().all()


@pytest.mark.corpus
@pytest.mark.gen_test(timeout=900)
async def test_real_mail_through_the_webhook_reaches_the_box_exactly_once(relay, make_box, corpus_dir, caplog):
    caplog.set_level(logging.WARNING)
    goma = await make_box("goma")
    marie, paul = goma.user("marie"), goma.user("paul")
    corpus = real_traffic(corpus_dir)
    raw_posts = [(inbound_parse.raw_fields(raw, [marie["email"]]), {}) for raw in corpus + awkward(marie["email"])]
    parsed_posts = [inbound_parse.parsed_fields(raw, [paul["email"]]) for raw in corpus[::3] + awkward(paul["email"])]
    started = time.monotonic()
    raw_results = await post_all(relay, raw_posts)
    parsed_results = await post_all(relay, parsed_posts)
    retried = await post_all(relay, raw_posts[::7] + parsed_posts[::7])  # SendGrid retries some
    posted_s = time.monotonic() - started

    codes = [code for code, _ in raw_results + parsed_results + retried]
    refused = [(n, code, answer) for n, (code, answer) in enumerate(raw_results) if code != 200]
    print(f"\n{len(corpus)} corpus messages; posts: {len(raw_posts)} raw, {len(parsed_posts)} parsed, "
          f"{len(retried)} retried, in {posted_s:.0f} s; codes {sorted(set(codes))}; raw refused: {refused[:5]}")
    assert not [code for code in codes if code >= 500]
    assert [code for code, _ in parsed_results] == [200] * len(parsed_posts)
    assert [answer.get("repeat") for _, answer in retried] == [True] * len(retried)

    result = await goma.sync(seconds=600)
    assert result.ok, result.error
    for user, results in ((marie, raw_results), (paul, parsed_results)):
        held = box_mail(goma, user)
        delivered = sum(code == 200 and not answer["repeat"] for code, answer in results)
        repeats = sum(code == 200 and answer["repeat"] for code, answer in results)
        print(f"{user['email']}: {delivered} delivered, {repeats} repeats of a Message-ID seen before, "
              f"{len(held)} on the box")
        assert len(held) == delivered  # every 2xx once: no copy lost, none twice
        with_id = [message_id for message_id in held if message_id]
        assert len(with_id) == len(set(with_id))
    assert {"folded-20261206.1234.5678@example.org", "bare-20261206@example.org"} <= set(box_mail(goma, marie))
    tracebacks = [record for record in caplog.records if record.exc_info or "Traceback" in record.getMessage()]
    assert not tracebacks, [record.getMessage() for record in tracebacks[:5]]
    print(f"sync: {result.messages_down} messages down, {result.bytes_down} bytes")


def test_the_awkward_messages_are_what_they_claim():
    to = "marie@goma.relay.test"
    by_subject = {email.message_from_bytes(raw)["subject"]: raw for raw in awkward(to)}
    assert len(by_subject["A 500 KB header"].split(b"\r\n\r\n")[0]) > 500_000
    assert len(email.message_from_bytes(by_subject["400 MIME parts"]).get_payload()) == 400
    assert email.utils.parsedate_to_datetime(email.message_from_bytes(by_subject["Moon landing"])["date"]).year == 1969
