"""bench/bandwidth.py runs on any corpus laid out like the shared one, and says when there is none."""

import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bandwidth.py"
README = """# corpus
| folder | origin | kind |
|---|---|---|
| `lists/` | somewhere | Mailing-list mail. **[real traffic]** |
| `fixtures/` | elsewhere | Parser torture tests. [test fixtures] |
"""


AGENDA = b"%PDF agenda " + bytes(range(256)) * 80


def run(corpus, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          env={"MAILPOUCH_CORPUS": str(corpus), "PATH": "/usr/bin:/bin"})


def message(n):
    message = EmailMessage()
    message["From"] = f"Member {n % 7} <member{n % 7}@lists.example.org>"
    message["To"] = "list@lists.example.org"
    message["Subject"] = f"[list] topic {n % 13}"
    message["Date"] = "Thu, 16 Nov 2023 10:00:00 +0100"
    message["Message-ID"] = f"<{n}.{n * 7919}@lists.example.org>"
    message.set_content(f"Message {n} on topic {n % 13}.\n" + "Quoted reply text goes here.\n" * (n % 5))
    if n % 5 == 0:  # every fifth carries the same agenda, which a pouch sends once per batch
        message.add_attachment(AGENDA, maintype="application", subtype="pdf", filename="agenda.pdf")
    return message.as_bytes()


def test_bench_measures_a_corpus_and_reports_every_batch_size(tmp_path):
    (tmp_path / "README.md").write_text(README)
    for n in range(330):
        folder = tmp_path / "lists" / f"month{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n}.eml").write_bytes(message(n))
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "torture.eml").write_bytes(b"not counted: the folder is not real traffic")

    result = run(tmp_path, "--quick", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert report["messages_measured"] + report["messages_held_out"] == 330
    for size in (10, 50, 200):
        batch = report[f"batch_{size}"]
        assert 0 < batch["text_ratio"] and 0 < batch["all_ratio"]
        # Raw MIME repeats each base64 attachment; a pouch carries it once, in binary.
        assert batch["pouch_all_bytes_per_email"] < batch["imap_all_bytes_per_email"]
        assert batch["pouch_text_bytes_per_email"] < batch["pouch_all_bytes_per_email"]
    assert report["ladder_batch_50"][0]["text_ratio"] == 1.0


def test_bench_without_a_corpus_says_where_it_looked(tmp_path):
    result = run(tmp_path / "nowhere", "--quick")
    assert result.returncode != 0
    assert f"no corpus at {tmp_path / 'nowhere'}" in result.stderr
    assert "Traceback" not in result.stderr
