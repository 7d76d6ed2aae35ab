"""`mailpouch-pouch` run as the console script, on real files."""

import hashlib
import io
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from pouch.container import PouchReader, wire
from pouch.records import BlobRecord
from tests.pouch.test_container import ACCOUNT, PHOTO, PHOTO_SHA, REPORT, REPORT_SHA, full_message, sample_pouch

SCRIPT = Path(sys.executable).with_name("mailpouch-pouch")
MINUTES = b"%PDF-1.4 minutes of the meeting " * 40


def run(*args, timeout=60):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def write_eml(path, subject, sender, attachment=None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "team@example.org"
    message["Subject"] = subject
    message["Date"] = "Thu, 16 Nov 2023 10:00:00 +0100"
    message["Message-ID"] = f"<{path.stem}@example.org>"
    message.set_content(f"Hello, this is {subject}.\n")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="minutes.pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(message.as_bytes())


@pytest.fixture
def mail_folder(tmp_path):
    folder = tmp_path / "mail"
    write_eml(folder / "a.eml", "Budget 2024", "Amani <amani@example.cd>", MINUTES)
    write_eml(folder / "team" / "b.eml", "Re: Budget 2024", "zoe@example.cd", MINUTES)
    write_eml(folder / "team" / "c.eml", "Lunch", "Jo <jo@example.org>")
    (folder / "empty.eml").write_bytes(b"")
    (folder / "notes.txt").write_text("not mail")
    return folder


@pytest.fixture
def packed(mail_folder, tmp_path):
    result = run("pack", "--eml", mail_folder, "-o", tmp_path / "out.pouch", "--sender", "relay")
    assert result.returncode == 0, result.stderr
    return tmp_path / "out.pouch", result


def test_pack_converts_every_message_and_names_the_one_it_cannot(packed):
    _, result = packed
    assert "empty.eml: cannot convert" in result.stderr
    assert "packed 3 of 4 messages" in result.stderr
    assert "Traceback" not in result.stderr


def test_inspect_json_lists_messages_and_each_attachment_once(packed):
    pouch, _ = packed
    result = run("inspect", pouch, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    messages = {r["id"]: r for r in report["records"] if r["kind"] == "message"}
    assert set(messages) == {"a.eml", "team/b.eml", "team/c.eml"}
    assert messages["a.eml"]["subject"] == "Budget 2024"
    assert messages["a.eml"]["from"] == ["Amani <amani@example.cd>"]
    assert messages["a.eml"]["date"] == "2023-11-16T09:00:00Z"
    assert [a["name"] for a in messages["team/b.eml"]["attachments"]] == ["minutes.pdf"]
    assert report["counts"] == dict.fromkeys(wire.NAMES, 0) | {"message": 3, "blob": 1}
    assert [r["size"] for r in report["records"] if r["kind"] == "blob"] == [len(MINUTES)]
    assert report["header"]["sender"] == "relay"


def test_inspect_prints_a_readable_table(packed):
    pouch, _ = packed
    result = run("inspect", pouch)
    assert result.returncode == 0, result.stderr
    assert "3 message, 1 blob, 0 status, 0 account, 0 account status, 0 flag, 0 held, 0 request, 0 verdict, " \
           "0 box settings, 0 refusal; 0 skipped" in result.stdout
    assert "subject 'Lunch'" in result.stdout
    assert f"name 'minutes.pdf', type 'application/pdf', size {len(MINUTES):,}" in result.stdout


@pytest.fixture
def every_kind(tmp_path):
    """A pouch holding each kind of record once (and two blobs), and its records as read."""
    path = tmp_path / "every-kind.pouch"
    path.write_bytes(sample_pouch())
    return path, list(PouchReader(io.BytesIO(path.read_bytes())))


def test_inspect_json_lists_every_record_of_every_kind_with_all_its_fields(every_kind):
    path, records = every_kind
    result = run("inspect", path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert {kind for kind, count in report["counts"].items() if count} == set(wire.NAMES)
    assert [r["kind"] for r in report["records"]] == [wire.kind_of(record).name for record in records]
    for shown, record in zip(report["records"], records):
        fields = {"sha256", "size"} if isinstance(record, BlobRecord) else {f.rstrip("_") for f in vars(record)}
        assert set(shown) == {"kind"} | fields
    message, photo, _, status, account, account_status, flag, held, request, verdict, box_settings, refusal = \
        report["records"]
    assert message["to"] == ["jo@example.org", "Zoé Lumbu <zoe@example.cd>"]
    assert message["body"] == full_message().body and message["extra"] == {"priority": "high"}
    assert message["attachments"][0] == {"name": "photo.png", "type": "image/png", "size": len(PHOTO),
                                         "sha256": PHOTO_SHA.hex(), "cid": "img1", "inline": True, "held": False,
                                         "preview": "", "original_size": 0, "original_sha256": ""}
    assert photo == {"kind": "blob", "sha256": PHOTO_SHA.hex(), "size": len(PHOTO)}
    assert status == {"kind": "status", "message_id": "m0", "state": "failed", "at": "2023-11-14T22:15:00Z",
                      "reason": "550 mailbox unknown"}
    assert account["sealed"] == {"size": len(ACCOUNT.sealed), "sha256": hashlib.sha256(ACCOUNT.sealed).hexdigest()}
    assert account_status["error"] == "the server refused the password" and account_status["synced_at"] == ""
    assert flag == {"kind": "flag", "message_id": "417", "seen": True, "at": "2023-11-14T22:15:50Z"}
    assert held["from"] == ["Prize <win@lottery.example>"] and held["score"] == 14.2
    assert held["until"] == "2023-11-21T22:13:20Z"
    assert request["what"] == "attachment" and request["sha256"] == REPORT_SHA.hex()
    assert verdict["spam"] is True and verdict["message_id"] == "91"
    assert box_settings["user_limits"] == {"zoe@box1.mailpouch.example": 50_000}
    assert refusal["what"] == "attachment" and refusal["sha256"] == REPORT_SHA.hex()
    assert refusal["reason"] == "the relay no longer keeps this message's attachments"


def test_inspect_prints_one_line_per_record_of_every_kind(every_kind):
    path, records = every_kind
    result = run("inspect", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    assert "1 message, 2 blob, 1 status, 1 account, 1 account status, 1 flag, 1 held, 1 request, 1 verdict, " \
           "1 box settings, 1 refusal; 0 skipped" in lines
    assert [line.split("  ")[0].strip() for line in lines[3:]] == [wire.kind_of(r).name for r in records]
    assert "in_reply_to 'prev@example.org'" in lines[3] and "cid 'img1', inline True" in lines[3]
    assert f"sha256 '{REPORT_SHA.hex()}'  size {len(REPORT):,}" in lines[5]
    assert "reason '550 mailbox unknown'" in lines[6]
    assert f"address 'amani@gmail.com'  state 'active'  sealed {{size {len(ACCOUNT.sealed)}, sha256 " in lines[7]
    assert "error 'the server refused the password'" in lines[8]
    assert "message_id '417'  seen True  at '2023-11-14T22:15:50Z'" in lines[9]


def damaged(data, how):
    if how == "truncated":
        return data[:-7]
    if how == "flipped":
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
    if how == "flipped-header":
        return data[:20] + bytes([data[20] ^ 0x04]) + data[21:]
    return b"GIF8" + data[4:]


@pytest.mark.parametrize("how", ["truncated", "flipped", "flipped-header", "wrong-magic"])
def test_inspect_on_a_damaged_pouch_prints_one_error_line(packed, tmp_path, how):
    pouch, _ = packed
    bad = tmp_path / f"{how}.pouch"
    bad.write_bytes(damaged(pouch.read_bytes(), how))

    result = run("inspect", bad)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"mailpouch-pouch: {bad}: ")


def test_inspect_on_a_missing_file_says_so(tmp_path):
    result = run("inspect", tmp_path / "nope.pouch")
    assert result.returncode == 1
    assert "No such file" in result.stderr and "Traceback" not in result.stderr


def test_pack_refuses_a_folder_without_mail(tmp_path):
    result = run("pack", "--eml", tmp_path, "-o", tmp_path / "out.pouch")
    assert result.returncode == 1
    assert "no .eml files" in result.stderr
    assert not (tmp_path / "out.pouch").exists()


@pytest.mark.corpus
def test_a_corpus_folder_packs_and_inspect_lists_every_message(corpus_dir, tmp_path):
    folder = corpus_dir / "deltachat-core"
    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.eml"))
    packed = run("pack", "--eml", folder, "-o", tmp_path / "corpus.pouch", timeout=120)
    assert packed.returncode == 0, packed.stderr
    failed = {line.split(": ")[0] for line in packed.stderr.splitlines()[:-1]}

    result = run("inspect", tmp_path / "corpus.pouch", "--json")
    assert result.returncode == 0, result.stderr
    listed = [r["id"] for r in json.loads(result.stdout)["records"] if r["kind"] == "message"]
    assert sorted(listed) == sorted(set(files) - failed)
    assert len(listed) >= 0.9 * len(files)


def test_inspect_names_a_bad_record_or_skips_it_when_asked(tmp_path):
    from tests.pouch.test_container import GOOD_STATUS, raw_pouch

    pouch = tmp_path / "one-bad.pouch"
    pouch.write_bytes(raw_pouch([GOOD_STATUS, [1, 42, [["", "a@example.org"]]]]))

    strict = run("inspect", pouch)
    assert strict.returncode == 1 and strict.stdout == ""
    assert strict.stderr.strip() == (f"mailpouch-pouch: {pouch}: record 1 (message): "
                                     "message.id should be text, not 42")

    lenient = run("inspect", pouch, "--skip-bad")
    assert lenient.returncode == 0, lenient.stderr
    assert "message_id 'm1'  state 'sent'" in lenient.stdout
    assert "skipped  record 1 (message): message.id should be text, not 42" in lenient.stdout
