"""Pouches packed against the text of pouches their reader took (pouch.container.history): the
piece a writer keeps is the piece its reader rebuilds, blobs over PIECE_BLOB_BYTES left out; a
pouch packed against a piece reads back whole with it, in fewer bytes, and is refused by name
without it; a header whose history is malformed is refused; a piece is its pouch's tail, and a
pouch is packed against the newest pieces that fit."""

import io
import os
import random
import zlib

import msgpack
import pytest
import zstandard

from pouch.container import HistoryMissing, MalformedHeader, PouchReader, PouchWriter, header as pouch_header
from pouch.container.history import (MAX_HISTORY_BYTES, MAX_PIECE_BYTES, PIECE_BLOB_BYTES, newest_that_fit,
                                     piece_id)
from pouch.records import BlobRecord, MessageRecord, StatusRecord
from tests.pouch.test_container import GOOD_STATUS, blob, full_message, raw_pouch, read_all

WORDS = ("water pump clinic school roof rain season market price cassava maize truck road bridge fuel "
         "generator solar panel battery teacher nurse vaccine register meeting Thursday Saturday").split()
# What a list's every post carries: its footer, the same each time.
FOOTER = ("\n\n-- \nYou are receiving this because you joined the Kivu Water Committees list.\n"
          "Post to the list: committees@lists.kivu-water.example\n"
          "Archives and digests: https://lists.kivu-water.example/archives/committees/\n"
          "Unsubscribe or change your delivery options: https://lists.kivu-water.example/options/committees/\n"
          "Kivu Water Committees, Avenue du Lac 14, Goma, North Kivu. Rules of the list: be kind, stay on topic,\n"
          "no attachments over 200 kB, write the village in the subject. Moderators: Amani, Zoé, Jean-Pierre.\n")


def words(seed, count):
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(count))


def post(seed):
    """One post to the list: new text, the list's subject tag, sender, recipients and footer."""
    return MessageRecord(id=f"m{seed}", from_=[("Kivu Water Committees", "committees@lists.kivu-water.example")],
                         to=[("", "committees@lists.kivu-water.example")], subject=f"[kivu-water] {words(seed, 5)}",
                         date=1_700_000_000 + seed, message_id=f"post.{seed}@lists.kivu-water.example",
                         body=words(seed, 60) + FOOTER, recipients=["marie@goma.mailpouch.example"])


def packed(records, **options):
    """(pouch bytes, the piece its writer kept)."""
    out = io.BytesIO()
    with PouchWriter(out, sender="relay", recipient="goma", keep_piece=True, **options) as writer:
        for record in records:
            writer.add(record)
    return out.getvalue(), writer.piece


def holding(*pieces):
    """A reader's ``history``: the pieces it holds, by id."""
    held = {piece_id(piece): piece for piece in pieces}
    return lambda ids: [held[i] for i in ids] if all(i in held for i in ids) else None


def stream_text(data):
    """The decompressed stream of a pouch written without a dictionary."""
    start = PouchReader(io.BytesIO(data)).header.size
    return zstandard.ZstdDecompressor().decompressobj().decompress(data[start:])


# --- the piece ---

def test_the_piece_a_writer_keeps_is_the_piece_its_reader_rebuilds_without_the_blobs():
    sha, data = blob(os.urandom(1_500_000))
    records = [full_message("m1", attachments=[]), BlobRecord(sha, data), StatusRecord("m0", "sent", 5), post(1)]
    pouch, piece = packed(records, level=1)
    reader = PouchReader(io.BytesIO(pouch), keep_piece=True)
    assert reader.piece is None  # only once read to its end
    assert list(reader) == records
    assert reader.piece == piece
    assert reader.header.raw_size > 1_500_000 and 500 < len(piece) < 10_000
    assert data[:1000] not in piece and FOOTER.encode() in piece


def test_a_small_blob_is_part_of_the_piece_and_one_over_the_limit_is_not():
    small_sha, small = blob(b"Reporting-MTA: dns; mx.example.org\nAction: failed\n" * 40)  # a delivery report
    edge_sha, edge = blob(os.urandom(PIECE_BLOB_BYTES))
    over_sha, over = blob(os.urandom(PIECE_BLOB_BYTES + 1))
    records = [post(1), BlobRecord(small_sha, small), BlobRecord(edge_sha, edge), BlobRecord(over_sha, over)]
    pouch, piece = packed(records)
    reader, read = read_all(pouch, keep_piece=True)
    assert read == records and reader.piece == piece
    assert small in piece and edge in piece and over[:1000] not in piece


def test_a_reader_that_skips_a_record_rebuilds_the_piece_it_was_sent():
    pouch, piece = packed([post(1), post(2)])
    reader, _ = read_all(pouch, errors="skip", keep_piece=True)
    assert reader.piece == piece

    sha, data = blob(os.urandom(100_000))  # a photo, say: repeats nothing
    records = [GOOD_STATUS, [1, 42, [["", "a@example.org"]]], [99, "from the future"], [2, sha, len(data), 0, data]]
    frames = [msgpack.packb(msgpack.packb(record)) for record in records]
    reader, read = read_all(raw_pouch(records), errors="skip", keep_piece=True)
    assert read == [StatusRecord("m1", "sent", 10), BlobRecord(sha, data)]
    assert [skipped.index for skipped in reader.skipped] == [1, 2]
    assert reader.piece == b"".join(frames[:3])  # the records it skipped as they came, the blob left out


def test_a_piece_is_the_tail_of_a_long_pouchs_text():
    records = [post(n) for n in range(3000)]  # ~1.6 MB of text
    pouch, piece = packed(records, dictionary=None, level=1)
    text = stream_text(pouch)
    assert len(text) > MAX_PIECE_BYTES
    assert len(piece) == MAX_PIECE_BYTES and piece == text[-MAX_PIECE_BYTES:]
    reader, _ = read_all(pouch, keep_piece=True)
    assert reader.piece == piece
    again, _ = packed([post(4000)], history=[piece])  # a trimmed piece is packed against as it is
    assert read_all(again, history=holding(piece))[1] == [post(4000)]


# --- packed against a piece ---

def test_a_pouch_packed_against_a_piece_reads_back_with_it_in_fewer_bytes():
    _, first = packed([post(n) for n in range(1, 6)])
    later = [post(10)]
    alone, _ = packed(later)
    against, piece = packed(later, history=[first])
    reader, read = read_all(against, history=holding(first), keep_piece=True)
    print(f"the next post: {len(against)} B packed against the 5 before, {len(alone)} B alone")
    assert read == later and reader.piece == piece
    assert len(against) < len(alone) - 200  # its header fields and 509-byte footer, back-references
    header = reader.header
    assert (header.flags, header.dict_id, header.history) == (pouch_header.FLAG_HISTORY, 0, [piece_id(first)])


def test_a_reader_is_asked_for_the_pieces_in_the_order_the_pouch_names_them():
    _, first = packed([post(1)])
    _, second = packed([post(2)])
    pouch, _ = packed([post(3)], history=[first, second])
    asked = []
    reader, read = read_all(pouch, history=lambda ids: asked.append(ids) or [first, second])
    assert asked == [[piece_id(first), piece_id(second)]] and read == [post(3)]


def one_byte_changed(piece):
    return piece[:100] + bytes([piece[100] ^ 1]) + piece[101:]


LACKING = {
    "no history": lambda first, second: None,
    "held none": lambda first, second: lambda ids: None,
    "one byte changed": lambda first, second: lambda ids: [first, one_byte_changed(second)],
    "wrong order": lambda first, second: lambda ids: [second, first],
    "one missing": lambda first, second: lambda ids: [second],
}


@pytest.mark.parametrize("history", LACKING.values(), ids=LACKING.keys())
def test_a_reader_without_the_right_pieces_refuses_the_pouch_by_name_before_any_record(history):
    _, first = packed([post(1)])
    _, second = packed([post(2)])
    pouch, _ = packed([post(3)], history=[first, second])
    with pytest.raises(HistoryMissing, match=f"2 earlier pouches.*{piece_id(first).hex()}, {piece_id(second).hex()}"):
        PouchReader(io.BytesIO(pouch), history=history(first, second))


# --- the header's history ---

def reheadered(pouch, flags=None, **fields):
    """``pouch`` with its header map changed as no PouchWriter would (None: the field goes)."""
    _, version, old_flags, length, _ = pouch_header._FIXED.unpack(pouch[:pouch_header._FIXED.size])
    start = pouch_header._FIXED.size
    values = {**msgpack.unpackb(pouch[start:start + length]), **fields}
    body = msgpack.packb({key: value for key, value in values.items() if value is not None}, use_bin_type=True)
    fixed = pouch_header._FIXED.pack(pouch_header.MAGIC, version, old_flags if flags is None else flags,
                                     len(body), zlib.crc32(body))
    return fixed + body + pouch[start + length:]


ID = bytes(range(8))
MALFORMED = {
    "too many ids": [ID] * 65,
    "an id too short": [ID[:7]],
    "an id too long": [ID + b"\0"],
    "an id as hex": [ID.hex()],
    "not a list": ID,
    "a map": {"id": ID},
}


@pytest.mark.parametrize("history", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_header_whose_history_is_malformed_is_refused(history):
    pouch, _ = packed([post(1)], history=[b"some text"])
    with pytest.raises(MalformedHeader, match="'history' is not a list of at most 64 8-byte piece ids"):
        PouchReader(io.BytesIO(reheadered(pouch, history=history)))


def test_a_header_whose_history_and_flag_disagree_is_refused():
    against, _ = packed([post(1)], history=[b"some text"])
    alone, _ = packed([post(1)], dictionary=None)
    for pouch in (reheadered(against, flags=0), reheadered(against, history=None),
                  reheadered(alone, history=[ID]), reheadered(alone, flags=pouch_header.FLAG_HISTORY)):
        with pytest.raises(MalformedHeader, match="'history' and the history flag disagree"):
            PouchReader(io.BytesIO(pouch))


def test_a_header_may_name_64_pieces():
    pieces = [f"piece {n}".encode() for n in range(64)]
    pouch, _ = packed([post(1)], history=pieces)
    reader, read = read_all(pouch, history=holding(*pieces))
    assert len(reader.header.history) == 64 and read == [post(1)]


# --- which pieces ---

def test_a_pouch_is_packed_against_the_newest_pieces_that_fit():
    tenth = MAX_HISTORY_BYTES // 10
    pieces = [bytes([n]) * (tenths * tenth) for n, tenths in enumerate([4, 3, 5, 2])]
    assert newest_that_fit(reversed(pieces)) == pieces[1:]  # 3 + 5 + 2 tenths fit, not 4 more
    assert newest_that_fit(reversed(pieces), budget=7 * tenth) == pieces[2:]
    assert newest_that_fit(reversed(pieces + [b"x" * (MAX_HISTORY_BYTES + 1)])) == []  # none older than one that does not fit
    small = [f"piece {n}".encode() for n in range(70)]
    assert newest_that_fit(reversed(small)) == small[-64:]
