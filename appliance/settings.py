"""The box's settings: /etc/mailpouch/appliance.conf, overridden by
MAILPOUCH_<SECTION>_<KEY> environment variables.  Defaults suit a local run."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from hardware.settings import LinkSettings
from pouch.runtime import settings as loader

SYSTEM_PATH = "/etc/mailpouch/appliance.conf"
PATH_VARIABLE = "MAILPOUCH_APPLIANCE_CONFIG"


@dataclass(frozen=True)
class Box:
    domain: str = "box.localhost"  # users' addresses are name@domain
    data_dir: Path = Path("var/appliance")
    database_url: str = ""  # default: sqlite file in data_dir
    timezone: str = "UTC"  # sync windows are in the box's local time

    @property
    def database(self):
        return self.database_url or f"sqlite:///{self.data_dir / 'mailpouch.db'}"


@dataclass(frozen=True)
class Web:
    host: str = "127.0.0.1"
    port: int = 8080
    cookie_secret: str = ""  # the .deb generates one; empty means: make one and keep it in data_dir
    # Proxies (addresses or networks) whose X-Forwarded-For / X-Real-IP name the client;
    # empty: the box is reached directly and those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relay:
    url: str = "http://127.0.0.1:8081"


@dataclass(frozen=True)
class Sync:
    windows: str = "02:00-04:00"  # in [box] timezone; comma-separated; empty: only "sync now"
    price_per_mb: float = 0.0  # what a MB costs on the link, for the admin page
    currency: str = "USD"
    budget_bytes: int = 0  # per sync; 0: no budget
    month_budget_mb: float = 0.0  # the data plan a month, shown against what syncs used; 0: none
    step_timeout_s: float = 300.0  # watchdog of one step (link up, one request, one transfer)
    backoff_s: float = 30.0  # first retry delay inside a window, doubled each time
    backoff_max_s: float = 600.0
    # Upload block: a cut-off loses half of one on average (pouch.blobs.transfer explains 32).
    block_kib: int = 32


@dataclass(frozen=True)
class ApplianceSettings:
    box: Box = field(default_factory=Box)
    web: Web = field(default_factory=Web)
    relay: Relay = field(default_factory=Relay)
    modem: LinkSettings = field(default_factory=LinkSettings)  # how the box gets online
    sync: Sync = field(default_factory=Sync)


def load(path=None, environ=None):
    environ = os.environ if environ is None else environ
    path = path or loader.default_config_path(environ, PATH_VARIABLE, SYSTEM_PATH)
    return loader.load(ApplianceSettings, path, environ)
