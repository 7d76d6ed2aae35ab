"""Fixture `dovecot`: a real Dovecot IMAP server (Debian's dovecot-imapd), started once per
session and reset for each test (no users, no mail, no connections, an empty log).

Its configuration, users (a passwd-file), Maildirs and sockets live in a
folder of its own; it listens on free loopback ports: plain IMAP with STARTTLS
and implicit TLS, with a certificate of a throwaway CA (`ca_file`).  Run as
an ordinary user it runs wholly as that user; run as root (CI), its mail
processes run as `nobody`, since Dovecot refuses root for those.

    dovecot.add_user("amani@example.org", "secret")
    dovecot.seed("amani@example.org", [(raw, datetime, seen), ...])   # straight into the Maildir
    dovecot.deliver("amani@example.org", raw)                          # new mail, over IMAP
    dovecot_factory(tokeninfo_url=URL)                                 # one of its own, XOAUTH2 too
    with dovecot.client("amani@example.org") as imap: ...              # look, as a mail client
    dovecot.stop(); dovecot.start()                                    # same ports, same mail
"""

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import imapclient
import pytest

from tests.support.azurite import free_port
from tests.support.tls import certificate_for_localhost

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
START_TIMEOUT_S = 15
HOST = "127.0.0.1"


def _config(root, imap_port, imaps_port, users, tokeninfo_url=None):
    """dovecot.conf for a private instance; ``users``: who runs what (see _users); with
    ``tokeninfo_url``, XOAUTH2 logins too, their tokens checked at that URL."""
    oauth = ""
    if tokeninfo_url:
        (root / "oauth2.conf").write_text(f"tokeninfo_url = {tokeninfo_url}?access_token=\n"
                                          "username_attribute = username\nactive_attribute = active\n"
                                          "active_value = true\n")
        oauth = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2\n  args = {root}/oauth2.conf\n}}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = mailpouch-test-{root.name}
protocols = imap
listen = {HOST}
log_path = {root}/dovecot.log
default_internal_user = {users['internal']}
default_internal_group = {users['internal_group']}
default_login_user = {users['login']}
first_valid_uid = 1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2" if tokeninfo_url else ""}
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
{oauth}passdb {{
  mechanisms = plain login
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={users['mail_uid']} gid={users['mail_gid']} home={root}/mail/%u allow_all_users=yes
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def _users():
    """Who runs Dovecot's processes: the current user, or system users under root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return {"internal": me, "internal_group": group, "login": me, "mail_uid": os.geteuid(),
                "mail_gid": os.getegid()}
    nobody = pwd.getpwnam("nobody")
    return {"internal": "dovecot", "internal_group": "dovecot", "login": "dovenull",
            "mail_uid": nobody.pw_uid, "mail_gid": nobody.pw_gid}


class Dovecot:
    def __init__(self, root, tokeninfo_url=None):
        self.root = Path(root)
        self.host = HOST
        self.port = free_port()  # IMAP, with STARTTLS
        self.tls_port = free_port()  # IMAPS
        self.users = _users()
        self.passwords = {}
        self.process = None
        (self.root / "mail").mkdir(parents=True)
        self._own(self.root / "mail")
        self.ca_file = certificate_for_localhost(self.root)
        (self.root / "dovecot.conf").write_text(_config(self.root, self.port, self.tls_port, self.users,
                                                        tokeninfo_url))
        self._stamp = 0
        self._write_users()

    @property
    def config(self):
        return self.root / "dovecot.conf"

    def _own(self, path):
        """Hand ``path`` to the mail user (when running as root)."""
        os.chown(path, self.users["mail_uid"], self.users["mail_gid"])

    def add_user(self, name, password):
        """Add a user (or change a password) and wait until Dovecot's auth takes it."""
        self.passwords[name] = password
        self._write_users()
        self._until_logins_work(name, password)
        return name

    def _write_users(self):
        """Replace the passwd-file whole, with an mtime it never had: Dovecot re-reads it only
        when its mtime or size changed, and looks at most once a second (a file rewritten
        in the second of a lookup, same size, is never read again)."""
        self._stamp = max(int(time.time()), self._stamp + 1)
        fresh = self.root / "users.new"
        fresh.write_text("".join(f"{user}:{{PLAIN}}{secret}::::::\n" for user, secret in self.passwords.items()))
        os.utime(fresh, (self._stamp, self._stamp))
        os.replace(fresh, self.root / "users")

    def _until_logins_work(self, name, password):
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            probe = subprocess.run([DOVEADM, "-c", str(self.config), "auth", "test", name, password],
                                   capture_output=True, text=True, timeout=30)
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot refuses {name} after {START_TIMEOUT_S} s: {probe.stdout}{probe.stderr}")
            time.sleep(0.1)

    # -- running ------------------------------------------------------------------------

    def start(self):
        log = open(self.root / "dovecot.out", "ab")
        with log:
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}: {self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on {self.host}:{self.port}: {self.log()[-2000:]}")

    def stop(self):
        """Stop the server at once: its connections drop, as when a server goes away."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(START_TIMEOUT_S)
        self.process = None
        # Its children (imap, auth) may outlive the master for a moment; the pid file must go.
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "master.pid").unlink()

    def reset(self):
        """Back to a fresh server on the same ports: its connections kicked, its users, mail
        (indexes and UIDVALIDITY with it) and log gone; started again if a test stopped it."""
        if self.process is None:
            self.start()
        subprocess.run([DOVEADM, "-c", str(self.config), "kick", "*"], capture_output=True, timeout=30)
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._connected_users() and time.monotonic() < deadline:
            time.sleep(0.02)
        shutil.rmtree(self.root / "mail")
        (self.root / "mail").mkdir()
        self._own(self.root / "mail")
        self.passwords = {}
        self._write_users()
        for path in (self.root / "dovecot.out", self.root / "dovecot.log"):
            with contextlib.suppress(FileNotFoundError):
                os.truncate(path, 0)
        return self

    def _connected_users(self):
        who = subprocess.run([DOVEADM, "-c", str(self.config), "who"], capture_output=True, text=True,
                             timeout=30)
        return who.stdout.splitlines()[1:]

    def log(self):
        return "".join(path.read_text(errors="replace") for path in (self.root / "dovecot.out",
                                                                      self.root / "dovecot.log") if path.exists())

    # -- mail -----------------------------------------------------------------------------

    def maildir(self, user):
        folder = self.root / "mail" / user
        for sub in ("", "cur", "new", "tmp"):
            if not (folder / sub).exists():
                (folder / sub).mkdir(parents=True)
                self._own(folder / sub)
        return folder

    def seed(self, user, messages):
        """Write ``messages`` — (raw bytes, datetime it arrived, seen) — into the user's inbox.
        Dovecot takes a Maildir file's time as the message's arrival (INTERNALDATE)."""
        cur = self.maildir(user) / "cur"
        for raw, arrived, seen in messages:
            path = cur / f"{int(arrived.timestamp())}.{uuid.uuid4().hex}.test:2,{'S' if seen else ''}"
            path.write_bytes(raw)
            os.utime(path, (arrived.timestamp(), arrived.timestamp()))
            self._own(path)

    @contextlib.contextmanager
    def client(self, user):
        """A logged-in imapclient connection, as the user's own mail client."""
        client = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(user, self.passwords[user])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver(self, user, raw, seen=False):
        """New mail arriving in the user's inbox (an APPEND, which IDLE clients hear of)."""
        with self.client(user) as client:
            client.append("INBOX", raw, flags=[imapclient.SEEN] if seen else [])

    def seen_subjects(self, user, folder="INBOX"):
        """{subject: seen} of the messages in ``folder``."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            answer = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        return {_subject(data): imapclient.SEEN in data[b"FLAGS"] for data in answer.values()}

    def change_uidvalidity(self, user, value):
        """Give the inbox a new UIDVALIDITY, as a server restored from backup or rebuilt does."""
        subprocess.run([DOVEADM, "-c", str(self.config), "mailbox", "update", "-u", user,
                        "--uid-validity", str(value), "INBOX"], check=True, capture_output=True, timeout=30)


def _subject(data):
    header = next(value for key, value in data.items() if key.startswith(b"BODY[HEADER"))
    return header.decode("utf-8", "replace").partition(":")[2].strip()


def _servers():
    """Start Dovecots with ``start(tokeninfo_url=None)``; stop and remove them with ``stop_all()``."""
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd; scripts/install-system-deps)")
    servers = []

    def start(tokeninfo_url=None):
        # Its own folder, not pytest's tmp_path: as root that is closed to the mail user.
        root = Path(tempfile.mkdtemp(prefix="mailpouch-dovecot-"))
        root.chmod(0o755)
        servers.append(Dovecot(root, tokeninfo_url))
        return servers[-1].start()

    def stop_all():
        for server in servers:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)
    return start, stop_all


@pytest.fixture
def dovecot_factory():
    """``dovecot_factory(tokeninfo_url=None)`` starts one more Dovecot; all are stopped and removed
    after the test."""
    start, stop_all = _servers()
    yield start
    stop_all()


@pytest.fixture(scope="session")
def dovecot_server():
    """The session's Dovecot (stopping one takes a second); tests take it reset, as `dovecot`."""
    start, stop_all = _servers()
    yield start()
    stop_all()


@pytest.fixture
def dovecot(dovecot_server):
    return dovecot_server.reset()


def trust(monkeypatch, ca_file):
    """Make ssl.create_default_context() trust the test CA (as an operator's CA bundle would)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))

