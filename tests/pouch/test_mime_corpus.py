"""pouch.mime on the shared corpus of real mail: nothing crashes, nothing is
lost, and what we would send back reads as what we received.

Every message is parsed once per session; the checks use the stdlib parser
on the original bytes as an independent reference.
"""

import base64
import email
import hashlib
from dataclasses import dataclass

import pytest

from pouch.mime import ParsedMessage, build, parse
from pouch.mime.bodytext import html_to_text


@dataclass
class Sample:
    name: str  # folder/file, for failure messages
    reference: email.message.Message  # the stdlib's reading of the same bytes
    parsed: ParsedMessage | None
    error: str = ""


@pytest.fixture(scope="session")
def corpus(corpus_dir):
    samples = []
    for path in sorted(corpus_dir.glob("*/*.eml")):
        raw = path.read_bytes()
        name = f"{path.parent.name}/{path.name}"
        reference = email.message_from_bytes(raw)
        try:
            samples.append(Sample(name, reference, parse(raw, name)))
        except Exception as error:  # noqa: BLE001 - the test reports every failure at once
            samples.append(Sample(name, reference, None, f"{type(error).__name__}: {error}"))
    assert len({sample.name.split("/")[0] for sample in samples}) >= 30, "the corpus looks incomplete"
    return samples


@pytest.fixture(scope="session")
def parsed(corpus):
    return [sample for sample in corpus if sample.parsed]


def test_every_message_parses(corpus):
    failures = [f"{sample.name}: {sample.error}" for sample in corpus if not sample.parsed]
    assert not failures, "\n".join(failures)


def test_every_message_with_body_text_has_a_body(parsed):
    missing = [sample.name for sample in parsed
               if _has_body_text(sample.reference) and not sample.parsed.record.body.strip()]
    assert not missing, "\n".join(missing)


def test_attachment_bytes_are_the_decoded_parts(parsed):
    wrong = []
    for sample in parsed:
        leaves = list(_leaves(sample.reference))
        decoded = {_sha(part.get_payload(decode=True) or b"") for part in leaves if not part.is_multipart()}
        inner_subjects = [_subject(_forwarded(part)) for part in leaves
                          if part.get_content_type() == "message/rfc822" and part.is_multipart()]
        for attachment in sample.parsed.record.attachments:
            data = sample.parsed.blobs[attachment.sha256]
            if (attachment.size, attachment.sha256) != (len(data), _sha(data)):
                wrong.append(f"{sample.name}: {attachment.name} size or digest")
            elif attachment.type == "message/rfc822":
                if _subject(email.message_from_bytes(data)) not in inner_subjects:
                    wrong.append(f"{sample.name}: {attachment.name} is not the forwarded message")
            elif not attachment.type.startswith("message/") and attachment.sha256 not in decoded:
                wrong.append(f"{sample.name}: {attachment.name} differs from its part")
    assert not wrong, "\n".join(wrong)


def test_every_record_builds_back_to_the_same_message(parsed):
    differences = []
    for sample in parsed:
        record = sample.parsed.record
        again = parse(build(record, sample.parsed.blobs), record.id)
        for field in ("subject", "from_", "to", "cc", "reply_to", "body", "body_type"):
            if getattr(record, field) != getattr(again.record, field):
                differences.append(f"{sample.name}: {field}")
        if _attachments(sample.parsed) != _attachments(again):
            differences.append(f"{sample.name}: attachments")
    assert not differences, "\n".join(differences)


def _attachments(parsed):
    """Attachments in a comparable form (order aside: inline parts move ahead of
    the others in the MIME tree we build)."""
    return sorted((a.name, a.type, a.cid, a.inline, _comparable(a.type, parsed.blobs[a.sha256]))
                  for a in parsed.record.attachments)


def _comparable(mime_type, data):
    # A malformed delivery-status (blank lines inside or before its fields, 7
    # in the corpus) is re-blocked by the email package on every pass; its
    # fields are what matters, so blank lines are left out of the comparison.
    if mime_type == "message/delivery-status":
        return b"\n".join(line for line in data.splitlines() if line.strip())
    return data


def _leaves(part):
    """Leaf parts the way a mail client sees them: an attached message is one."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for child in part.get_payload():
            yield from _leaves(child)
    else:
        yield part


def _has_body_text(message):
    return any(
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
        and _visible_text(part)
        for part in _leaves(message)
    )


def _visible_text(part):
    """What a reader would see of the part: HTML with only a <head> shows nothing."""
    data = (part.get_payload(decode=True) or b"").strip()
    if part.get_content_type() == "text/html":
        return html_to_text(data.decode("utf-8", "replace")).strip()
    return data


def _forwarded(part):
    """The attached message; some senders base64 it, which the stdlib does not undo."""
    inner = part.get_payload(0)
    if part.get("content-transfer-encoding", "").strip().lower() == "base64":
        return email.message_from_bytes(base64.b64decode(inner.get_payload()))
    return inner


def _subject(message):
    return " ".join(str(message["Subject"]).split())


def _sha(data):
    return hashlib.sha256(data).digest()
