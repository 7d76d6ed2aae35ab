"""The relay's settings: /etc/mailpouch/relay.conf, overridden by
MAILPOUCH_<SECTION>_<KEY> environment variables.  Defaults suit a local run."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from pouch import settings as loader

SYSTEM_PATH = "/etc/mailpouch/relay.conf"
PATH_VARIABLE = "MAILPOUCH_RELAY_CONFIG"


@dataclass(frozen=True)
class Relay:
    domain: str = "relay.localhost"  # boxes get <box>.<domain>
    data_dir: Path = Path("var/relay")
    database_url: str = ""  # default: sqlite file in data_dir; postgresql://... to scale out
    public_url: str = "http://127.0.0.1:8081"  # how boxes reach this relay

    @property
    def database(self):
        return self.database_url or f"sqlite:///{self.data_dir / 'relay.db'}"


@dataclass(frozen=True)
class Web:
    host: str = "127.0.0.1"
    port: int = 8081


@dataclass(frozen=True)
class Storage:
    kind: str = "folder"  # folder | azure
    folder: Path = Path("var/relay/blobs")
    azure_connection_string: str = ""
    azure_container: str = "mailpouch"
    url_lifetime_s: int = 3600  # how long a signed blob URL stays valid


@dataclass(frozen=True)
class Outbound:
    transport: str = "folder"  # folder | sendgrid | smtp
    folder: Path = Path("var/relay/sent")


@dataclass(frozen=True)
class RelaySettings:
    relay: Relay = field(default_factory=Relay)
    web: Web = field(default_factory=Web)
    storage: Storage = field(default_factory=Storage)
    outbound: Outbound = field(default_factory=Outbound)


def load(path=None, environ=None):
    environ = os.environ if environ is None else environ
    path = path or loader.default_config_path(environ, PATH_VARIABLE, SYSTEM_PATH)
    return loader.load(RelaySettings, path, environ)
