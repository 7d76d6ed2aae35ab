"""Sticks with habits other than the Huawei's, on real ptys: a modem that frames its lines in CR
alone or sends them a byte at a time, keeps echoing after ATE0, has no AT+CMEE, puts an
unsolicited line just before a reply, answers
+CPIN with what else a SIM or stick may ask for, refuses +COPS while the SIM is locked; and a
port that is no modem at all but floods (a GPS port, a diagnostics port).

Fixtures `odd_modem` (a started `OddModem`) and `flooding_port` (`flooding_port(kind)`: the
path of a pty that floods `lines` of NMEA or `binary` noise without line ends)."""

import os
import threading
import tty

import pytest

from tests.support.at_modem import STOP_SECONDS, HuaweiModem

NMEA = b"$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76\r\n" * 100
BINARY = bytes(range(14, 256)) * 256  # no CR, no LF


class OddModem(HuaweiModem):
    def __init__(self):
        super().__init__()
        self.framing = b"\r\n"  # b"\r": lines ended by CR alone
        self.byte_by_byte = False  # each byte its own write, so replies arrive split
        self.before = {}  # command -> bytes sent just before its reply (after chatter)
        self.cpin = None  # what +CPIN: says instead of READY / SIM PIN
        self.cops_needs_pin = False  # +COPS answers +CME ERROR: 11 while the SIM is locked
        self.dial_result = None  # what ATD answers instead of CONNECT (BUSY, ERROR...)
        self.refused = set()  # commands answered with a bare ERROR (AT+CMEE=1 on an old stick)
        self.keep_echo = False  # echo stays on whatever ATE0 says

    def _send(self, lines):
        data = b"".join(self.framing + line.encode() + self.framing for line in lines)
        if not self.byte_by_byte:
            os.write(self.master, data)
            return
        for byte in data:
            os.write(self.master, bytes([byte]))

    def _reply(self, typed):
        command = typed.upper()
        if command in self.refused:
            return ["ERROR"]
        if command == "ATE0" and self.keep_echo:
            return ["OK"]
        if command in self.before:
            os.write(self.master, self.before[command])
        if self.cpin and command == "AT+CPIN?":
            return [f"+CPIN: {self.cpin}", "OK"]
        if self.cops_needs_pin and command.startswith("AT+COPS") and self.sim != "ready":
            return ["+CME ERROR: 11"]
        if self.dial_result and command.startswith("ATD"):
            return [self.dial_result]
        return super()._reply(typed)


class FloodingPort:
    """A pty whose other end writes `chunk` over and over until stopped."""

    def __init__(self, chunk):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.chunk = chunk
        os.set_blocking(self.master, False)  # a full pty makes the flood wait, not block
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._flood, name="flooding-port", daemon=True)
        self._thread.start()

    def _flood(self):
        while not self._stopping.is_set():
            try:
                os.write(self.master, self.chunk)
            except BlockingIOError:
                self._stopping.wait(0.01)
            except OSError:
                return

    def stop(self):
        self._stopping.set()
        self._thread.join(STOP_SECONDS)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def odd_modem():
    modem = OddModem().start()
    yield modem
    modem.stop()


@pytest.fixture
def flooding_port():
    ports = []

    def start(kind):
        ports.append(FloodingPort(NMEA if kind == "lines" else BINARY))
        return ports[-1].port

    yield start
    for port in ports:
        port.stop()
