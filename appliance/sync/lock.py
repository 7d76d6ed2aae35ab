"""One sync at a time per box, whichever process (the server, the CLI) starts it."""

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_FILE = "sync.lock"


class SyncBusy(Exception):
    """Another sync of this box is running."""


@contextlib.contextmanager
def sync_lock(data_dir):
    """Hold the box's sync lock for the block; SyncBusy if another process holds it."""
    path = Path(data_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy("another sync of this box is running") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when a crash ends the process
