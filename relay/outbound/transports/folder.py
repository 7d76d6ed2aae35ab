"""The folder transport: each message as an .eml file, for local setups and demonstrations."""

import os
import re
from pathlib import Path

from pouch import mime

from .base import TemporaryFailure, Transport


class FolderTransport(Transport):
    def __init__(self, folder):
        self.folder = Path(folder)

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.sent_folder)

    def send(self, message):
        raw = mime.build(message.record, message.blobs)
        path = self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", message.key) + ".eml")
        partial = path.with_suffix(".partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(raw)
            os.replace(partial, path)
        except OSError as error:  # a full disk, say: it may be written later
            raise TemporaryFailure(f"the outbox folder {self.folder} cannot take it: {error}") from None
        return ""
