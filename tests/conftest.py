"""Fixtures shared by the whole suite."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Fixture plugins that start real components (one module each under tests/support/).
pytest_plugins = [
    "tests.support.at_modem",
    "tests.support.azurite",
    "tests.support.box_server",
    "tests.support.flaky_proxy",
    "tests.support.dbus",
    "tests.support.dovecot",
    "tests.support.postgres",
    "tests.support.schema",
    "tests.support.sendgrid",
    "tests.support.spamd",
]


def corpus_path():
    """The shared e-mail corpus: $MAILPOUCH_CORPUS, else ../shared/corpus beside the checkout."""
    return Path(os.environ.get("MAILPOUCH_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir():
    path = corpus_path()
    if not path.is_dir():
        pytest.skip(f"the shared e-mail corpus is not at {path} (set MAILPOUCH_CORPUS to its folder)")
    return path
