"""pouch.mime on messages built here: what a mail client would show of them,
and what a recipient's mail client would see of the messages we send."""

import email
import hashlib
from email import policy

import pytest

from pouch.mime import MimeError, build, parse
from pouch.records import BODY_HTML, BODY_TEXT, Attachment, MessageRecord


def message(*headers, body=b"", content_type=b"text/plain; charset=us-ascii", cte=b"8bit"):
    """Raw message bytes with the given header lines (bytes) and body."""
    lines = [b"From: Ann <ann@example.org>", b"To: bob@example.net", b"Subject: test", *headers]
    if content_type:
        lines += [b"MIME-Version: 1.0", b"Content-Type: " + content_type, b"Content-Transfer-Encoding: " + cte]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def multipart(subtype, *parts, boundary=b"BOUNDARY", headers=()):
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"
    return message(*headers, body=body, content_type=b"multipart/" + subtype + b"; boundary=" + boundary, cte=b"7bit")


def part(content_type, body, *headers, cte=b"8bit"):
    lines = [b"Content-Type: " + content_type, b"Content-Transfer-Encoding: " + cte, *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def sha(data):
    return hashlib.sha256(data).digest()


# -- parsing: bodies and charsets ---------------------------------------------

@pytest.mark.parametrize("charset, text", [
    ("iso-8859-1", "Café déjà vu, garçon"),
    ("windows-1252", "“Smart” quotes – cost 5 €"),
    ("iso-2022-jp", "こんにちは、世界"),
    ("koi8-r", "Привет, мир"),
])
def test_body_is_decoded_from_its_declared_charset(charset, text):
    raw = message(body=text.encode(charset), content_type=f"text/plain; charset={charset}".encode())
    record = parse(raw, "m1").record
    assert record.body == text
    assert record.body_type == BODY_TEXT


@pytest.mark.parametrize("declared", ["iso-8859-1", "us-ascii", "x-no-such-charset", "uft-8"])
def test_utf8_body_under_a_wrong_label_is_not_mojibake(declared):
    raw = message(body="Ngai nazali malamu, mercí, Grüße".encode(), content_type=f"text/plain; charset={declared}".encode())
    assert parse(raw, "m1").record.body == "Ngai nazali malamu, mercí, Grüße"


def test_unknown_label_on_windows_1252_bytes_falls_back_to_it():
    raw = message(body="Voilà l’été".encode("cp1252"), content_type=b"text/plain; charset=x-unknown")
    assert parse(raw, "m1").record.body == "Voilà l’été"


@pytest.mark.parametrize("declared", ["zlib", "base64", "rot13", "unicode-1-1-utf-7", "\"\"", "idna", "punycode"])
def test_odd_charset_labels_never_raise(declared):
    raw = message(body="Bonjour, ça va".encode(), content_type=f"text/plain; charset={declared}".encode())
    assert parse(raw, "m1").record.body == "Bonjour, ça va"
    # "idna" and "punycode" raise even with errors="replace": such mail was set aside for good.
    subject = f"=?{declared}?q?Caf=E9?=".encode()
    assert parse(message(b"Subject: " + subject + b" \xff", body=b"x"), "m2").record.subject


def test_invalid_bytes_for_the_declared_charset_still_give_text():
    raw = message(body=b"ok \xff\xfe\x81 ok", content_type=b"text/plain; charset=utf-8")
    body = parse(raw, "m1").record.body
    assert body.startswith("ok ") and body.endswith(" ok")


@pytest.mark.parametrize("subtype, first, second, body", [
    # The text twin of an HTML alternative is dropped.
    (b"alternative", (b"text/plain", b"Hello *world*"), (b"text/html", b"<p>Hello <b>world</b></p>"),
     "<p>Hello <b>world</b></p>"),
    # Text next to HTML (a list footer) is kept, shown as it is.
    (b"mixed", (b"text/html", b"<p>Announcement</p>"), (b"text/plain", b"-- \r\nlist footer <unsubscribe>"),
     "<p>Announcement</p><pre>-- \nlist footer &lt;unsubscribe&gt;</pre>"),
])
def test_html_body_from_several_text_parts(subtype, first, second, body):
    raw = multipart(subtype, *(part(kind + b"; charset=utf-8", text) for kind, text in (first, second)))
    record = parse(raw, "m1").record
    assert (record.body, record.body_type) == (body, BODY_HTML)
    assert record.attachments == []


def test_alternative_without_html_keeps_the_text_and_the_calendar_as_attachment():
    invite = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    raw = multipart(
        b"alternative",
        part(b"text/plain; charset=utf-8", b"Meeting at noon"),
        part(b"text/calendar; method=REQUEST; charset=utf-8", invite),
    )
    parsed = parse(raw, "m1")
    assert (parsed.record.body, parsed.record.body_type) == ("Meeting at noon", BODY_TEXT)
    [calendar] = parsed.record.attachments
    assert (calendar.type, calendar.name) == ("text/calendar", "invite.ics")
    assert parsed.blobs[calendar.sha256] == invite


def test_format_flowed_text_is_joined_into_paragraphs():
    raw = message(body=b"This line was \r\nwrapped by the sender.\r\n", content_type=b"text/plain; format=flowed")
    assert parse(raw, "m1").record.body == "This line was wrapped by the sender."


# -- parsing: headers ------------------------------------------------------------

def test_rfc2047_subject_is_decoded_joined_and_whitespace_normalised():
    # "Réunion à Kinshasa" with the "é" split across two base64 words, then Q words.
    subject = (b"Subject: =?utf-8?b?UsOp?= =?utf-8?b?dW5pb24=?=\r\n"
               b" =?iso-8859-1?q?_=E0_Kinshasa?=   demain\r\n\t  matin")
    raw = message(subject).replace(b"Subject: test\r\n", b"")
    assert parse(raw, "m1").record.subject == "Réunion à Kinshasa demain matin"


def test_raw_utf8_and_unencodable_words_in_headers_survive():
    raw = message(b"Cc: =?x-bogus?q?Jo?= <jo@example.org>").replace(b"Subject: test", "Subject: Mbote na bino ✓".encode())
    record = parse(raw, "m1").record
    assert record.subject == "Mbote na bino ✓"
    assert record.cc == [("Jo", "jo@example.org")]


def test_address_lists_with_groups_comments_and_garbage():
    raw = message(
        b'To: Team: "Kabila, Joseph" <jk@example.cd>, =?utf-8?q?Am=C3=A9lie?= <amelie@example.fr>;,'
        b" <<garbage>>, ,, plain@example.com (Plain Person), undisclosed-recipients:;"
    ).replace(b"To: bob@example.net\r\n", b"")
    assert parse(raw, "m1").record.to == [
        ("Kabila, Joseph", "jk@example.cd"),
        ("Amélie", "amelie@example.fr"),
        ("", "plain@example.com"),
    ]


def test_a_named_null_sender_is_kept_for_display():
    raw = message(b"Reply-To: MAILER-DAEMON <>")
    assert parse(raw, "m1").record.reply_to == [("MAILER-DAEMON", "")]


def test_ids_lose_their_brackets():
    raw = message(
        b"Message-ID: <new@example.org>",
        b"In-Reply-To: Your message of today <parent@example.org>",
        b"References: <root@example.org>\r\n <parent@example.org>",
    )
    record = parse(raw, "m1").record
    assert record.message_id == "new@example.org"
    assert record.in_reply_to == "parent@example.org"
    assert record.references == ["root@example.org", "parent@example.org"]


def test_date_is_unix_seconds():
    raw = message(b"Date: Tue, 1 Jul 2003 10:52:37 +0200")
    assert parse(raw, "m1").record.date == 1057049557


def test_broken_date_falls_back_to_the_newest_received_stamp():
    raw = message(
        b"Received: from b by c; Wed, 2 Jul 2003 08:00:00 +0000",
        b"Received: from a by b; Wed, 2 Jul 2003 07:59:00 +0000",
        b"Date: sometime last week",
    )
    assert parse(raw, "m1").record.date == 1057132800


def test_missing_date_without_trace_is_zero():
    assert parse(message(b"Date: 32 Foo 20x3"), "m1").record.date == 0


# -- parsing: attachments --------------------------------------------------------

def test_rfc2231_and_rfc2047_file_names_are_decoded():
    raw = multipart(
        b"mixed",
        part(b"text/plain", b"see attached"),
        part(b"application/pdf", b"JVBERi0xLjQK", b"Content-Disposition: attachment;\r\n"
             b" filename*0*=utf-8''%C3%89tat%20des;\r\n filename*1*=%20lieux.pdf", cte=b"base64"),
        part(b'application/pdf; name="=?utf-8?q?Re=C3=A7u_n=C2=B02.pdf?="', b"JVBERi0xLjQK", cte=b"base64"),
        part(b"application/octet-stream", b"AAEC", b"Content-Disposition: attachment; filename=\"..\\\\..\\\\evil.exe\"",
             cte=b"base64"),
        part(b"image/png", b"iVBORw0KGgo=", cte=b"base64"),
    )
    names = [attachment.name for attachment in parse(raw, "m1").record.attachments]
    assert names[:3] == ["État des lieux.pdf", "Reçu n°2.pdf", "evil.exe"]
    assert names[3].endswith(".png")


def test_related_images_keep_their_content_id_and_bytes():
    png = b"\x89PNG\r\n\x1a\nfake image"
    raw = multipart(
        b"related",
        part(b"text/html; charset=utf-8", b'<p>Logo: <img src="cid:logo@example.org"></p>'),
        part(b"image/png", b"iVBORw0KGgpmYWtlIGltYWdl", b"Content-ID: <logo@example.org>", cte=b"base64"),
    )
    parsed = parse(raw, "m1")
    [image] = parsed.record.attachments
    assert (image.cid, image.inline, image.type, image.size) == ("logo@example.org", True, "image/png", len(png))
    assert parsed.blobs == {sha(png): png}
    assert 'src="cid:logo@example.org"' in parsed.record.body


def test_forwarded_message_becomes_an_eml_attachment():
    inner = b"From: carl@example.org\r\nSubject: Original plan\r\n\r\nThe plan.\r\n"
    raw = multipart(b"mixed", part(b"text/plain", b"FYI"), part(b"message/rfc822", inner, cte=b"7bit"))
    parsed = parse(raw, "m1")
    [forwarded] = parsed.record.attachments
    assert (forwarded.name, forwarded.type) == ("Original plan.eml", "message/rfc822")
    eml = email.message_from_bytes(parsed.blobs[forwarded.sha256])
    assert eml["Subject"] == "Original plan"
    assert eml.get_payload().strip() == "The plan."
    assert parsed.record.body == "FYI"


def test_the_same_attachment_twice_travels_once():
    attachment = part(b"application/pdf", b"JVBERi0xLjQK", b'Content-Disposition: attachment; filename="a.pdf"',
                      cte=b"base64")
    parsed = parse(multipart(b"mixed", part(b"text/plain", b"two copies"), attachment, attachment), "m1")
    assert [a.name for a in parsed.record.attachments] == ["a.pdf", "a.pdf"]
    assert parsed.blobs == {sha(b"%PDF-1.4\n"): b"%PDF-1.4\n"}


def test_delivery_report_shows_its_text_and_carries_the_report_parts():
    raw = multipart(
        b"report; report-type=delivery-status",
        part(b"text/plain", b"Your message could not be delivered."),
        part(b"message/delivery-status", b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
             b"Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n", cte=b"7bit"),
        part(b"text/rfc822-headers", b"Subject: hello\r\n", cte=b"7bit"),
    )
    parsed = parse(raw, "m1")
    assert parsed.record.body == "Your message could not be delivered."
    report, headers = parsed.record.attachments
    assert report.type == "message/delivery-status"
    assert b"Status: 5.1.1" in parsed.blobs[report.sha256]
    assert (headers.type, headers.name) == ("text/rfc822-headers", "headers.txt")


def test_unusable_input_is_a_mime_error():
    with pytest.raises(MimeError):
        parse(b"", "m1")
    with pytest.raises(MimeError):
        parse(b" \r\n\r\n", "m1")


def test_garbage_converts_without_raising():
    garbage = bytes(range(256)) * 20 + b"\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=\r\n"
    record = parse(garbage, "m1").record
    assert record.id == "m1"


# -- building --------------------------------------------------------------------

def a_record(**fields):
    values = dict(
        id="out-1",
        from_=[("Mama Ngozi", "ngozi@box1.example.org")],
        to=[("Jean-Pierre Kɔ́ngɔ", "jp@example.com"), ("", "team@example.net")],
        cc=[("Smith, Anne", "anne@example.org")],
        bcc=[("Secret", "hidden@example.org")],
        reply_to=[("", "replies@box1.example.org")],
        subject="Bonjour à tous – une très longue ligne d'objet qui doit être pliée correctement",
        date=1700000000,
        message_id="out-1@box1.example.org",
        in_reply_to="parent@example.com",
        references=["root@example.com", "parent@example.com"],
        body="Habari!\nLine two.",
        body_type=BODY_TEXT,
    )
    values.update(fields)
    return MessageRecord(**values)


def read(raw):
    """The message as a recipient's client (the modern stdlib parser) reads it."""
    return email.message_from_bytes(raw, policy=policy.default)


def test_built_headers_say_who_what_when_and_never_bcc():
    raw = build(a_record(), {})
    sent = read(raw)
    assert sent["From"].addresses[0].display_name == "Mama Ngozi"
    assert [a.addr_spec for a in sent["To"].addresses] == ["jp@example.com", "team@example.net"]
    assert sent["To"].addresses[0].display_name == "Jean-Pierre Kɔ́ngɔ"
    assert sent["Cc"].addresses[0].display_name == "Smith, Anne"
    assert sent["Subject"] == a_record().subject
    assert sent["Date"].datetime.timestamp() == 1700000000
    assert sent["Message-ID"] == "<out-1@box1.example.org>"
    assert sent["In-Reply-To"] == "<parent@example.com>"
    assert sent["References"].split() == ["<root@example.com>", "<parent@example.com>"]
    assert "Bcc" not in sent and b"hidden@example.org" not in raw


def test_built_message_is_7bit_crlf_with_short_lines():
    raw = build(a_record(body="Ça va? " * 400), {})
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 78


def test_html_body_gets_a_readable_text_alternative():
    html = ('<html><head><style>p{color:red}</style></head><body><h1>News</h1><p>Hello&nbsp;<b>world</b>, '
            'see <a href="https://example.org/x">the site</a>.</p><ul><li>one</li><li>two</li></ul></body></html>')
    sent = read(build(a_record(body=html, body_type=BODY_HTML), {}))
    assert sent.get_content_type() == "multipart/alternative"
    plain, rich = sent.get_payload()
    assert rich.get_content().rstrip("\r\n") == html
    text = plain.get_content().replace("\r\n", "\n")
    assert "color" not in text and "<" not in text.replace("<https://example.org/x>", "")
    assert "News" in text and "Hello\xa0world, see the site <https://example.org/x>." in text
    assert "- one\n- two" in text


def test_inline_images_go_in_related_and_files_get_encoded_names():
    png, pdf = b"\x89PNG fake", b"%PDF-1.4 fake"
    record = a_record(
        body='<p><img src="cid:logo@box1"></p>',
        body_type=BODY_HTML,
        attachments=[
            Attachment("logo.png", "image/png", len(png), sha(png), cid="logo@box1", inline=True),
            Attachment("Relevé de compte №3.pdf", "application/pdf", len(pdf), sha(pdf)),
        ],
    )
    sent = read(build(record, {sha(png): png, sha(pdf): pdf}))
    assert sent.get_content_type() == "multipart/mixed"
    body, document = sent.get_payload()
    related = body.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert (image["Content-ID"], image.get_content()) == ("<logo@box1>", png)
    assert document.get_filename() == "Relevé de compte №3.pdf"
    assert document.get_content() == pdf


def test_a_missing_blob_is_a_mime_error():
    record = a_record(attachments=[Attachment("a.pdf", "application/pdf", 3, sha(b"abc"))])
    with pytest.raises(MimeError, match="a.pdf"):
        build(record, {})


def test_a_message_without_date_or_id_gets_them():
    sent = read(build(a_record(date=0, message_id=""), {}))
    assert sent["Date"].datetime.year >= 2024
    assert sent["Message-ID"].endswith("@box1.example.org>")


# -- round trips -----------------------------------------------------------------

def round_trip(record, blobs):
    again = parse(build(record, blobs), record.id)
    return again.record, again.blobs


def test_text_message_round_trips():
    record = a_record()
    again, blobs = round_trip(record, {})
    record.bcc = []  # never sent
    assert again == record
    assert blobs == {}


def test_html_message_with_all_kinds_of_attachments_round_trips():
    png, eml = b"\x89PNG fake", "From: x@example.org\r\nSubject: Vieux message\r\n\r\nCorps à 8 bits\r\n".encode()
    report = b"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nStatus: 5.0.0\r\n"
    attachments = [
        Attachment("logo.png", "image/png", len(png), sha(png), cid="logo@box1", inline=True),
        Attachment("Vieux message.eml", "message/rfc822", len(eml), sha(eml)),
        Attachment("delivery-status.txt", "message/delivery-status", len(report), sha(report)),
        Attachment("logo copy.png", "image/png", len(png), sha(png)),
    ]
    record = a_record(body='<p>Voir <img src="cid:logo@box1"> – merci</p>', body_type=BODY_HTML, bcc=[],
                      attachments=attachments)
    blobs = {sha(png): png, sha(eml): eml, sha(report): report}
    again, again_blobs = round_trip(record, blobs)
    assert again_blobs == blobs

    def key(attachment):  # inline parts come first in MIME order
        return attachment.name, attachment.type
    assert sorted(again.attachments, key=key) == sorted(attachments, key=key)
    again.attachments = record.attachments
    assert again == record


def test_non_ascii_addresses_round_trip_as_utf8_headers():
    record = a_record(to=[("Ʃigma", "ʃiku@exämple.org")], cc=[], bcc=[])
    raw = build(record, {})
    assert "ʃiku@exämple.org".encode() in raw
    again, _ = round_trip(record, {})
    assert again == record


def test_truncated_or_corrupted_messages_still_convert():
    # What a dropped link or a broken relay could hand over: never a crash.
    png, eml = b"\x89PNG fake", b"From: x@example.org\r\nSubject: old\r\n\r\nold body\r\n"
    record = a_record(
        body='<p>Voir <img src="cid:logo@box1"></p>', body_type=BODY_HTML,
        attachments=[Attachment("logo.png", "image/png", len(png), sha(png), cid="logo@box1", inline=True),
                     Attachment("old.eml", "message/rfc822", len(eml), sha(eml))],
    )
    raw = build(record, {sha(png): png, sha(eml): eml})
    for cut in range(1, len(raw), max(1, len(raw) // 150)):
        parse(raw[:cut], "cut")
        corrupted = bytearray(raw)
        corrupted[cut] ^= 0xA5
        parse(bytes(corrupted), "flipped")


@pytest.mark.parametrize("wrapper", [
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
])
def test_hostile_nesting_keeps_headers_and_text(wrapper):
    raw = b"From: a@example.org\r\nSubject: deep\r\n" + wrapper * 3000 + b"Content-Type: text/plain\r\n\r\nhello\r\n"
    record = parse(raw, "m1").record
    assert (record.subject, record.from_) == ("deep", [("", "a@example.org")])
    assert record.body.rstrip().endswith("hello")


def test_line_breaks_in_fields_cannot_inject_headers():
    data = b"data"
    record = a_record(
        to=[("Eve\r\nBcc: x@evil.example", "eve@example.org\r\nBcc: y@evil.example")],
        message_id="id@x\r\nBcc: z@evil.example",
        references=["r@x\nBcc: w@evil.example"],
        attachments=[Attachment("a\r\nBcc: v@evil.example.txt", "text/plain", 4, sha(data), cid="c\r\nBcc: u")],
    )
    sent = read(build(record, {sha(data): data}))
    assert "Bcc" not in sent
    assert all("evil" not in str(part.get("Bcc", "")) for part in sent.walk())
    assert sent.get_payload()[1].get_filename() == "aBcc: v@evil.example.txt"  # one harmless line


def test_html_without_a_mime_charset_uses_its_meta_charset():
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>' \
           '<body>Здравствуйте</body></html>'
    raw = message(body=html.encode("cp1251"), content_type=b"text/html")
    assert parse(raw, "m1").record.body == "Здравствуйте"  # the <head> does not travel


def test_raw_utf8_name_cut_inside_a_character_stays_readable():
    name = "Картинка с очень длинным именем".encode()[:-1]  # the last character cut in half
    raw = multipart(b"mixed", part(b"text/plain", b"hi"),
                    part(b"image/png", b"iVBORw0KGgo=", b'Content-Disposition: attachment; filename="' + name + b'"',
                         cte=b"base64"))
    [image] = parse(raw, "m1").record.attachments
    assert image.name == "Картинка с очень длинным имене\ufffd"


# -- HTML bodies travel as the box shows them (pouch.html) --------------------

NEWS = (b'<html><head><title>News</title><style>p{color:red}</style></head><body style="margin:0">\n'
        b'  <p class="x">Read <a href="https://example.org/a" style="c">this</a></p>\n'
        b'  <img src="https://tracker.example.com/o.gif" width="1"><img src="cid:logo@example.org" alt="Logo">\n'
        b'</body></html>')


def test_html_body_is_reduced_to_what_the_box_shows():
    raw = multipart(b"alternative", part(b"text/plain", b"Read this: https://example.org/a"),
                    part(b"text/html; charset=utf-8", NEWS))
    record = parse(raw, "m1").record
    assert (record.body, record.body_type) == (
        '<p>Read <a href="https://example.org/a">this</a></p><img width="1"><img src="cid:logo@example.org" '
        'alt="Logo">', BODY_HTML)
    assert parse(raw, "m1", reduced=False).record.body == NEWS.decode()


def test_html_twin_that_shows_nothing_leaves_the_text():
    raw = multipart(b"alternative", part(b"text/plain", b"Your message could not be delivered."),
                    part(b"text/html", b"<html><head><title>DSN</title></head><body>\n</body></html>"))
    assert (parse(raw, "m1").record.body, parse(raw, "m1").record.body_type) == (
        "Your message could not be delivered.", BODY_TEXT)


def test_html_nested_too_deep_arrives_as_its_text():
    raw = message(body=b"<div>" * 20_000 + b"Hello <b>there</b> & welcome" + b"</div>" * 20_000,
                  content_type=b"text/html; charset=utf-8")
    record = parse(raw, "m1").record
    assert (record.body, record.body_type) == ("<pre>Hello there &amp; welcome\n</pre>", BODY_HTML)
