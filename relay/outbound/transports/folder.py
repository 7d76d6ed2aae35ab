"""The folder transport: each message as an .eml file, for local setups and demonstrations."""

import os
import re
from pathlib import Path

from pouch import mime

from .base import Transport


class FolderTransport(Transport):
    def __init__(self, folder):
        self.folder = Path(folder)

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.sent_folder)

    def send(self, message):
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", message.key) + ".eml")
        partial = path.with_suffix(".partial")
        partial.write_bytes(mime.build(message.record, message.blobs))
        os.replace(partial, path)
        return ""
