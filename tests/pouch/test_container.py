"""The pouch container: round trips, dedupe, bounded memory, and every kind of damage."""

import hashlib
import io
import os
import tracemalloc

import msgpack
import pytest

from pouch.container import (BadMagic, BlobChunk, CorruptPouch, MalformedHeader, MalformedRecord,
                             PouchError, PouchReader, PouchTooLarge, PouchWriter, TruncatedPouch,
                             UnsupportedVersion, header as pouch_header)
from pouch.records import (REQUEST_ATTACHMENT, AccountRecord, AccountStatusRecord, Attachment, BlobRecord,
                           BoxSettingsRecord, FlagRecord, HeldRecord, MessageRecord, RefusalRecord, RequestRecord, VerdictRecord,
                           StatusRecord)
from tests.support.pouches import raw_pouch


def blob(data):
    return hashlib.sha256(data).digest(), data


PHOTO_SHA, PHOTO = blob(b"\x89PNG fake photo bytes " * 50)
REPORT_SHA, REPORT = blob(os.urandom(3000))


def full_message(record_id="m1", attachments=None):
    return MessageRecord(
        id=record_id,
        from_=[("Amani Kabila", "amani@box1.mailpouch.example")],
        to=[("", "jo@example.org"), ("Zoé Lumbu", "zoe@example.cd")],
        cc=[("Cc Person", "cc@example.org")],
        bcc=[("", "hidden@example.org")],
        reply_to=[("", "replies@example.org")],
        subject="Réunion de jeudi — ordre du jour",
        date=1_700_000_000,
        message_id="abc.123@box1.mailpouch.example",
        in_reply_to="prev@example.org",
        references=["first@example.org", "prev@example.org"],
        body="<p>Bonjour à tous,</p><p>voici l'ordre du jour.</p>",
        body_type="html",
        attachments=attachments if attachments is not None else [
            Attachment("photo.png", "image/png", len(PHOTO), PHOTO_SHA, cid="img1", inline=True),
            Attachment("rapport.pdf", "application/pdf", len(REPORT), REPORT_SHA),
        ],
        recipients=["zoe@box1.mailpouch.example"],
        extra={"priority": "high"},
    )


def write_pouch(add, **options):
    out = io.BytesIO()
    options = {"sender": "box1", "recipient": "relay", **options}
    with PouchWriter(out, **options) as pouch:
        add(pouch)
    return out.getvalue()


def read_all(data, **options):
    reader = PouchReader(io.BytesIO(data), **options)
    return reader, list(reader)


ACCOUNT = AccountRecord("a1", "amani@box1.mailpouch.example", "amani@gmail.com", "active", b"\x01sealed")
ACCOUNT_STATUS = AccountStatusRecord("a1", "error", 1_700_000_120, "the server refused the password")
HELD = HeldRecord("88", [("Prize", "win@lottery.example")], "You won", 4_210, 14.2, 1_700_000_010,
                  ["amani@box1.mailpouch.example"], 1_700_604_800)
REQUEST = RequestRecord(REQUEST_ATTACHMENT, "90", REPORT_SHA, 1_700_000_160, "amani@box1.mailpouch.example")
VERDICT = VerdictRecord("91", True, 1_700_000_170, "amani@box1.mailpouch.example")
BOX_SETTINGS = BoxSettingsRecord(6.5, 200_000, {"zoe@box1.mailpouch.example": 50_000}, 1_700_000_180)
REFUSAL = RefusalRecord("90", REQUEST_ATTACHMENT, REPORT_SHA,
                        "the relay no longer keeps this message's attachments", 1_700_000_190)
NEWER_KINDS = [HELD, REQUEST, VERDICT, BOX_SETTINGS, REFUSAL]


def sample_pouch():
    def add(pouch):
        pouch.add(full_message())
        pouch.add(BlobRecord(PHOTO_SHA, PHOTO))
        pouch.add(BlobRecord(REPORT_SHA, REPORT))
        pouch.add(StatusRecord("m0", "failed", 1_700_000_100, "550 mailbox unknown"))
        pouch.add(ACCOUNT)
        pouch.add(ACCOUNT_STATUS)
        pouch.add(FlagRecord("417", True, 1_700_000_150))
        for record in NEWER_KINDS:
            pouch.add(record)
    return write_pouch(add, pouch_id="p-1", created=1_700_000_200)


# --- round trips ---

def test_every_record_kind_round_trips():
    reader, records = read_all(sample_pouch())

    assert records == [
        full_message(),
        BlobRecord(PHOTO_SHA, PHOTO),
        BlobRecord(REPORT_SHA, REPORT),
        StatusRecord("m0", "failed", 1_700_000_100, "550 mailbox unknown"),
        ACCOUNT,
        ACCOUNT_STATUS,
        FlagRecord("417", True, 1_700_000_150),
        *NEWER_KINDS,
    ]
    assert (reader.header.pouch_id, reader.header.sender, reader.header.recipient) == ("p-1", "box1", "relay")
    assert reader.header.created == 1_700_000_200
    assert reader.header.count == 7 + len(NEWER_KINDS)
    assert reader.skipped == []


def test_a_reader_can_be_read_again():
    reader = PouchReader(io.BytesIO(sample_pouch()))
    assert list(reader) == list(reader)


def test_a_minimal_message_comes_back_with_its_defaults():
    minimal = MessageRecord(id="x", from_=[("", "a@example.org")])
    _, records = read_all(write_pouch(lambda pouch: pouch.add(minimal)))
    assert records == [minimal]
    records[0].to.append(("", "b@example.org"))  # defaults are fresh lists, not shared ones
    assert MessageRecord(id="y", from_=[]).to == []


def test_an_empty_pouch_is_valid():
    reader, records = read_all(write_pouch(lambda pouch: None))
    assert records == [] and reader.header.count == 0


def test_large_blob_travels_in_chunks_and_comes_back_whole():
    sha, data = blob(os.urandom(2_500_000))
    reader, records = read_all(write_pouch(lambda pouch: pouch.add(BlobRecord(sha, data)), level=1))
    assert records == [BlobRecord(sha, data)]
    assert reader.header.count == 3  # 1 MiB chunks


def test_blob_from_a_file_round_trips(tmp_path):
    sha, data = blob(os.urandom(1_500_000))
    (tmp_path / "a.bin").write_bytes(data)
    with open(tmp_path / "a.bin", "rb") as source:
        pouch = write_pouch(lambda writer: writer.add(BlobRecord(sha, source)), level=1)
    assert read_all(pouch)[1] == [BlobRecord(sha, data)]


def test_blob_with_the_wrong_sha256_is_refused_by_the_writer():
    with pytest.raises(ValueError, match="does not match"):
        write_pouch(lambda pouch: pouch.add(BlobRecord(REPORT_SHA, PHOTO)))


def test_the_writer_refuses_a_record_the_reader_would_refuse():
    broken = MessageRecord(id=7, from_=[("", "a@example.org")])
    with pytest.raises(ValueError, match="message.id should be text, not 7"):
        write_pouch(lambda pouch: pouch.add(broken))


def test_a_blob_file_that_does_not_match_its_sha256_leaves_the_pouch_unfinishable(tmp_path):
    (tmp_path / "a.bin").write_bytes(PHOTO)
    out = io.BytesIO()
    pouch = PouchWriter(out, sender="box1", recipient="relay")
    with open(tmp_path / "a.bin", "rb") as source, pytest.raises(ValueError, match="does not match"):
        pouch.add(BlobRecord(REPORT_SHA, source))
    with pytest.raises(ValueError, match="unusable"):
        pouch.close()


def test_a_record_from_a_newer_version_with_more_fields_still_reads():
    status = [3, "m1", "sent", 5, "", "a field from the future"]
    assert read_all(raw_pouch([status]))[1] == [StatusRecord("m1", "sent", 5)]


# --- dedupe ---

def test_an_attachment_carried_by_many_messages_travels_once():
    sha, data = blob(os.urandom(200_000))
    shared = [Attachment("minutes.pdf", "application/pdf", len(data), sha)]

    def add(pouch):
        for n in range(5):
            pouch.add(full_message(f"m{n}", attachments=list(shared)))
            pouch.add(BlobRecord(sha, data))

    pouch = write_pouch(add)
    _, records = read_all(pouch)
    assert [r for r in records if isinstance(r, BlobRecord)] == [BlobRecord(sha, data)]
    assert len([r for r in records if isinstance(r, MessageRecord)]) == 5
    assert len(pouch) < 1.2 * len(data)  # incompressible bytes, so the size shows one copy


def test_adding_a_blob_says_whether_it_was_new():
    results = []
    write_pouch(lambda pouch: results.extend([pouch.add(BlobRecord(PHOTO_SHA, PHOTO)),
                                              pouch.add(BlobRecord(PHOTO_SHA, PHOTO))]))
    assert results == [True, False]


# --- memory ---

def test_reading_a_large_pouch_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.pouch"
    with open(path, "wb") as out, PouchWriter(out, sender="relay", recipient="box1", level=1) as pouch:
        for n in range(40):  # 40 MiB of incompressible attachments
            pouch.add(BlobRecord(*blob(os.urandom(1 << 20))))
            pouch.add(full_message(f"m{n}"))

    tracemalloc.start()
    try:
        with open(path, "rb") as source:
            count = sum(1 for _ in PouchReader(source))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 80
    assert path.stat().st_size > 40 << 20
    assert peak < 8 << 20, f"peak {peak} bytes while reading a {path.stat().st_size}-byte pouch"


def test_blob_chunks_mode_never_holds_a_whole_blob(tmp_path):
    path = tmp_path / "one-big-blob.pouch"
    digest = hashlib.sha256()
    with open(tmp_path / "big.bin", "wb") as big:
        for _ in range(32):
            piece = os.urandom(1 << 20)
            digest.update(piece)
            big.write(piece)
    with open(path, "wb") as out, open(tmp_path / "big.bin", "rb") as source, \
            PouchWriter(out, sender="relay", recipient="box1", level=1) as pouch:
        pouch.add(BlobRecord(digest.digest(), source))

    tracemalloc.start()
    try:
        with open(path, "rb") as source:
            chunks = [(c.offset, len(c.data), c.last) for c in PouchReader(source, blob_chunks=True)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(chunks) == 32 and chunks[-1][2] and chunks[5][0] == 5 << 20
    assert peak < 8 << 20  # a few chunks' worth, for a 32 MiB blob


# --- damage ---

def test_wrong_magic_is_refused():
    with pytest.raises(BadMagic, match="not a pouch.*byte 0"):
        PouchReader(io.BytesIO(b"PK\x03\x04" + sample_pouch()[4:]))


def test_unknown_version_is_refused():
    data = bytearray(sample_pouch())
    data[4] = 2
    with pytest.raises(UnsupportedVersion, match="version 2"):
        PouchReader(io.BytesIO(bytes(data)))


def test_unknown_flags_are_refused():
    data = bytearray(sample_pouch())
    data[5] |= 0x80
    with pytest.raises(UnsupportedVersion, match="flags 0x8"):
        PouchReader(io.BytesIO(bytes(data)))


@pytest.mark.parametrize("keep", [0, 3, 11, 40, -200, -5, -1])
def test_a_truncated_pouch_is_refused(keep):
    data = sample_pouch()
    with pytest.raises(TruncatedPouch, match="ends"):
        read_all(data[:keep] if keep >= 0 else data[:keep])


def test_truncation_is_caught_even_on_a_file_that_cannot_seek():
    data = sample_pouch()[:-3]

    class Pipe(io.BytesIO):
        def seekable(self):
            return False

    with pytest.raises(TruncatedPouch):
        list(PouchReader(Pipe(data)))


def test_a_flipped_byte_in_the_header_is_caught():
    data = bytearray(sample_pouch())
    data[20] ^= 0x01
    with pytest.raises(MalformedHeader, match="CRC"):
        PouchReader(io.BytesIO(bytes(data)))


def test_a_flipped_byte_anywhere_in_the_stream_is_caught():
    data = sample_pouch()
    start = PouchReader(io.BytesIO(data)).header.size
    for position in range(start, len(data), max(1, (len(data) - start) // 60)):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        with pytest.raises(PouchError):
            read_all(bytes(damaged))


def test_bytes_after_the_end_are_refused():
    with pytest.raises(CorruptPouch, match="unexpected bytes"):
        read_all(sample_pouch() + b"\0")


def test_a_bomb_declared_in_the_header_is_refused_before_reading():
    with pytest.raises(PouchTooLarge, match="declares"):
        PouchReader(io.BytesIO(sample_pouch()), max_raw_bytes=100)


def test_a_bomb_that_lies_about_its_size_stops_at_the_cap():
    zeros = msgpack.packb(bytes(8 << 20))
    data = raw_pouch([zeros] * 50, declared_raw=1000)  # 400 MiB of zeros in a few kB
    assert len(data) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(PouchTooLarge, match="more than 1000 bytes"):
            read_all(data, max_record_bytes=16 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_a_record_over_the_size_cap_is_refused():
    with pytest.raises(CorruptPouch, match=r"record 0 .* cap: 30\d\d exceeds max_bin_len\(1000\)"):
        read_all(raw_pouch([[2, REPORT_SHA, len(REPORT), 0, REPORT]]), max_record_bytes=1000)


def test_a_record_claiming_a_huge_list_is_refused_without_building_it():
    huge_list = b"\xdd" + (1 << 20).to_bytes(4, "big") + b"\xc0" * (1 << 20)  # a million nils
    tracemalloc.start()
    try:
        with pytest.raises(MalformedRecord, match="record 0 .*exceeds max_array_len"):
            read_all(raw_pouch([huge_list]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20


def test_an_unknown_dictionary_is_named():
    data = raw_pouch([[3, "m", "sent", 1]])
    header = PouchReader(io.BytesIO(data)).header
    header.dict_id, header.flags = 12345, pouch_header.FLAG_DICTIONARY
    data = pouch_header.pack(header) + data[header.size:]
    with pytest.raises(PouchError, match="dictionary 12345"):
        PouchReader(io.BytesIO(data))


# --- bad records, and skipping them ---

GOOD_STATUS = [3, "m1", "sent", 10]


def framed(bad):
    """raw_pouch packs lists itself; bytes are used as the frame's content as they are."""
    return bad if isinstance(bad, list) else msgpack.packb(bad)

BAD_RECORDS = [
    [1, 42, [["", "a@example.org"]]],  # message id that is not text
    b"\xc1\xc1 not msgpack",  # framed bytes that do not decode
    [2, PHOTO_SHA, len(REPORT), 0, REPORT],  # blob whose data does not match its sha256
    [3, "m2"],  # status without state and time
    [1, "m3", [["only one part"]]],  # malformed address
    [6, "417", "yes", 10],  # flag whose seen is not true or false
    [4, "a1", "owner@box", "x@example.org", "active", "sealed as text"],  # account seal that is not bytes
]


@pytest.mark.parametrize("bad", BAD_RECORDS, ids=["id", "msgpack", "sha256", "fields", "address", "flag", "seal"])
def test_a_malformed_record_is_named_with_its_position(bad):
    with pytest.raises(MalformedRecord, match="^record 1 "):
        read_all(raw_pouch([GOOD_STATUS, framed(bad)]))


def test_skip_mode_keeps_the_good_records_and_lists_the_bad():
    records = [GOOD_STATUS] + [framed(bad) for bad in BAD_RECORDS]
    records += [[1, "m9", [["", "ok@example.org"]]]]
    reader, read = read_all(raw_pouch(records), errors="skip")

    assert read == [StatusRecord("m1", "sent", 10), MessageRecord(id="m9", from_=[("", "ok@example.org")])]
    assert [skipped.index for skipped in reader.skipped] == [1, 2, 3, 4, 5, 6, 7]
    assert [skipped.kind for skipped in reader.skipped] == ["message", "unknown kind", "blob", "status", "message",
                                                            "flag", "account"]
    assert "sha256" in reader.skipped[2].reason


def test_an_unknown_kind_is_skipped_and_reported_in_both_modes():
    pouch = raw_pouch([[99, "from the future"], GOOD_STATUS])
    for errors in ("raise", "skip"):
        reader, read = read_all(pouch, errors=errors)
        assert read == [StatusRecord("m1", "sent", 10)]
        assert [(s.index, s.kind) for s in reader.skipped] == [(0, "kind 99")]
        assert "unknown record kind 99" in reader.skipped[0].reason


def test_blob_chunks_out_of_order_are_refused():
    sha, data = blob(b"x" * 10)
    chunks = [[2, sha, 10, 5, data[5:]], [2, sha, 10, 0, data[:5]]]
    with pytest.raises(MalformedRecord, match="out of order"):
        read_all(raw_pouch(chunks))


def test_blob_chunks_mode_yields_pieces_and_checks_the_whole():
    sha, data = blob(b"abcdefghij")
    read = read_all(raw_pouch([[2, sha, 10, 0, data[:6]], [2, sha, 10, 6, data[6:]]]), blob_chunks=True)[1]
    assert read == [BlobChunk(sha, 10, 0, b"abcdef"), BlobChunk(sha, 10, 6, b"ghij")]
    with pytest.raises(MalformedRecord, match="sha256"):
        read_all(raw_pouch([[2, sha, 10, 0, b"abcdef"], [2, sha, 10, 6, b"XXXX"]]), blob_chunks=True)
