"""The box's web front door tried as an attacker would (issue 14: sign-in, bodies, headers,
sessions, redirects, inputs), against a real server."""

import concurrent.futures
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from appliance import downloads
from appliance.web.throttle import SignInThrottle
from tests.appliance.conftest import DOMAIN, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.1"  # the tests reach the box from loopback: as a proxy in front of it would


behind_proxy = pytest.mark.parametrize("box_settings", [{"trusted_proxies": (PROXY,)}], indirect=True)


def from_device(client, address):
    """A client whose requests a trusted proxy says come from ``address``."""
    session = client()
    session.headers["X-Forwarded-For"] = address
    return session


def wrong(session, name="neema"):
    return session.post("/login", data={"email": name, "password": "not the password"}).status_code


@behind_proxy
def test_a_strangers_wrong_passwords_never_lock_the_owner_out(client, make_user):
    make_user("neema")
    stranger = from_device(client, "192.0.2.66")
    answers = [wrong(stranger) for _ in range(5)]
    assert answers[:3] == [403, 403, 403] and answers[-1] == 429
    owner = from_device(client, "192.0.2.5")
    owner.sign_in("neema")  # her phone is not the stranger's: she signs in at once
    assert "Inbox" in owner.get("/").text
    # The stranger, trying other addresses from the same device, is slowed down too.
    make_user("kito")
    assert 429 in [wrong(stranger, "kito") for _ in range(10)]


def test_guesses_sent_in_parallel_get_no_more_tries_than_guesses_in_a_row(client, make_user):
    make_user("neema")
    stranger = client()
    stranger.get("/login")
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: wrong(stranger), range(40)))
    assert answers.count(403) <= 3 and set(answers) <= {403, 429}, answers


def test_waits_double_up_to_five_minutes_and_a_quiet_hour_forgets_them():
    now = [0.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(15):
        with throttle.attempt("192.0.2.66", "neema@box.test"):
            pass  # a wrong password
        waits.append(throttle.wait_left("192.0.2.66", "neema@box.test"))
    assert waits[:5] == [0, 0, 2, 4, 8] and max(waits) == 300
    assert throttle.wait_left("192.0.2.5", "neema@box.test") == 0  # her own phone
    now[0] += 3600
    assert throttle.wait_left("192.0.2.66", "neema@box.test") == 0


@behind_proxy
def test_a_client_cannot_name_itself_through_proxy_headers(client, make_user):
    make_user("neema")
    stranger = client()
    for number in range(5):  # what a client prepends is not what the proxy appended
        stranger.headers["X-Forwarded-For"] = f"198.51.100.{number}, 192.0.2.66"
        last = wrong(stranger)
    assert last == 429
    assert from_device(client, "192.0.2.5").post(
        "/login", data={"email": "neema", "password": PASSWORD}).url.endswith("/")


def test_proxy_headers_are_ignored_unless_the_proxy_is_trusted(client, make_user):
    make_user("neema")
    stranger = client()
    answers = []
    for number in range(5):
        stranger.headers["X-Forwarded-For"] = stranger.headers["X-Real-IP"] = f"198.51.100.{number}"
        answers.append(wrong(stranger))
    assert answers[-1] == 429, answers


def test_sign_up_slows_down_a_script_making_accounts(client):
    visitor = client()
    answers = [visitor.post("/signup", data={"name": f"bot{n}", "password": PASSWORD,
                                             "password2": PASSWORD}).status_code
               for n in range(8)]
    assert answers[:3] == [200, 200, 200] and answers[-1] == 429, answers
    assert "Wait" in visitor.post("/signup", data={"name": "bot99", "password": PASSWORD,
                                                  "password2": PASSWORD}).text


def raw_post(url, path, size, headers=""):
    """Declare ``size`` bytes of body and send them until the server answers or hangs up.
    Returns (the status line, bytes of the body sent)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{headers}"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {size}\r\n\r\n").encode())
        sent, chunk = 0, b"x=1&" * 16384  # form-shaped: many small fields, as an attacker's would be
        try:
            while sent < size:
                sock.sendall(chunk[:size - sent])
                sent += min(len(chunk), size - sent)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return sock.recv(200).split(b"\r\n")[0].decode(), sent
        except ConnectionResetError:
            return "", sent


def test_request_bodies_are_capped_per_route_before_they_are_read(client, make_user, box_url):
    status, _ = raw_post(box_url, "/login", 5 * 1024 * 1024)
    assert status.startswith("HTTP/1.1 413")  # read and dropped, never kept: the refusal reaches it
    huge = 64 * 1024 * 1024  # past http_base.DRAINED_MOST: refused unread
    status, sent = raw_post(box_url, "/login", huge)
    assert (status.startswith("HTTP/1.1 413") or status == "") and sent < huge
    api, _ = raw_post(box_url, "/api/messages", 8 * 1024 * 1024, "Authorization: Bearer nothing\r\n")
    assert api.startswith("HTTP/1.1 413")  # the API says so in JSON (tests/api/test_hostile.py)
    anonymous, _ = raw_post(box_url, "/compose", 9 * 1024 * 1024)
    assert anonymous.startswith("HTTP/1.1 403")  # compose streams only signed-in users' files
    # Compose takes files up to the attachment limit (10 MB by default), not more.
    make_user("asha")
    asha = client("asha")
    scan = os.urandom(2 * 1024 * 1024) + b"\r\n--" + os.urandom(100)  # a boundary's start inside
    fine = asha.post("/compose", data={"to": f"asha@{DOMAIN}", "subject": "Scan", "action": "send"},
                     files={"files": ("scan.bin", scan, "application/pdf")})
    assert fine.url.endswith("/folder/sent")
    _, links = attachment_links(asha, "Scan", "/folder/sent")
    assert asha.get(links[0]).content == scan  # streamed to disk on the way in, byte for byte
    try:
        huge = asha.post("/compose", data={"to": f"asha@{DOMAIN}", "subject": "Huge", "action": "send"},
                         files={"files": ("huge.bin", b"x" * (12 * 1024 * 1024), "application/pdf")})
    except requests.ConnectionError:  # the box hung up while the client was still sending
        huge = None
    assert huge is None or huge.status_code == 400
    assert "Huge" not in asha.get("/folder/sent").text


def memory_mb(pid):
    """The process's resident memory now and at its peak (VmRSS, VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))


@pytest.fixture
def box_process(tmp_path):
    """`mailpouch-appliance serve` as its own process, as the box runs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = dict(os.environ, MAILPOUCH_BOX_DATA_DIR=str(tmp_path / "box"), MAILPOUCH_BOX_DOMAIN=DOMAIN,
                   MAILPOUCH_WEB_PORT=str(port), MAILPOUCH_WEB_COOKIE_SECRET="s" * 40,
                   MAILPOUCH_SYNC_WINDOWS="", MAILPOUCH_APPLIANCE_CONFIG=str(tmp_path / "none.conf"))
    (tmp_path / "none.conf").write_text("")
    run = [sys.executable, "-m", "appliance.cli"]
    subprocess.run(run + ["migrate"], env=environ, cwd=ROOT, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen(run + ["serve"], env=environ, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/login", timeout=2)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "the box did not start"
            time.sleep(0.1)
    yield process, url
    process.terminate()
    process.wait(10)


def test_three_anonymous_95_mb_posts_leave_the_box_s_memory_flat(box_process):
    process, url = box_process
    for _ in range(3):  # warm up: the first pages load templates and translations
        requests.get(url + "/login", timeout=10)
    before, peak_before = memory_mb(process.pid)
    answers = [raw_post(url, "/login", 95 * 1024 * 1024) for _ in range(3)]
    requests.get(url + "/login", timeout=10)
    after, peak = memory_mb(process.pid)
    print(f"\nbox RSS before {before:.0f} MB, after three 95 MB POSTs to /login {after:.0f} MB "
          f"(peak {peak_before:.0f} -> {peak:.0f} MB); body bytes the client got to send: "
          f"{[sent for _, sent in answers]}")
    assert after - before < 15 and peak - peak_before < 15, (before, after, peak_before, peak)
    assert all(status.startswith("HTTP/1.1 413") or status == "" for status, _ in answers)


def security_headers_of(response):
    headers = response.headers
    return ("default-src 'none'" in headers.get("Content-Security-Policy", "")
            and headers.get("X-Content-Type-Options") == "nosniff"
            and headers.get("X-Frame-Options") == "DENY")


def test_every_answer_carries_the_security_headers(client, make_user, box_url):
    make_user("asha")
    asha = client("asha")
    answers = {
        "unknown path": requests.get(box_url + "/no/such/page", timeout=10),
        "static file": requests.get(box_url + "/static/style.css", timeout=10),
        "portal redirect": requests.get(box_url + "/generate_204", allow_redirects=False, timeout=10),
        "sign-in redirect": requests.get(box_url + "/", allow_redirects=False, timeout=10),
        "api 401": requests.get(box_url + "/api/messages", timeout=10),
        "api 404": requests.get(box_url + "/api/nowhere", timeout=10),
        "error page": asha.get("/thread/1"),
        "page": asha.get("/"),
    }
    assert answers["unknown path"].status_code == 404 and answers["static file"].status_code == 200
    assert [name for name, response in answers.items() if not security_headers_of(response)] == []


def send_with_file(sender, to, subject, name, data, content_type):
    sent = sender.post("/compose", data={"to": to, "subject": subject, "body": "see file",
                                         "action": "send"},
                       files={"files": (name, data, content_type)})
    assert sent.url.endswith("/folder/sent"), sent.text


def attachment_links(session, subject, folder="/"):
    inbox = session.get(folder).text
    thread_url = re.search(r'href="(/thread/\d+)#m\d+"[^>]*>(?:(?!</a>).)*' + re.escape(subject),
                           inbox, re.S).group(1)
    page = session.get(thread_url).text
    return page, re.findall(r'href="(/attachment/\d+)"', page)


def test_attachments_download_as_bytes_and_only_plain_images_show(client, make_user):
    make_user("asha"), make_user("baraka")
    asha, baraka = client("asha"), client("baraka")
    files = [("x.js", b"document.title = 'ran'", "application/javascript"),
             ("page.html", b"<script>alert(1)</script>", "text/html"),
             ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
              "image/svg+xml"),
             ("dot.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png")]
    for name, data, content_type in files:
        send_with_file(asha, f"baraka@{DOMAIN}", f"File {name}", name, data, content_type)
    kinds = {}
    for name, _, _ in files:
        _, links = attachment_links(baraka, f"File {name}")
        answer = baraka.get(links[0])
        kinds[name] = (answer.headers["Content-Type"], answer.headers["Content-Disposition"].split(";")[0])
    assert kinds == {"x.js": ("application/octet-stream", "attachment"),
                     "page.html": ("application/octet-stream", "attachment"),
                     "logo.svg": ("application/octet-stream", "attachment"),
                     "dot.png": ("image/png", "attachment")}


def test_a_big_attachment_comes_whole_in_pieces_with_its_size_and_a_second_look_costs_nothing(
        client, make_user):
    """It is sent a piece at a time (never whole in the box's memory), with a Content-Length a
    phone shows progress from; the phone that has it already gets a 304 for its Etag."""
    make_user("asha"), make_user("baraka")
    asha, baraka = client("asha"), client("baraka")
    data = os.urandom(3 * downloads.CHUNK_BYTES + 5)
    send_with_file(asha, f"baraka@{DOMAIN}", "The photo", "photo.jpg", data, "image/jpeg")
    _, links = attachment_links(baraka, "The photo")
    answer = baraka.get(links[0])
    assert answer.content == data and answer.headers["Content-Length"] == str(len(data))
    assert "Transfer-Encoding" not in answer.headers
    again = baraka.get(links[0], headers={"If-None-Match": answer.headers["Etag"]})
    assert again.status_code == 304 and again.content == b""


def test_signing_out_ends_the_session_on_the_box(client, make_user, box_url):
    make_user("asha")
    asha = client("asha")
    copied = requests.Session()
    copied.cookies.update(asha.cookies)  # someone copied the cookie off the phone
    assert copied.get(box_url + "/", timeout=10).url.endswith("/")
    asha.post("/logout")
    assert copied.get(box_url + "/", timeout=10).url.endswith("/login?next=%2F")
    asha.sign_in("asha")  # signing in again makes a new session
    assert asha.get("/").url.endswith("/")


@pytest.mark.parametrize("target", ["/\\evil.example", "/\t/evil.example", "//evil.example",
                                    "https://evil.example/", "/\\/evil.example", "javascript:alert(1)",
                                    "/\n/evil.example", "/folder/sent\\@evil.example"])
def test_sign_in_goes_only_to_paths_of_the_box(client, make_user, target):
    make_user("asha")
    answer = client().post("/login", data={"email": "asha", "password": PASSWORD, "next": target},
                           allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_sign_in_still_returns_to_the_page_asked_for(client, make_user):
    make_user("asha")
    answer = client().post("/login", data={"email": "asha", "password": PASSWORD,
                                           "next": "/folder/sent?page=2"}, allow_redirects=False)
    assert answer.headers["Location"] == "/folder/sent?page=2"


def test_out_of_range_page_numbers_are_bad_requests_not_server_errors(client, make_user):
    make_user("mama", is_admin=True)
    mama = client("mama")
    nines = "9" * 30
    answers = [mama.get(f"/folder/inbox?page={nines}").status_code,
               mama.get(f"/search?q=x&page={nines}").status_code,
               mama.get(f"/admin/users?page={nines}").status_code,
               mama.get("/folder/inbox?page=100001").status_code]
    assert answers == [400, 400, 400, 400]
    assert mama.get("/folder/inbox?page=3").status_code == 200


def test_upload_names_are_reduced_and_bidi_controls_are_shown_neutralised(client, make_user):
    make_user("asha"), make_user("baraka")
    asha, baraka = client("asha"), client("baraka")
    send_with_file(asha, f"baraka@{DOMAIN}", "Paths", "../../etc/cron.d/x", b"data", "text/plain")
    page, links = attachment_links(baraka, "Paths")
    assert ">x<" in page.replace(" ", "") or re.search(r">\s*x\s*<", page)
    assert "../" not in page and "cron.d" not in page
    assert "filename*=UTF-8''x" == baraka.get(links[0]).headers["Content-Disposition"].split("; ")[1]

    trick = "invoice\u202efdp.exe"  # shows as "invoiceexe.pdf"
    send_with_file(asha, f"baraka@{DOMAIN}", "Bill \u202eexe.pdf", trick, b"MZ", "application/pdf")
    inbox = baraka.get("/").text
    assert "Bill exe.pdf" in inbox and "\u202e" not in inbox
    page, links = attachment_links(baraka, "Bill exe.pdf")
    assert "invoicefdp.exe" in page and "\u202e" not in page
    assert "%E2%80%AE" not in baraka.get(links[0]).headers["Content-Disposition"]
    found = baraka.get("/search", params={"q": "Bill"}).text
    assert "exe.pdf" in found and "\u202e" not in found
