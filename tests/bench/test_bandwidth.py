"""bench/bandwidth.py runs on any corpus laid out like the shared one, and says when there is none."""

import io
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bandwidth.py"
README = """# corpus
| folder | origin | kind |
|---|---|---|
| `lists/` | somewhere | Mailing-list mail. **[real traffic]** |
| `fixtures/` | elsewhere | Parser torture tests. [test fixtures] |
"""


AGENDA = b"%PDF agenda " + bytes(range(256)) * 80


def run(corpus, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=180,
                          env={"MAILPOUCH_CORPUS": str(corpus), "PATH": "/usr/bin:/bin"})


def wallpaper(folder):
    """A folder laid out like plasma-workspace-wallpapers, holding one photograph Pillow drew:
    a gradient with noise, so that it compresses like a photo rather than a flat picture."""
    images = folder / "Sunset" / "contents" / "images"
    images.mkdir(parents=True)
    gradient = Image.linear_gradient("L").resize((1920, 1080))
    photo = Image.merge("RGB", (gradient, gradient.rotate(90, expand=False), Image.effect_noise((1920, 1080), 40)))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    (images / "1920x1080.jpg").write_bytes(out.getvalue())
    return folder


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

    result = run(tmp_path, "--quick", "--json", "--wallpapers", str(wallpaper(tmp_path / "wallpapers")),
                 "--no-spamd")
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
    # A box's later syncs get the same batches packed against the pouches it took before: the
    # more it took, the fewer bytes (these messages share their list's headers and footer).
    cold, week = report["batch_50"], report["batch_50_box_after_a_week_of_daily_syncs"]
    warm, older = report["batch_50_box_holding_the_rest"], report["batch_50_box_holding_the_rest_no_pieces"]
    assert warm["lokole_text_bytes_per_email"] == cold["lokole_text_bytes_per_email"]
    assert warm["pouch_text_bytes_per_email"] < cold["pouch_text_bytes_per_email"]
    assert warm["pouch_text_bytes_per_email"] <= week["pouch_text_bytes_per_email"] < older["pouch_text_bytes_per_email"]
    assert older["pouch_text_bytes_per_email"] <= cold["pouch_text_bytes_per_email"]
    # Ideas left out of the format are priced too, text-only and all-in.
    ideas = report["candidates_batch_50"]
    assert all(set(change) == {"text_bytes_per_email", "all_bytes_per_email"} for change in ideas.values())

    # A day of the box: three list messages carry a phone photo, shrunk to a phone's size.
    day, photo = report["day"], report["photo"]
    assert day["messages"] == report["messages_measured"] and day["photos"] == photo["photos"] == 3
    assert photo["shrunk"] == 3 and 1280 <= photo["long_side_min_px"] <= photo["long_side_max_px"] <= 1600
    assert 0 < photo["ratio"] < 0.5
    # Lokole carries each 12 MP photo whole; the pouch its shrunk copy, the agenda once.
    assert day["lokole_bytes_per_email"] > 10 * day["bytes_per_email"] and day["ratio"] < 0.25
    assert day["lokole_thumbnail_bytes_per_email"] < day["lokole_bytes_per_email"]
    # Asking for every original brings each photo whole in the next sync.
    assert day["requests"] >= 3 and day["all_fetched_bytes_per_email"] > 5 * day["bytes_per_email"]
    # Without spamd the spam figures are missing, and the report says why.
    assert "spam_share_held" not in day and report["skipped"]["spam"] == "--no-spamd"
    assert day["held_spam_lines"] == 0


def test_bench_without_a_corpus_says_where_it_looked(tmp_path):
    result = run(tmp_path / "nowhere", "--quick")
    assert result.returncode != 0
    assert f"no corpus at {tmp_path / 'nowhere'}" in result.stderr
    assert "Traceback" not in result.stderr
