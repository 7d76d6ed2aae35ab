"""The README's local walk-through, as `make run` prints it: scripts/run-local starts a relay
and a box registered with it; the printed curl command posts internet mail to the webhook,
the printed sync brings it to the user's inbox, their reply reaches the relay's outbound
folder.  A box set to another domain is refused with the one to set."""

import html.parser
import json
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.appliance.conftest import browser  # noqa: F401  (Debian's Chromium, headless)
from tests.conftest import ROOT

READY = "Ctrl-C stops both."
WAIT_S = 90


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunLocal:
    """scripts/run-local in a folder of its own, on free ports; its output read as it comes."""

    def __init__(self, var, **environ):
        self.var = var
        self.environ = {key: value for key, value in os.environ.items() if not key.startswith("MAILPOUCH_")}
        self.environ.update(MAILPOUCH_RUN_VAR=str(var), MAILPOUCH_RUN_RELAY_PORT=str(free_port()),
                            MAILPOUCH_RUN_BOX_PORT=str(free_port()), **environ)
        self.process = subprocess.Popen([sys.executable, ROOT / "scripts" / "run-local"], env=self.environ,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def printed(self):
        """What it printed until it was ready, or until it ended (then: its exit status too)."""
        seen, ended = [], 0
        deadline = time.monotonic() + WAIT_S
        while ended < 2:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            if line is None:
                ended += 1
                continue
            seen.append(line)
            if line == READY:
                return "\n".join(seen)
        return "\n".join(seen), self.process.wait(timeout=WAIT_S)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT_S)


@pytest.fixture
def run_local(tmp_path):
    started = []

    def start(**environ):
        started.append(RunLocal(tmp_path / "var", **environ))
        return started[-1]

    yield start
    for run in started:
        run.stop()


def command_after(text, step):
    """The command printed on the line after the walk-through's step ``step``."""
    return re.search(rf"^{step}\. .*\n  (.+)$", text, re.M).group(1)


def shell(command):
    result = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class FormFields(html.parser.HTMLParser):
    """The named inputs and textareas of a page's first form, as a browser would post them."""

    def __init__(self):
        super().__init__()
        self.fields, self._textarea, self._forms = {}, None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._forms += tag == "form"
        if self._forms != 1 or not attrs.get("name"):
            return
        if tag == "input" and attrs.get("type") not in ("submit", "file", "checkbox"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def compose_form(page):
    """The compose page's form fields (the reply's recipients, subject, quoted text, tokens)."""
    parser = FormFields()
    parser.feed(page[page.index('action="/compose"') - 200:] if 'action="/compose"' in page else page)
    return parser.fields


def sign_in(box_url, address, password):
    session = requests.Session()
    session.get(f"{box_url}/login", timeout=20)
    response = session.post(f"{box_url}/login", data={"email": address, "password": password,
                                                      "_xsrf": session.cookies["_xsrf"]}, timeout=20)
    assert response.url.rstrip("/") == box_url, response.text
    return session


def sent_files(folder):
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def test_the_walk_through_as_printed(run_local, browser):  # noqa: F811
    run = run_local()
    text = run.printed()
    assert isinstance(text, str), text
    box_url = re.search(r"^  box +(http://\S+)/ ", text, re.M).group(1)
    address, password = re.search(r"sign in as (\S+), password (\S+) ", text).groups()
    assert address.endswith("@local.relay.localhost")  # the domain the relay gave the box
    credentials = run.var / "local-credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    for settings_file in ("relay.conf", "appliance.conf"):
        assert stat.S_IMODE((run.var / settings_file).stat().st_mode) == 0o600

    readme = (ROOT / "README.md").read_text()
    assert f"`{command_after(text, 2).replace(str(run.var), 'var')}`" in readme  # the README says the same
    assert json.loads(shell(command_after(text, 1))) == {"stored": True, "repeat": False}
    assert "sync done: 0 messages up, 1 down" in shell(command_after(text, 2))
    user = sign_in(box_url, address, password)
    inbox = user.get(f"{box_url}/", timeout=20).text
    assert "Hello from the internet" in inbox
    message_id = re.search(r'href="/thread/\d+#m(\d+)"', inbox).group(1)
    form = compose_form(user.get(f"{box_url}/compose?reply={message_id}", timeout=20).text)
    assert "friend@example.org" in form["to"] and form["subject"] == "Re: Hello from the internet"
    form.update(body="Thank you, it came.", action="send", _xsrf=user.cookies["_xsrf"])
    assert user.post(f"{box_url}/compose", data=form, timeout=20).url.endswith("/folder/outbox")

    assert "sync done: 1 messages up" in shell(command_after(text, 2))
    sent_folder = run.var / "relay" / "sent"
    assert f"{sent_folder}/" in text
    deadline = time.monotonic() + WAIT_S  # the relay's sender picks it up on its next poll
    while not sent_files(sent_folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    [sent] = sent_files(sent_folder)
    reply = sent.read_bytes()
    assert b"Thank you, it came." in reply and b"friend@example.org" in reply
    assert address.encode() in reply.partition(b"\r\n\r\n")[0]  # from the box user's address
    relay_url = re.search(r"^  relay +(http://\S+)/ ", text, re.M).group(1)
    operator = re.search(r"operator user (\S+), password (\S+)$", text, re.M).groups()
    assert_status_page_opens_in_a_browser(browser, relay_url, operator)
    assert run.stop() == 0

    again = run_local()  # a second run reuses the credentials and the registration
    assert f"password {password} " in again.printed()


def assert_status_page_opens_in_a_browser(browser, relay_url, operator):  # noqa: F811
    """A browser asks for the operator's credentials (the 401's challenge) and shows the box."""
    closed = browser.new_context()
    with pytest.raises(Exception, match="ERR_INVALID_AUTH_CREDENTIALS"):  # asked, and none to give
        closed.new_page().goto(f"{relay_url}/status")
    closed.close()
    context = browser.new_context(http_credentials={"username": operator[0], "password": operator[1]})
    page = context.new_page()
    assert page.goto(f"{relay_url}/status").status == 200  # sent only once challenged
    row = page.locator("tr", has_text="local.relay.localhost").inner_text()
    assert "registered" in row and "never" not in row and "silent" not in row
    context.close()


def test_a_box_set_to_another_domain_is_refused_with_the_one_to_set(run_local):
    refused = run_local(MAILPOUCH_BOX_DOMAIN="box.localhost")
    text, status = refused.printed()
    assert status != 0
    assert "could not register" in text and "set [box] domain = local.relay.localhost" in text, text
    as_told = run_local()  # with the setting as it says, the same code registers the box
    assert "sign in as amani@local.relay.localhost" in as_told.printed()
