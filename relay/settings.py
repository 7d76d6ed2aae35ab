"""The relay's settings: /etc/mailpouch/relay.conf, overridden by
MAILPOUCH_<SECTION>_<KEY> environment variables.  Defaults suit a local run."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from pouch import limits
from pouch.runtime import settings as loader

SYSTEM_PATH = "/etc/mailpouch/relay.conf"
PATH_VARIABLE = "MAILPOUCH_RELAY_CONFIG"

MB = 1024 * 1024


@dataclass(frozen=True)
class Relay:
    domain: str = "relay.localhost"  # boxes get <box>.<domain>
    data_dir: Path = Path("var/relay")
    database_url: str = ""  # default: sqlite file in data_dir; postgresql://... to scale out
    public_url: str = "http://127.0.0.1:8081"  # how boxes reach this relay

    @property
    def database(self):
        url = self.database_url or f"sqlite:///{self.data_dir / 'relay.db'}"
        # The relay depends on psycopg2; SQLAlchemy 2.1 would pick psycopg 3 for a bare postgresql://.
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url[len("postgresql://"):]
        return url


@dataclass(frozen=True)
class Web:
    host: str = "127.0.0.1"
    port: int = 8081
    max_json_bytes: int = 64 * 1024  # sync and registration requests are small


@dataclass(frozen=True)
class Storage:
    kind: str = "folder"  # folder | azure
    folder: Path | None = None  # default: <data_dir>/blobs
    azure_connection_string: str = ""
    azure_container: str = "mailpouch"
    url_lifetime_s: int = 3600  # how long a signed blob URL stays valid
    # no: boxes reach Azure's blobs through this relay (one host, one TLS connection a sync);
    # yes: boxes get Azure SAS URLs and talk to Azure themselves.
    direct_urls: bool = False


@dataclass(frozen=True)
class Inbound:
    # Credentials SendGrid puts in the webhook URL (https://user:password@relay/inbound/sendgrid).
    webhook_user: str = ""
    webhook_password: str = ""
    # SendGrid's signature verification key (base64 DER, as shown in its settings); empty: not checked.
    sendgrid_public_key: str = ""
    signature_max_age_s: int = 600
    max_message_bytes: int = 30 * MB  # SendGrid's own limit for a whole inbound message
    smtp_host: str = ""  # empty: no SMTP listener
    smtp_port: int = 2525
    # Open SMTP connections, in all and from one client address (Postfix's default_process_limit and
    # smtpd_client_connection_count_limit); one more is answered 421 (the sender retries). 0: no cap.
    smtp_max_connections: int = 100
    smtp_max_connections_per_ip: int = 10
    smtp_timeout_s: float = 300.0  # a client silent this long is closed (RFC 5321 4.5.3.2.7: 5 minutes)
    # A sender's retry (SendGrid after a timeout or a 5xx, an SMTP server that lost our 250) of mail
    # a recipient got within this many days, same Message-ID or same bytes, is not delivered again.
    dedupe_days: int = 7


@dataclass(frozen=True)
class Outbound:
    transport: str = "folder"  # a kind of relay.outbound.transports.TRANSPORTS
    folder: Path | None = None  # the folder transport's outbox; default: <data_dir>/sent
    sendgrid_api_key: str = ""
    sendgrid_host: str = "https://api.sendgrid.com"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    timeout_s: float = 60.0
    max_attempts: int = 8  # temporary failures retried this many times, then the message fails
    backoff_s: float = 60.0  # first retry delay, doubled each time
    backoff_max_s: float = 3600.0
    poll_s: float = 1.0  # how often an idle worker looks for work
    batch: int = 10  # messages claimed at once by one worker


@dataclass(frozen=True)
class Sync:
    pouch_max_bytes: int = 10 * MB  # raw MIME bytes packed into one downloaded pouch
    big_message_bytes: int = 256 * 1024  # messages this big travel after the small ones
    # An attachment bigger than this comes down as a placeholder (a preview for an image) and its
    # bytes on request, until the box's admin chooses its own limit (BoxSettingsRecord).
    attachment_limit: int = limits.ATTACHMENT_LIMIT_DEFAULT
    max_upload_bytes: int = 64 * MB
    # A box's uploads waiting on the relay (staged, or uploaded and not yet handed over) hold at
    # most this many bytes (their declared sizes): a sync asking for more gets "upload_error".
    box_quota_bytes: int = 256 * MB
    max_upload_expanded_bytes: int = 256 * MB  # an upload once decompressed (mail packs 5-12x)
    # zstd levels of downloaded pouches (the box writes its own at 19). bench/relay.py on the corpus
    # (whole packing path, 10 MB pouches, rounds interleaved, this 2-core VM whose speed varies
    # 1.6x over a day): 19 packs 9-13 MB/s of mail; 17 packs 17-24 for 0.2% more pouch bytes; 15
    # packs 22-32 for 1.7% more. A pouch of up to bulk_pack_bytes of mail (a day's mail) takes a
    # fraction of a second at 19; bigger ones, a backlog the box's modem waits for, get 15.
    pack_level: int = 19
    bulk_pack_level: int = 15
    bulk_pack_bytes: int = 2 * MB


@dataclass(frozen=True)
class Accounts:
    """External IMAP accounts the relay syncs for box users (issue #9)."""
    key_file: Path | None = None  # the X25519 key that opens sealed account settings; default: <data_dir>/account.key
    poll_s: float = 5.0  # how often a relay process looks for accounts to start/stop and read state to send back
    timeout_s: float = 60.0  # IMAP/SMTP connect and read timeout for an account's servers
    backoff_s: float = 10.0  # first retry after an account's server could not be reached, doubled each time
    backoff_max_s: float = 900.0
    auth_retry_s: float = 3600.0  # after a server refused the credentials: retry slowly, never hammer
    batch: int = 50  # messages fetched and stored per transaction
    batch_bytes: int = 8 * MB  # and at most this many bytes of mail per fetch (memory stays flat)
    lease_s: float = 60.0  # a process's claim on an account (several relay processes share them)
    # Box users name the servers: by default the relay refuses any that resolves to a loopback,
    # private or link-local address, so they cannot reach services beside it. yes: a lab, tests.
    allow_private_hosts: bool = False


@dataclass(frozen=True)
class Spam:
    """SpamAssassin's spamd (relay.spam): inbound mail scored per box, held at its threshold."""
    enabled: bool = True  # no: only SendGrid's spam_score is used
    host: str = "127.0.0.1"
    port: int = 783
    timeout_s: float = 10.0  # connect and answer, per message
    threshold: float = limits.SPAM_THRESHOLD_DEFAULT  # until a box's admin chose one
    max_scan_bytes: int = 512 * 1024  # what spamd sees of a bigger message (spamc's own cap)
    poll_s: float = 5.0  # how often the background looks for mail to score while spamd is missing
    # Scoring what the background has not at a box's sync stops after this long (the box waits
    # for the answer); the rest is packed at a later sync.
    sync_score_s: float = 30.0


@dataclass(frozen=True)
class Retention:
    # Days inbound mail stays whole (raw MIME, prepared records) after the last box acked it, so an
    # operator can look into a complaint; then its bytes are cleared. 0: cleared at the ack.
    keep_days: int = 7
    poll_s: float = 600.0  # how often a relay process looks for mail to clear


@dataclass(frozen=True)
class Operator:
    user: str = ""  # the status page stays closed while these are empty
    password: str = ""
    silent_after_hours: float = 48.0  # a registered box not synced for this long is flagged silent


@dataclass(frozen=True)
class RelaySettings:
    relay: Relay = field(default_factory=Relay)
    web: Web = field(default_factory=Web)
    storage: Storage = field(default_factory=Storage)
    inbound: Inbound = field(default_factory=Inbound)
    outbound: Outbound = field(default_factory=Outbound)
    sync: Sync = field(default_factory=Sync)
    accounts: Accounts = field(default_factory=Accounts)
    retention: Retention = field(default_factory=Retention)
    spam: Spam = field(default_factory=Spam)
    operator: Operator = field(default_factory=Operator)

    @property
    def blob_folder(self):
        return self.storage.folder or self.relay.data_dir / "blobs"

    @property
    def account_key_file(self):
        return self.accounts.key_file or self.relay.data_dir / "account.key"

    @property
    def sent_folder(self):
        return self.outbound.folder or self.relay.data_dir / "sent"


def load(path=None, environ=None):
    environ = os.environ if environ is None else environ
    path = path or loader.default_config_path(environ, PATH_VARIABLE, SYSTEM_PATH)
    return loader.load(RelaySettings, path, environ)
