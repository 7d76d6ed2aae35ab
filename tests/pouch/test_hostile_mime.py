"""Mail as broken or hostile senders write it: bytes no charset reads, NULs, encoded words with
no charset or folded inside one, types that are no type.  Whatever the header bytes, the message
parses into a record both sides can store and a pouch can carry; the mail is never set aside."""

from hypothesis import given, settings
from hypothesis import strategies as st

from pouch import limits, mime
from pouch.container import wire

# Fragments senders really write, or that break a decoder: NUL, lone surrogates as UTF-8
# bytes, bytes no charset reads, RFC 2047 words empty, with no charset, or decoding to NUL.
FRAGMENTS = [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"\r\n\t", b"<", b">", b'"', b";", b"\\", b"/",
             b"=?utf-8?b?AA==?=", b"=?utf-8?q?=00=ff?=", b"=?x-unknown?q?a?=", b"=?utf-8?b?7aCA?=",
             b"=?*0*=utf-8''%00%ff?b?QQ==?=", b"=?utf\r\n\t-8?b?AA==?=", b"*0*=utf-8''%00%ff", b"%00"]
FIELDS = {  # a well-formed message's header values, each of which a sender may break
    "FROM": b"Ami <ami@example.org>", "TO": b"marie@goma.relay.test", "REPLYTO": b"r@example.org",
    "SUBJECT": b"Photos", "DATE": b"Mon, 1 Jan 2024 00:00:00 +0000", "MID": b"<m1@example.org>",
    "REFS": b"<r1@example.org>", "CHARSET": b"utf-8", "BODYTYPE": b"text/plain", "TYPE": b"image/png",
    "NAME": b"photo.png", "CID": b"<c1@example.org>", "DISPOSITION": b"attachment", "INNER": b"Forwarded",
}
TEMPLATE = (b"From: FROM\r\nTo: TO\r\nReply-To: REPLYTO\r\nSubject: SUBJECT\r\nDate: DATE\r\nMessage-ID: MID\r\n"
            b"References: REFS\r\nIn-Reply-To: REFS\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
            b"--BB\r\nContent-Type: BODYTYPE; charset=CHARSET\r\n\r\nHello\r\n"
            b"--BB\r\nContent-Type: TYPE; name=\"NAME\"\r\nContent-ID: CID\r\n"
            b"Content-Disposition: DISPOSITION; filename=\"NAME\"; filename*=NAME\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"
            b"--BB\r\nContent-Type: message/rfc822\r\n\r\nSubject: INNER\r\nFrom: x@example.org\r\n\r\nbody\r\n"
            b"--BB--\r\n")


def message(values):
    raw = TEMPLATE
    for name, value in values.items():
        raw = raw.replace(name.encode(), value)
    return raw


def broken(value):
    """``value`` with fragments put in anywhere."""
    inserts = st.lists(st.tuples(st.integers(0, len(value)), st.sampled_from(FRAGMENTS)), min_size=1, max_size=3)
    return inserts.map(lambda pieces: _inserted(value, pieces))


def _inserted(value, pieces):
    for at, fragment in sorted(pieces, reverse=True):
        value = value[:at] + fragment + value[at:]
    return value


def stored_fields(record):
    """(field, value) of every text of ``record`` no store takes."""
    found = [(name, value) for name, value in vars(record).items()
             if name != "attachments" and limits.unstorable_text(value) is not None]
    return found + [(f"attachment {name}", value) for attachment in record.attachments
                    for name, value in vars(attachment).items() if limits.unstorable_text(value) is not None]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.fixed_dictionaries({}, optional={name: broken(value) for name, value in FIELDS.items()}))
def test_any_header_bytes_parse_into_a_record_every_store_takes(broken_values):
    raw = message({**FIELDS, **broken_values})
    parsed = mime.parse(raw, "r1")
    assert stored_fields(parsed.record) == []
    wire.encode(parsed.record)  # the format's own check, as the relay's packing makes it
    assert any(a.name.endswith(".eml") for a in parsed.record.attachments)  # the parts after it were read


def test_a_type_that_is_no_type_is_read_as_rfc_2045_says():
    for written in (b"image/pn\x00g", b"\xff\xfe/\xe9t", b"x" * 300 + b"/y", b"garbage", b"a/b/c"):
        parsed = mime.parse(message({**FIELDS, "TYPE": written}), "r1")
        [photo] = [a for a in parsed.record.attachments if a.name == "photo.png"]
        assert photo.type == "text/plain", written  # RFC 2045 5.2: unreadable, so text/plain
        assert parsed.blobs[photo.sha256] == b"hello"


def test_an_encoded_word_with_no_charset_stays_as_written_and_the_sender_is_read():
    parsed = mime.parse(message({**FIELDS, "FROM": b"=?*0*=utf-8''%00%ff?b?QQ==?= <ami@example.org>"}), "r1")
    assert [email for _, email in parsed.record.from_] == ["ami@example.org"]
    folded = mime.parse(message({**FIELDS, "TO": b"=?utf\r\n\t-8?b?AA==?=b@example.org"}), "r1")
    assert [email for _, email in folded.record.to] == ["b@example.org"]


# Any tree of parts a sender may write: types, transfer encodings and charsets real or not,
# bodies of bytes no charset reads, multiparts whose boundary never comes.
PART_TYPES = ["text/plain", "text/html", "image/png", "application/pdf", "message/delivery-status",
              "text/calendar", "message/partial", "text/rfc822-headers", "application/ms-tnef", "x\0/y"]
CONTAINER_TYPES = ["multipart/mixed", "multipart/alternative", "multipart/related", "multipart/report",
                   "multipart/signed"]
ENCODINGS = [b"", b"base64", b"quoted-printable", b"8bit", b"binary", b"x-uuencode", b"bAsE64", b"gzip", b"\xc3\xbf"]
CHARSETS = [b"utf-8", b"iso-8859-1", b"utf-7", b"utf-16", b"gb2312", b"rot13", b"zlib", b"idna", b"x-unknown", b""]
BODIES = [b"hello", b"\0\xff\xfe", b"<p>hi<img src=cid:a></p>", b"=\r\n=ZZ=0", b"!!!!====", b"\xed\xa0\x80",
          b"begin 644 x\r\n#86)C\r\n`\r\nend\r\n", b"+AGEAYgBj-", b"\r\n.\r\n", b""]


@st.composite
def leaf(draw):
    head = b"Content-Type: %s; charset=%s\r\n" % (draw(st.sampled_from(PART_TYPES)).encode(),
                                                  draw(st.sampled_from(CHARSETS)))
    if encoding := draw(st.sampled_from(ENCODINGS)):
        head += b"Content-Transfer-Encoding: " + encoding + b"\r\n"
    if draw(st.booleans()):
        head += b'Content-Disposition: %s; filename="f"\r\nContent-ID: <a>\r\n' % draw(
            st.sampled_from([b"attachment", b"inline", b"x"]))
    return head + b"\r\n" + b"".join(draw(st.lists(st.sampled_from(BODIES), max_size=3)))


def container(children):
    @st.composite
    def make(draw):
        kind = draw(st.sampled_from(CONTAINER_TYPES + ["message/rfc822"]))
        if kind == "message/rfc822":
            return b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: a@example.org\r\n" + draw(children)
        boundary = b"b%d" % draw(st.integers(0, 99))
        head = b"Content-Type: %s; charset=%s" % (kind.encode(), draw(st.sampled_from(CHARSETS)))
        if draw(st.sampled_from([True, True, False])):  # or no boundary is named
            head += b"; boundary=" + boundary
        body = b"".join(b"--%s\r\n%s\r\n" % (boundary, part) for part in draw(st.lists(children, max_size=3)))
        return head + b"\r\n\r\n" + body + (b"--%s--\r\n" % boundary if draw(st.booleans()) else b"")
    return make()


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.recursive(leaf(), container, max_leaves=8))
def test_any_tree_of_parts_parses_into_a_record_every_store_takes(tree):
    parsed = mime.parse(b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n" + tree, "r1")
    assert stored_fields(parsed.record) == []
    wire.encode(parsed.record)
    assert all(a.sha256 in parsed.blobs for a in parsed.record.attachments)
