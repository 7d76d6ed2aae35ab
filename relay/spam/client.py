"""A client of SpamAssassin's spamd over TCP (the SPAMD protocol, as ``spamc`` speaks it).

One request a connection: CHECK for a message's score, TELL to learn it as spam or ham.
``User`` names the box: spamd keeps a Bayes database per user (its virtual-config-dir), so
each box's verdicts train that box's filter only (``spamc -u <box>``).  Every step has the
client's timeout; a spamd that cannot be reached raises SpamdUnavailable and the relay goes
on without it; one that gives no usable answer about a message raises SpamdRefused.
"""

import re
import socket
from dataclasses import dataclass

PROTOCOL = "SPAMC/1.5"
MAX_ANSWER_BYTES = 64 * 1024  # headers and, for SYMBOLS, a line of rule names
_STATUS = re.compile(rb"^SPAMD/\d+\.\d+ (\d+) (.*)$")
_SPAM = re.compile(r"^(True|False|Yes|No) ; (-?[\d.]+) / (-?[\d.]+)$")
EX_OK = 0


class SpamdUnavailable(Exception):
    """spamd could not be reached."""


class SpamdRefused(Exception):
    """spamd was reached but gave no usable answer about this message (an error code, a
    timeout or a cut connection while it worked on it, what is not the protocol)."""


@dataclass(frozen=True)
class Verdict:
    score: float
    required: float
    symbols: tuple = ()


@dataclass(frozen=True)
class Client:
    host: str
    port: int
    timeout_s: float = 10.0
    max_bytes: int = 512 * 1024

    @classmethod
    def of(cls, config):
        """The client of ``[spam]`` settings (relay.settings.Spam)."""
        return cls(config.host, config.port, config.timeout_s, config.max_scan_bytes)

    def check(self, raw, user):
        """spamd's Verdict on ``raw`` for ``user`` (the rules that hit, too)."""
        headers, body = self._ask("SYMBOLS", raw, {"User": user})
        found = _SPAM.match(headers.get("spam", ""))
        if not found:
            raise SpamdRefused(f"spamd's answer has no score: {headers.get('spam')!r}")
        symbols = tuple(name for name in body.decode("ascii", "replace").strip().split(",") if name)
        return Verdict(float(found[2]), float(found[3]), symbols)

    def tell(self, raw, user, spam):
        """Learn ``raw`` as spam (or ham) in ``user``'s Bayes; True if it changed what was learnt
        (False: learnt so before)."""
        headers, _ = self._ask("TELL", raw, {"User": user, "Message-class": "spam" if spam else "ham",
                                             "Set": "local"})
        return "local" in headers.get("didset", "")

    def ping(self):
        """Whether spamd answers."""
        try:
            self._exchange(f"PING {PROTOCOL}\r\n\r\n".encode())
        except (SpamdUnavailable, SpamdRefused):
            return False
        return True

    def _ask(self, command, raw, headers):
        message = bytes(raw[:self.max_bytes])
        lines = [f"{command} {PROTOCOL}", f"Content-length: {len(message)}"]
        lines += [f"{name}: {_one_line(value)}" for name, value in headers.items()]
        answer = self._exchange(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + message)
        return _parse(answer)

    def _exchange(self, request):
        try:
            connection = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as error:  # refused, unreachable, timed out
            raise SpamdUnavailable(f"spamd at {self.host}:{self.port}: {error}") from None
        with connection:
            try:
                connection.sendall(request)
                connection.shutdown(socket.SHUT_WR)
                return _read_all(connection)
            except OSError as error:  # reset or timed out while it worked on this message
                raise SpamdRefused(f"spamd at {self.host}:{self.port}: {error}") from None


def _read_all(connection):
    chunks, total = [], 0
    while chunk := connection.recv(8192):
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_ANSWER_BYTES:
            raise SpamdRefused("spamd's answer is too long")
    return b"".join(chunks)


def _parse(answer):
    """({lower-case header: value}, body) of a spamd answer; SpamdUnavailable unless EX_OK."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    found = _STATUS.match(status)
    if not found:
        raise SpamdRefused(f"not a spamd answer: {status[:80]!r}")
    if int(found[1]) != EX_OK:
        raise SpamdRefused(f"spamd refused: {found[2].decode('ascii', 'replace')}")
    headers = {}
    for line in lines:
        name, _, value = line.decode("utf-8", "replace").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


def _one_line(value):
    return "".join(char for char in str(value) if char.isprintable() and char != ":") or "nobody"
