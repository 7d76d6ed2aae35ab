"""Pouches packed against the text of pouches the box took (pouch.container.history), with a real
relay (Azurite) and real boxes: a list's next post comes down in fewer bytes to a box that took
its last ones and reads whole; a box that lost its pieces gets its mail packed again in the same
sync, once, nothing set aside nor quarantined; a box that keeps no pieces gets pouches packed as
before and the relay keeps nothing for it; a malformed ``history`` is refused by name; the
relay's pieces go with the mail they hold, ``keep_days`` after the box's ack."""

import json

import pytest
import sqlalchemy as sa

from appliance.store import history as box_history
from appliance.store.messages import INBOX
from appliance.store.tables import history_pieces, set_aside
from appliance.sync import importer
from appliance.sync.registration import credentials
from pouch.container import read_header
from pouch.container.header import FLAG_HISTORY
from relay import boxes, retention, schema
from relay.boxsync.history import REPLACED
from relay.schema import deliveries, pouch_history, pouches
from tests.pouch.test_history import FOOTER
from tests.sync.test_reply_compression import letter, newest_pouch_size, post, stored

LIST = "[kivu-water]"
POSTERS = ["amani@example.org", "zoe@example.cd", "jp@example.net", "ami@example.org"]


def list_post(seed):
    """(subject, body) of one post to a list: its subject tag and footer, new text."""
    return f"{LIST} {letter(seed, 1)[:40]}", letter(seed, 8) + FOOTER.rstrip("\n")  # as the box stores it


async def posts_down(relay, box, name, seeds):
    """Post the list's posts ``seeds`` to marie@``name``, each from another member (none is
    packed against a sender's last letter: relay.boxsync.reply_parents), and sync them down;
    returns the size of the newest pouch."""
    for seed in seeds:
        subject, body = list_post(seed)
        await post(relay, f"marie@{name}.relay.test", subject, body, f"post.{seed}.{name}@lists.example",
                   sender=POSTERS[seed % len(POSTERS)])
    result = await box.sync()
    assert result.ok and result.messages_down == len(seeds), result.error
    return newest_pouch_size(relay, name, "down")


@pytest.fixture
def taken(monkeypatch):
    """The header of each pouch a box imports, as it came down."""
    headers = []
    real = importer.import_pouch

    def spy(store, path, name, **options):
        with open(path, "rb") as source:
            headers.append(read_header(source))
        return real(store, path, name, **options)

    monkeypatch.setattr(importer, "import_pouch", spy)
    return headers


async def goma_with_the_list(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    await posts_down(relay, goma, "goma", [1, 2, 3])
    return goma, marie


def subjects(box, user):
    return sorted(row["subject"] for row in box.folder(user, INBOX))


def pouch_rows(relay, name):
    with relay.engine.connect() as db:
        return db.execute(sa.select(pouches.c.name, pouches.c.state).where(
            pouches.c.name.like(f"{name}/down/%")).order_by(pouches.c.name)).all()


@pytest.mark.gen_test(timeout=120)
async def test_a_lists_next_post_comes_down_packed_against_the_last_ones_and_reads_whole(relay, make_box, taken):
    goma, _ = await goma_with_the_list(relay, make_box)
    packed = await posts_down(relay, goma, "goma", [4])
    bukavu = await make_box("bukavu")  # took none of the list's posts
    bukavu.user("marie")
    whole = await posts_down(relay, bukavu, "bukavu", [4])
    print(f"the list's next post: {packed} B against the box's pieces, {whole} B to a fresh box")
    assert packed < whole - 250  # the footer's 509 B and the subject tag, back-references
    assert [bool(header.flags & FLAG_HISTORY) for header in taken] == [False, True, False]
    assert stored(goma, list_post(4)[0])["body"] == list_post(4)[1]


def forgetting_first(monkeypatch):
    """The box loses its pieces after the relay packed a pouch against them, before it imports
    that pouch (a store put back from a copy older than its last sync)."""
    real = importer.import_pouch

    def forget_then_import(store, path, name, **options):
        with store.write() as conn:
            box_history.forget(conn)
        monkeypatch.setattr(importer, "import_pouch", real)
        return real(store, path, name, **options)

    monkeypatch.setattr(importer, "import_pouch", forget_then_import)


def nothing_held_back(relay, box):
    with box.store.read() as conn:
        assert conn.execute(sa.select(set_aside)).all() == []
    with relay.engine.connect() as db:
        assert db.execute(sa.select(deliveries.c.quarantined_at)).scalars().all() == [None] * 4


@pytest.mark.gen_test(timeout=120)
async def test_a_box_that_lost_its_pieces_before_importing_gets_the_mail_packed_again_in_the_same_sync(
        relay, make_box, monkeypatch):
    goma, marie = await goma_with_the_list(relay, make_box)
    forgetting_first(monkeypatch)
    await posts_down(relay, goma, "goma", [4])
    assert subjects(goma, marie) == sorted(list_post(seed)[0] for seed in [1, 2, 3, 4])
    assert stored(goma, list_post(4)[0])["body"] == list_post(4)[1]
    nothing_held_back(relay, goma)
    [_, against, again] = pouch_rows(relay, "goma")
    assert (against.state, again.state) == (REPLACED, "acked")


@pytest.mark.gen_test(timeout=120)
async def test_a_box_that_lost_its_pieces_gets_the_next_pouches_packed_against_those_it_took_since(
        relay, make_box, monkeypatch, taken):
    goma, marie = await goma_with_the_list(relay, make_box)
    forgetting_first(monkeypatch)
    await posts_down(relay, goma, "goma", [4])  # packed again, without pieces: its own is the box's only one
    with goma.store.read() as conn:
        held = box_history.newest(conn)
    await posts_down(relay, goma, "goma", [5])
    assert [row.state for row in pouch_rows(relay, "goma")] == ["acked", REPLACED, "acked", "acked"]
    assert [header.history for header in taken[-2:]] == [[], [bytes.fromhex(held)]]
    assert stored(goma, list_post(5)[0])["body"] == list_post(5)[1]


@pytest.mark.gen_test(timeout=120)
async def test_a_box_put_back_to_older_pieces_gets_its_next_pouches_packed_against_those_it_holds(
        relay, make_box, taken):
    goma, marie = await goma_with_the_list(relay, make_box)
    with goma.store.read() as conn:
        older = box_history.newest(conn)
    await posts_down(relay, goma, "goma", [4])
    with goma.store.write() as conn:  # its pieces as a copy taken before that sync holds them
        conn.execute(history_pieces.delete().where(history_pieces.c.piece_id != older))
    await posts_down(relay, goma, "goma", [5])  # packed against the older piece alone
    with goma.store.read() as conn:
        held = [older, box_history.newest(conn)]
    await posts_down(relay, goma, "goma", [6])
    assert [row.state for row in pouch_rows(relay, "goma")] == ["acked"] * 4
    assert [header.history for header in taken[-2:]] == [[bytes.fromhex(older)], [bytes.fromhex(h) for h in held]]
    assert len(subjects(goma, marie)) == 6


@pytest.mark.gen_test(timeout=120)
async def test_a_pouch_offered_against_pieces_the_box_then_lost_is_packed_again_at_its_next_sync(
        relay, make_box, taken):
    goma, marie = await goma_with_the_list(relay, make_box)
    subject, body = list_post(4)
    await post(relay, "marie@goma.relay.test", subject, body, "post.4@lists.example", sender=POSTERS[0])
    with goma.store.read() as conn:
        newest = box_history.newest(conn)
    _, token = credentials(goma.settings, goma.store)  # a sync whose download the link cut short
    offered = json.loads((await relay.post_json("/api/v1/sync", {"history": newest}, token)).body)["downloads"]
    assert len(offered) == 1
    with goma.store.write() as conn:
        box_history.forget(conn)
    result = await goma.sync()
    assert result.ok and result.messages_down == 1, result.error
    assert subjects(goma, marie) == sorted(list_post(seed)[0] for seed in [1, 2, 3, 4])
    nothing_held_back(relay, goma)
    [_, against, again] = pouch_rows(relay, "goma")
    assert (against.name, against.state, again.state) == (offered[0]["name"], REPLACED, "acked")
    assert taken[-1].history == []


@pytest.mark.gen_test(timeout=120)
async def test_a_box_that_keeps_no_pieces_gets_pouches_packed_as_before(relay, make_box, monkeypatch, taken):
    monkeypatch.setattr(box_history, "newest", lambda conn: None)  # its requests carry no "history"
    goma, marie = await goma_with_the_list(relay, make_box)
    await posts_down(relay, goma, "goma", [4])
    assert len(subjects(goma, marie)) == 4
    assert [(header.flags & FLAG_HISTORY, header.history) for header in taken] == [(0, [])] * 2
    with relay.engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(pouch_history)).scalar() == 0


@pytest.mark.gen_test(timeout=120)
async def test_a_malformed_history_is_refused_by_name_and_the_mail_waits_for_a_good_request(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    subject, body = list_post(1)
    await post(relay, "marie@goma.relay.test", subject, body, "post.1@lists.example")
    _, token = credentials(goma.settings, goma.store)
    for bad in ["xyz", "0" * 17, "0123456789ABCDEF", 17, ["0" * 16], {}]:
        response = await relay.post_json("/api/v1/sync", {"history": bad}, token)
        assert response.code == 400 and "'history'" in json.loads(response.body)["error"], (bad, response.body)
    assert pouch_rows(relay, "goma") == []
    unknown = await relay.post_json("/api/v1/sync", {"history": "0123456789abcdef"}, token)
    assert unknown.code == 200  # a piece the relay never made: packed against none
    result = await goma.sync()
    assert result.ok and result.messages_down == 1, result.error
    assert subjects(goma, marie) == [subject]


def pieces_kept(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(pouch_history.c.pouch_name).where(pouch_history.c.piece.isnot(None))
                          .order_by(pouch_history.c.pouch_name)).scalars().all()


@pytest.mark.gen_test(timeout=120)
async def test_the_relay_deletes_the_pieces_of_pouches_acked_more_than_keep_days_ago(relay, make_box):
    goma, _ = await goma_with_the_list(relay, make_box)
    await posts_down(relay, goma, "goma", [4])
    old, new = [row.name for row in pouch_rows(relay, "goma")]
    assert pieces_kept(relay) == [old, new]
    keep_days = relay.settings.retention.keep_days
    with relay.engine.begin() as db:  # the first was acked keep_days and a day ago
        db.execute(pouches.update().where(pouches.c.name == old).values(done_at=pouches.c.done_at
                                                                        - (keep_days + 1) * 86400))
    retention.clear_some(relay.engine, keep_days)
    assert pieces_kept(relay) == [new]


@pytest.mark.gen_test(timeout=120)
async def test_the_relay_deletes_the_pieces_of_a_box_revoked_more_than_keep_days_ago(relay, make_box):
    goma, _ = await goma_with_the_list(relay, make_box)
    assert pieces_kept(relay)
    boxes.revoke(relay.engine, "goma")
    keep_days = relay.settings.retention.keep_days
    retention.clear_some(relay.engine, keep_days)
    assert pieces_kept(relay)  # revoked today: its pieces stay as long as its mail
    with relay.engine.begin() as db:
        db.execute(schema.boxes.update().where(schema.boxes.c.name == "goma")
                   .values(revoked_at=schema.boxes.c.revoked_at - (keep_days + 1) * 86400))
    retention.clear_some(relay.engine, keep_days)
    assert pieces_kept(relay) == []
