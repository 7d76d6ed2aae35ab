"""The box's attachment files: their bytes on disk, one file per distinct content, named by its
sha256 (``store.attachment_files``; the pouch's blobs and the relay's blob store are other things)."""

import hashlib
import os
import tempfile
from pathlib import Path


class AttachmentFiles:
    def __init__(self, directory):
        self.directory = Path(directory)

    def path(self, sha256_hex):
        if len(sha256_hex) != 64 or not all(c in "0123456789abcdef" for c in sha256_hex):
            raise ValueError(f"not a sha256 digest: {sha256_hex!r}")
        return self.directory / sha256_hex[:2] / sha256_hex

    def has(self, sha256_hex):
        return self.path(sha256_hex).is_file()

    def put(self, data, expected_hex=None):
        """Store ``data`` durably (written, fsynced, renamed) and return its sha256 in hex."""
        digest = hashlib.sha256(data).hexdigest()
        if expected_hex is not None and digest != expected_hex:
            raise ValueError(f"attachment bytes do not match their sha256 {expected_hex}")
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary.name, target)
        return digest

    def read(self, sha256_hex):
        return self.path(sha256_hex).read_bytes()
