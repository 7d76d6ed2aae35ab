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
_UNSOLICITED = re.compile(r"^(\^|RING$|\+CRING:|\+CMTI:|\+CUSD:|\+CIEV:)")
_EXTENDED = re.compile(r"^AT([+^][A-Z]+)", re.IGNORECASE)
POLL_SECONDS = 0.1
PROBE_ATTEMPTS = 3


class AtPort:
    def __init__(self, device, baud, timeout):
        self.device = device
        self.timeout = timeout
        self._buffer = b""
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
        raise errors.ModemNotFound(f"no modem answers on {self.device}")

    def command(self, command, timeout=None):
        """Send one command; return its information lines (and a CONNECT line)."""
        self._write(command.encode("ascii") + b"\r")
        deadline = time.monotonic() + (timeout or self.timeout)
        prefix = _expected_prefix(command)
        lines = []
        while True:
            line = self._read_line(deadline)
            if line is None:
                raise errors.LinkTimeout(f"{command}: no reply from the modem within "
                                         f"{timeout or self.timeout:g} s")
            if line == command or _is_unsolicited(line, prefix):
                continue  # an echo (before ATE0) or a line the modem sent on its own
            if line == "OK":
                return lines
            if line.startswith("CONNECT"):
                return lines + [line]
            _raise_if_final_error(command, line)
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
                if line:
                    return line
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                # Setting the timeout reconfigures the port: it fails too once the stick is gone.
                self.serial.timeout = min(remaining, POLL_SECONDS)
                self._buffer += self.serial.read(self.serial.in_waiting or 1)
            except (serial.SerialException, OSError) as error:
                raise errors.ModemVanished(f"reading from {self.device} failed: {error}") from None


def _split_line(buffer):
    """(clean text, whether a line ended, the rest): line noise dropped, not guessed at."""
    ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    if not ends:
        return "", False, buffer
    end = min(ends)
    text = buffer[:end].decode("ascii", "ignore")
    text = "".join(char for char in text if " " <= char < "\x7f").strip()
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
