"""A modem's AT command port over pyserial: one command at a time, replies
read up to their final result code, unsolicited lines and line noise set
aside.  Blocking: callers run it in a thread, off the IOLoop."""

import logging
import re
import time

import serial

from hardware import errors

log = logging.getLogger(__name__)

# Final result codes that end a command badly (V.250 and 3GPP TS 27.007).
CALL_FAILURES = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")
# +CME ERROR codes (3GPP TS 27.007 section 9.2) a box's admin can act on.
CME_ERRORS = {
    10: (errors.SimMissing, "no SIM card in the modem"),
    11: (errors.SimPinRequired, "the SIM asks for its PIN"),
    12: (errors.SimPinRequired, "the SIM is blocked and asks for its PUK"),
    13: (errors.SimError, "the SIM card failed"),
    16: (errors.WrongPin, "the SIM refused the PIN"),
    30: (errors.NoNetwork, "no network service"),
}
_CME = re.compile(r"\+CME ERROR: *(\d+)$")
# Lines a modem sends on its own: rings, messages, and what sticks say as they boot (Quectel and
# SIMCom: RDY, SMS DONE, PB DONE, Call Ready, SMS Ready; Sierra's *EMRDY; Telit's #QSS).
_UNSOLICITED = re.compile(r"^(\^|\*|#|RING$|\+CRING:|\+CMTI:|\+CUSD:|\+CIEV:|"
                          r"RDY$|SMS DONE$|PB DONE$|Call Ready$|SMS Ready$)", re.IGNORECASE)
_EXTENDED = re.compile(r"^AT([+^][A-Z]+)", re.IGNORECASE)
POLL_SECONDS = 0.1
PROBE_ATTEMPTS = 3
# Bounds on what a reply may hold, so a port that floods (not a modem, a stick gone mad) costs
# little memory: a longer line is noise, dropped; more information lines end the command.
MAX_LINE_BYTES = 2048
MAX_REPLY_LINES = 64


class AtPort:
    def __init__(self, device, baud, timeout, abort=None):
        self.device = device
        self.timeout = timeout
        self.abort = abort  # a threading.Event: set, the command under way gives up at once
        self._buffer = b""
        self._skipping = False  # inside a line too long to keep
        self.noise_bytes = 0  # bytes dropped as line noise
        try:
            self.serial = serial.Serial(device, baud, timeout=POLL_SECONDS,
                                        write_timeout=timeout, exclusive=True)
        except (serial.SerialException, OSError) as error:
            raise errors.ModemNotFound(f"cannot open modem port {device}: {error}") from None

    def close(self):
        self.serial.close()

    def fileno(self):
        return self.serial.fileno()

    def probe(self):
        """Check that a modem answers on the port at all."""
        for _ in range(PROBE_ATTEMPTS):
            try:
                return self.command("AT", timeout=min(2.0, self.timeout))
            except errors.LinkTimeout:
                continue  # a stick just plugged in may ignore the first commands
            except errors.AtError as error:  # every modem answers a bare AT with OK
                raise errors.ModemNotFound(f"{self.device} does not answer as a modem does "
                                           f"({error}); is serial_port the stick's modem port?") from None
        noise = f" (it sent {self.noise_bytes} bytes that are not AT replies: is serial_port the " \
                f"stick's modem port?)" if self.noise_bytes else ""
        raise errors.ModemNotFound(f"no modem answers on {self.device}{noise}")

    def command(self, command, timeout=None, shown=None, timeout_error=errors.LinkTimeout):
        """Send one command; return its information lines (and a CONNECT line).
        `shown` names the command in errors and logs instead (a PIN is not for them)."""
        shown = shown or command
        try:
            data = command.encode("ascii")
        except UnicodeEncodeError:
            raise errors.LinkConfigError(f"{shown}: a modem takes only ASCII in commands") from None
        self._write(data + b"\r")
        deadline = time.monotonic() + (timeout or self.timeout)
        prefix = _expected_prefix(command)
        lines = []
        while True:
            line = self._read_line(deadline)
            if line is None:
                raise timeout_error(f"{shown}: no reply from the modem within {timeout or self.timeout:g} s")
            if line == command or _is_unsolicited(line, prefix):
                continue  # an echo (before ATE0) or a line the modem sent on its own
            if line == "OK":
                return lines
            if line.startswith("CONNECT"):
                return lines + [line]
            _raise_if_final_error(shown, line)
            if len(lines) == MAX_REPLY_LINES:
                raise errors.AtError(shown, f"more than {MAX_REPLY_LINES} lines without a result code")
            lines.append(line)

    def escape_to_command_mode(self, guard):
        """`+++` between silent guard times: how a data call gives the line back."""
        time.sleep(guard)
        self._write(b"+++")
        time.sleep(guard)
        self._buffer = b""
        self.serial.reset_input_buffer()

    def _write(self, data):
        try:
            self.serial.write(data)
        except (serial.SerialException, OSError) as error:
            raise errors.ModemVanished(f"writing to {self.device} failed: {error}") from None

    def _read_line(self, deadline):
        while True:
            line, found, rest = _split_line(self._buffer)
            if found:
                self._buffer = rest
                if self._skipping:  # the end of an overlong line: noise too
                    self._skipping = False
                    continue
                if line:
                    return line
                continue
            if len(self._buffer) > MAX_LINE_BYTES:
                self.noise_bytes += len(self._buffer)
                self._buffer, self._skipping = b"", True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self.abort is not None and self.abort.is_set():
                raise errors.LinkTimeout("given up: the caller stopped waiting")
            try:
                # Setting the timeout reconfigures the port: it fails too once the stick is gone.
                self.serial.timeout = min(remaining, POLL_SECONDS)
                self._buffer += self.serial.read(min(self.serial.in_waiting, MAX_LINE_BYTES) or 1)
            except (serial.SerialException, OSError) as error:
                raise errors.ModemVanished(f"reading from {self.device} failed: {error}") from None


def _split_line(buffer):
    """(clean text, whether a line ended, the rest): line noise dropped, not guessed at."""
    ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    if not ends:
        return "", False, buffer
    end = min(ends)
    # UTF-8 where it is valid (an operator's name may need it), controls and broken bytes dropped.
    text = buffer[:end].decode("utf-8", "ignore")
    text = "".join(char for char in text if char.isprintable()).strip()
    return text, True, buffer[end + 1:]


def _expected_prefix(command):
    extended = _EXTENDED.match(command)
    return extended.group(1).upper() + ":" if extended else None


def _is_unsolicited(line, prefix):
    if prefix and line.startswith(prefix):
        return False
    if _UNSOLICITED.match(line):
        log.debug("unsolicited: %s", line)
        return True
    if prefix and line.startswith(("+", "^")) and not line.startswith(prefix) \
            and not line.startswith(("+CME ERROR", "+CMS ERROR")):
        log.debug("unsolicited while waiting for %s: %s", prefix, line)
        return True
    return False


def _raise_if_final_error(command, line):
    if line == "ERROR" or line.startswith("+CMS ERROR"):
        raise errors.AtError(command, line)
    cme = _CME.match(line)
    if cme:
        code = int(cme.group(1))
        kind, meaning = CME_ERRORS.get(code, (None, None))
        if kind:
            raise kind(f"{meaning} ({command}: {line})")
        raise errors.AtError(command, line, code)
    if line.startswith("+CME ERROR"):
        raise errors.AtError(command, line)  # a text error message (after AT+CMEE=2)
    if line in CALL_FAILURES:
        raise errors.ConnectFailed(f"{command}: the modem answered {line}")
