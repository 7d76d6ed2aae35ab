"""One IMAP connection to an account's server, behind the few operations the sync needs.

imapclient does the protocol; every call blocks, so a connection lives in its
account's own thread (relay.accounts.runner).  Errors come out as AuthFailure
(wrong credentials or settings: retry slowly) or Unreachable (retry with
backoff), worded for the account's owner.
"""

import contextlib
import datetime
import email.parser
import email.policy
import re
import socket
import ssl
import time
from dataclasses import dataclass

import imapclient
from imapclient import exceptions as imap_errors
from imapclient.imapclient import SEEN, SENT

from relay.accounts.errors import AuthFailure, Unreachable

INBOX = "INBOX"
DEFAULT_SENT = "Sent"
CHECK_S = 1.0  # how often a wait in IDLE looks whether it was interrupted
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None  # None: the server has no CONDSTORE


@dataclass(frozen=True)
class Meta:
    """What the sync needs to know of a message before fetching it."""

    uid: int
    message_id: str | None
    sender: str  # the From header, for the log and unreadable mail
    size: int
    seen: bool
    subject: str = ""  # Subject and Date as in the header, for the notice of mail too big to bring
    date: str = ""


@contextlib.contextmanager
def translated(where, username=""):
    """Turn what socket, ssl and imapclient raise into AuthFailure or Unreachable."""
    try:
        yield
    except imap_errors.LoginError as error:
        raise AuthFailure(f"{where} refused the user name or password for {username} ({_text(error)})") from None
    except ssl.SSLCertVerificationError as error:
        raise AuthFailure(f"the certificate of {where} could not be verified ({error.verify_message}); "
                          "check the server name and security setting") from None
    except (socket.timeout, TimeoutError):
        raise Unreachable(f"{where} did not answer in time") from None
    except imap_errors.IMAPClientAbortError as error:
        raise Unreachable(f"{where} broke off the connection ({_text(error)})") from None
    except imap_errors.IMAPClientError as error:
        raise Unreachable(f"{where} refused a command ({_text(error)})") from None
    except (ssl.SSLError, OSError) as error:
        raise Unreachable(f"cannot reach {where} ({error})") from None


def _text(error):
    text = str(error)
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


class Connection:
    def __init__(self, client, where):
        self.client = client
        self.where = where
        self.condstore = False
        self.can_idle = False
        self.can_sort = False

    @classmethod
    def open(cls, credentials, secret, timeout_s, rule=None):
        """A logged-in connection; ``secret``: the password, or an XOAUTH2 access token;
        ``rule`` (relay.accounts.destinations) checks the address reached before logging in."""
        where = f"{credentials.imap_host}:{credentials.imap_port}"
        with translated(where, credentials.username):
            context = ssl.create_default_context()
            client = imapclient.IMAPClient(credentials.imap_host, credentials.imap_port,
                                           ssl=credentials.imap_security == "tls", ssl_context=context,
                                           timeout=timeout_s)
            connection = cls(client, where)
            try:
                if rule is not None:
                    rule.check_peer(credentials.imap_host, credentials.imap_port, client.socket())
                connection._start(credentials, secret, context)
            except BaseException:
                connection.abort()
                raise
        return connection

    def _start(self, credentials, secret, context):
        client = self.client
        if credentials.imap_security == "starttls":
            if not client.has_capability("STARTTLS"):
                raise AuthFailure(f"{self.where} does not offer STARTTLS; check the security setting")
            client.starttls(context)
        if credentials.auth == "xoauth2":
            client.oauth2_login(credentials.username, secret)
        else:
            client.login(credentials.username, secret)
        capabilities = set(client.capabilities())
        for extension in (b"QRESYNC", b"CONDSTORE"):  # QRESYNC includes CONDSTORE
            if extension in capabilities and b"ENABLE" in capabilities:
                self.condstore = bool(client.enable(extension.decode()))
                if self.condstore:
                    break
        self.can_idle = b"IDLE" in capabilities
        self.can_sort = b"SORT" in capabilities

    def _call(self, function, *args, **kwargs):
        with translated(self.where):
            return function(*args, **kwargs)

    def select(self, folder):
        answer = self._call(self.client.select_folder, folder)
        return FolderState(answer[b"UIDVALIDITY"], answer.get(b"UIDNEXT", 0),
                           answer.get(b"HIGHESTMODSEQ") if self.condstore else None)

    def sent_folder(self):
        """The account's Sent folder: the one marked \\Sent (RFC 6154), else a usual name, else "Sent"."""
        return self._call(self.client.find_special_folder, SENT) or DEFAULT_SENT

    def window(self, days):
        """UIDs of the selected folder's messages of the last ``days`` days, newest first."""
        since = datetime.date.today() - datetime.timedelta(days=days)
        if self.can_sort:
            return list(self._call(self.client.sort, ["REVERSE ARRIVAL"], ["SINCE", since]))
        return sorted(self._call(self.client.search, ["SINCE", since]), reverse=True)

    def uids_from(self, uidnext):
        """UIDs at or above ``uidnext`` (new mail), oldest first."""
        found = self._call(self.client.search, ["UID", f"{uidnext}:*"])
        return sorted(uid for uid in found if uid >= uidnext)  # "n:*" matches the last uid even below n

    def metas(self, uids):
        """Meta of each of ``uids`` still on the server, in the order of ``uids``."""
        items = ["FLAGS", "RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT DATE)]"]
        answer = self._call(self.client.fetch, uids, items)
        metas = []
        for uid in uids:
            data = answer.get(uid)
            if data is None:
                continue  # expunged meanwhile
            header = _HEADERS.parsebytes(bytes(next(
                (value for key, value in data.items() if key.startswith(b"BODY[HEADER")), b"")))
            metas.append(Meta(uid, message_id(header.get("Message-ID")), str(header.get("From") or ""),
                              data.get(b"RFC822.SIZE", 0), SEEN in data.get(b"FLAGS", ()),
                              str(header.get("Subject") or ""), str(header.get("Date") or "")))
        return metas

    def bodies(self, uids):
        """{uid: raw message} of ``uids`` (without setting \\Seen)."""
        answer = self._call(self.client.fetch, uids, ["BODY.PEEK[]"])
        return {uid: bytes(data[b"BODY[]"]) for uid, data in answer.items() if b"BODY[]" in data}

    def seen_since(self, modseq):
        """{uid: seen} of the selected folder's messages whose flags changed after ``modseq``
        (CONDSTORE), as another of the user's mail clients left them."""
        changed = self._call(self.client.search, ["MODSEQ", str(modseq + 1)])
        if not changed:
            return {}
        answer = self._call(self.client.fetch, changed, ["FLAGS"])
        return {uid: SEEN in data.get(b"FLAGS", ()) for uid, data in answer.items()}

    def set_seen(self, uids, seen):
        change = self.client.add_flags if seen else self.client.remove_flags
        self._call(change, uids, [SEEN], silent=True)

    def append(self, folder, raw):
        """Put ``raw`` in ``folder`` as read, creating the folder if the server says it is missing."""
        try:
            self._call(self.client.append, folder, raw, flags=[SEEN])
        except Unreachable as error:
            if "TRYCREATE" not in str(error):
                raise
            self._call(self.client.create_folder, folder)
            self._call(self.client.append, folder, raw, flags=[SEEN])

    def wait(self, seconds, interrupted):
        """Wait in the selected folder until the server reports a change (True), ``seconds``
        pass or ``interrupted()`` is true (False)."""
        if not self.can_idle:  # poll: a NOOP brings the changes
            deadline = time.monotonic() + seconds
            while not interrupted() and time.monotonic() < deadline:
                time.sleep(CHECK_S)
            return _changed(self._call(self.client.noop)[1])
        self._call(self.client.idle)
        changed = False
        try:
            deadline = time.monotonic() + seconds
            while not changed and not interrupted() and time.monotonic() < deadline:
                started = time.monotonic()
                responses = self._call(self.client.idle_check, CHECK_S)
                changed = _changed(responses)
                if not responses and time.monotonic() - started < CHECK_S / 2:
                    break  # readable yet nothing to read: maybe closed; DONE below will tell
        finally:
            responses = self._call(self.client.idle_done)[1]
        return changed or _changed(responses)

    def abort(self):
        """Break the connection at once, from any thread (a blocked call then fails)."""
        with contextlib.suppress(Exception):
            self.client.socket().shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.client.shutdown()

    def close(self):
        with contextlib.suppress(Exception):
            self.client.logout()
        self.abort()


def _changed(responses):
    for response in responses:
        if len(response) > 1 and response[1] in (b"EXISTS", b"RECENT", b"FETCH"):  # FETCH: flags changed
            return True
        if response and response[0] == b"BYE":
            raise Unreachable("the server closed the connection")
    return False


def message_id(value):
    """The id (without <>) of a Message-ID header's value, or None."""
    if not value:
        return None
    found = _MESSAGE_ID.search(str(value))
    text = found.group(1) if found else str(value).strip()
    return text or None
