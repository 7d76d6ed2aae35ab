"""A Huawei USB stick on a real pty, answering AT commands from a thread as an
E3131 does: echo until ATE0, replies framed in CR LF, unsolicited lines,
slow replies, line noise, a data call that hands the line over until `+++`.

Fixture `huawei_modem`: a started `HuaweiModem`; its `port` is the pty's path."""

import os
import re
import select
import threading
import time
import tty

import pytest

POLL_SECONDS = 0.05
STOP_SECONDS = 5
REGISTERED = (1, 5)


class HuaweiModem:
    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no line discipline: bytes pass as a USB serial port passes them
        self.port = os.ttyname(self.slave)
        # What the stick does; tests change these before talking to it.
        self.sim = "ready"  # ready | locked | missing
        self.pin = "1234"
        self.registration = 1  # +CREG/+CGREG <stat>: 1 home, 2 searching, 3 denied, 5 roaming
        self.csq = 17
        self.operator = ("Vodacom CD", "63001", 2)  # name, MCC+MNC, +COPS AcT (2: UTRAN)
        self.dial = "connect"  # connect | no carrier
        self.silent = set()  # commands it never answers
        self.slow = {}  # command -> seconds it takes to answer
        self.chatter = []  # bytes it sends before every reply: unsolicited lines, noise
        # What happened.
        self.commands = []
        self.data = bytearray()  # bytes received during a data call
        self.context = None  # the +CGDCONT command received
        self.echo = True
        self.data_mode = False
        self._cops_format = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="huawei-modem", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.unplug()
        os.close(self.slave)

    def unplug(self):
        """The stick is pulled out: the port's other end goes away."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._thread.join(STOP_SECONDS)
            os.close(self.master)

    def _serve(self):
        pending = b""
        while not self._stopping.is_set():
            if not select.select([self.master], [], [], POLL_SECONDS)[0]:
                continue
            chunk = os.read(self.master, 4096)
            if self.data_mode:
                self._in_call(chunk)
                continue
            pending += chunk
            while b"\r" in pending:
                line, _, pending = pending.partition(b"\r")
                self._answer(line.decode("ascii", "replace").strip())

    def _in_call(self, chunk):
        self.data += chunk
        if chunk.endswith(b"+++"):  # the escape, between guard times
            self.data_mode = False
            self._send(["OK"])

    def _answer(self, text):
        start = text.upper().find("AT")
        if start < 0:
            return  # a modem ignores what comes before the AT prefix
        command = text[start:]
        self.commands.append(command)
        if self.echo:
            os.write(self.master, command.encode() + b"\r")
        if command in self.silent:
            return
        time.sleep(self.slow.get(command, 0))
        for noise in self.chatter:
            os.write(self.master, noise)
        self._send(self._reply(command))

    def _send(self, lines):
        for line in lines:
            os.write(self.master, b"\r\n" + line.encode() + b"\r\n")

    def _reply(self, typed):
        command = typed.upper()  # AT commands are case-insensitive; their arguments are not
        if command in ("AT", "AT+CMEE=1", "ATH") or command.startswith("AT+COPS=3,"):
            self._cops_format = int(command[-1]) if command.startswith("AT+COPS") else self._cops_format
            return ["OK"]
        if command in ("ATE0", "ATE1"):
            self.echo = command == "ATE1"
            return ["OK"]
        if command.startswith("AT+CPIN"):
            return self._cpin(typed)
        if command == "AT+CSQ":
            return [f"+CSQ: {self.csq},99", "OK"]
        if command in ("AT+CREG?", "AT+CGREG?"):
            stat = 0 if self.sim != "ready" else self.registration
            return [f"{command[2:-1]}: 0,{stat}", "OK"]
        if command == "AT+COPS?":
            return self._cops()
        if command.startswith("AT+CGDCONT="):
            self.context = typed
            return ["OK"]
        if command.startswith("ATD"):
            return self._call()
        return ["ERROR"]

    def _cpin(self, command):
        if self.sim == "missing":
            return ["+CME ERROR: 10"]
        if command == "AT+CPIN?":
            return ["+CPIN: SIM PIN" if self.sim == "locked" else "+CPIN: READY", "OK"]
        entered = re.fullmatch(r'AT\+CPIN="?(\d+)"?', command)
        if entered and entered.group(1) == self.pin:
            self.sim = "ready"
            return ["OK"]
        return ["+CME ERROR: 16"]

    def _cops(self):
        if self.sim != "ready" or self.registration not in REGISTERED:
            return ["+COPS: 0", "OK"]
        name, code, technology = self.operator
        return [f'+COPS: 0,{self._cops_format},"{code if self._cops_format == 2 else name}",'
                f'{technology}', "OK"]

    def _call(self):
        if self.dial != "connect" or self.registration not in REGISTERED:
            return ["NO CARRIER"]
        self.data_mode = True
        return ["CONNECT 21600000"]


@pytest.fixture
def huawei_modem():
    modem = HuaweiModem().start()
    yield modem
    modem.stop()
