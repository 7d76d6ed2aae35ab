"""Fixture `spamd`: a real SpamAssassin spamd (Debian's /usr/sbin/spamd) of the session's own,
on a free loopback port, its state in a temporary folder: local rules only, learning allowed,
a Bayes database per spamc user (a box: ``User: <box name>``).  relay.spam.local starts it
(as `make run` does); ``start()``/``stop()`` are here for bench/ too.

Bayes databases outlive a test: a test that trains names a box of its own.

    spamd.host, spamd.port, spamd.client.check(raw, "goma"), spamd.learnt("goma")  # {"nspam": .., "nham": ..}
"""

import subprocess

import pytest

from relay.spam import local

SA_LEARN = "/usr/bin/sa-learn"


class Spamd(local.LocalSpamd):
    def learnt(self, user):
        """{"nspam": n, "nham": n} of ``user``'s Bayes database (sa-learn --dump magic)."""
        if not (self.user_dir(user) / "bayes_toks").exists():  # nothing learnt yet
            return {"nspam": 0, "nham": 0}
        dump = subprocess.run([SA_LEARN, "--dbpath", str(self.user_dir(user)), "--dump", "magic"],
                              capture_output=True, text=True, check=True).stdout
        counts = {}
        for line in dump.splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[-1] in ("nspam", "nham"):
                counts[fields[-1]] = int(fields[2])
        return {"nspam": counts.get("nspam", 0), "nham": counts.get("nham", 0)}


def start(root=None):
    """A running Spamd (its state in ``root``, or a new temporary folder); ``stop()`` it."""
    started = local.start(root)
    return Spamd(started.root, started.host, started.port, started.process, started.log_path, started.temporary)


def stop(spamd):
    """Stop it; its state goes with it when start() made its folder."""
    spamd.stop()


@pytest.fixture(scope="session")
def spamd():
    if not local.available():
        pytest.skip(f"{local.SPAMD} is not installed (Debian's spamd package)")
    running = start()
    yield running
    stop(running)
