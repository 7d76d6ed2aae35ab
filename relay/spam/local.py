"""A spamd of its own, for `make run` and the tests: Debian's /usr/sbin/spamd on a free
loopback port, its state (each box's Bayes database, its helper home) in one folder.

Local rules only (``--local``: no DNS or network tests), learning allowed (``--allow-tell``),
no user config files but one folder per spamc user (``--virtual-config-dir``), where spamd
keeps that user's Bayes database: each box trains its own filter without system users.
Auto-learning is off, so a box's filter learns what its users said and nothing else.
spamd runs as the current user; as root, its children run as ``nobody`` (spamd will not run
them as root), which then owns the state folder.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from relay.spam.client import Client

SPAMD = Path("/usr/sbin/spamd")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10


class SpamdFailed(RuntimeError):
    """spamd did not start; the message holds the end of its log."""


def available():
    return SPAMD.exists()


def free_port(host="127.0.0.1"):
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalSpamd:
    def __init__(self, root, host, port, process, log_path, temporary=False):
        self.root, self.host, self.port = Path(root), host, port
        self.process, self.log_path = process, log_path
        self.temporary = temporary  # a folder start() made: removed by stop()

    @property
    def client(self):
        return Client(self.host, self.port, timeout_s=30)

    def user_dir(self, user):
        """Where spamd keeps ``user``'s Bayes database (bayes_toks, bayes_seen)."""
        return self.root / "users" / user

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        """Stop spamd and its children (its process group, which this started); a temporary
        state folder goes too."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _group_alive(self.process.pid):  # spamd's children finish their message and go
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def _group_alive(group):
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _runs_as():
    """(spamd's -u user, uid, gid): the current user, or nobody for root."""
    entry = pwd.getpwuid(os.geteuid()) if os.geteuid() != 0 else pwd.getpwnam("nobody")
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _reachable_by_others(path):
    """Whether every folder above ``path`` lets another user through (nobody, under root)."""
    return all(os.stat(parent).st_mode & 0o001 for parent in Path(path).resolve().parents)


def command(root, host, port, user):
    return [str(SPAMD), "--local", "--allow-tell", "--nouser-config", f"--username={user}",
            f"--virtual-config-dir={root / 'users'}/%u", f"--helper-home-dir={root / 'home'}",
            f"--listen={host}:{port}", "--max-children=2", "--min-children=1", "--min-spare=1",
            "--max-spare=2", f"--pidfile={root / 'spamd.pid'}", "--syslog=stderr",
            "--cf=bayes_auto_learn 0", "--cf=bayes_min_spam_num 1", "--cf=bayes_min_ham_num 1"]


def start(root=None, host="127.0.0.1", port=0):
    """Start a spamd keeping its state in ``root`` (a new temporary folder if None, or if
    ``nobody`` could not reach it); returns a LocalSpamd once it answers."""
    user, uid, gid = _runs_as()
    temporary = root is None or (os.geteuid() == 0 and not _reachable_by_others(root))
    root = Path(tempfile.mkdtemp(prefix="mailpouch-spamd-") if temporary else root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)  # spamd's user (nobody, under root) reaches its folders through it
    for folder in (root / "users", root / "home"):
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)
        os.chown(folder, uid, gid)
    port = port or free_port(host)
    log_path = root / "spamd.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command(root, host, port, user), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    spamd = LocalSpamd(root, host, port, process, log_path, temporary)
    _wait_until_up(spamd)
    return spamd


def _wait_until_up(spamd):
    deadline = time.monotonic() + START_TIMEOUT_S
    probe = Client(spamd.host, spamd.port, timeout_s=2)
    while time.monotonic() < deadline:
        if spamd.process.poll() is not None:
            raise SpamdFailed(f"spamd exited ({spamd.process.returncode}):\n{spamd.log()[-2000:]}")
        if probe.ping():
            return
        time.sleep(0.1)
    spamd.stop()
    raise SpamdFailed(f"spamd did not answer within {START_TIMEOUT_S} s:\n{spamd.log()[-2000:]}")
