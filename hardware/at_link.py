"""A USB stick driven with AT commands: unlock the SIM, wait for a network,
set the APN, dial, and hand the line to pppd.  All serial I/O runs in a
worker thread so the IOLoop keeps serving the web client meanwhile."""

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time

from hardware import apn, at_replies, errors, pins, pppd
from hardware.at_port import AtPort
from hardware.link import Link, LinkState
from hardware.settings import check_apn

log = logging.getLogger(__name__)

PDP_TYPES = {"ipv4": "IP", "ipv6": "IPV6", "ipv4v6": "IPV4V6"}
DIAL = "ATD*99***1#"  # a packet data call on context 1
REGISTRATION_POLL_SECONDS = 1.0


class AtLink(Link):
    kind = "at"

    def __init__(self, settings, sys_net=pppd.SYS_NET, escape_guard=1.0):
        super().__init__(settings)
        self.sys_net = sys_net
        self.escape_guard = escape_guard  # V.250's silence around "+++"
        self._lock = asyncio.Lock()  # one conversation with the modem at a time
        self._abort = threading.Event()  # set: the worker thread's step gives up at its next read
        self._port = None
        self._pppd = None
        self._dialled = False
        self._reading = None  # the modem's state as last read, shown while pppd has the line

    async def _up(self):
        async with self._lock:
            if not (self._pppd and self._pppd.running()):
                await self._run(self._dial)

    async def _state(self):
        if self._lock.locked():  # dialling or hanging up: answer at once from the last reading
            return self._reading or LinkState(self.kind, present=True, last_error="the modem is busy")
        async with self._lock:
            if self._pppd and self._pppd.running():
                return dataclasses.replace(self._reading, connected=True,
                                           interface=self.settings.interface)
            try:
                return await self._run(self._read_once)
            except errors.ModemNotFound as error:
                return LinkState(self.kind, present=False, last_error=str(error))
            except errors.LinkError as error:
                return LinkState(self.kind, present=True, last_error=str(error))

    async def _down(self):
        async with self._lock:
            await self._run(self._hang_up)

    async def _run(self, blocking):
        """Run a blocking step in a worker thread.  A caller that stops waiting (a deadline)
        tells the worker to give up at its next read and waits for it, lock held: the port is
        never used by two threads, nor held by one nobody waits for, nor pppd left running."""
        self._abort.clear()
        work = asyncio.get_running_loop().run_in_executor(None, blocking)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            self._abort.set()
            with contextlib.suppress(errors.LinkError):  # why it gave up: nobody asks any more
                await work
            raise

    # Blocking steps, run in a worker thread.

    def _dial(self):
        self._hang_up()  # what is left of a call that dropped
        self._port = self._open()
        try:
            self._unlock_sim()
            self._wait_for_network()
            self._reading = self._read(self._port)
            self._set_context()
            self._dialled = True  # from here on the line may be in a call, even on a timeout
            self._port.command(DIAL, timeout=self.settings.connect_timeout, timeout_error=errors.ConnectTimeout)
            self._pppd = pppd.Pppd(self.settings, self._port.fileno(), self.sys_net)
            self._pppd.wait_for_interface(self.settings.connect_timeout, self._abort)
        except BaseException:
            self._abort.clear()  # a dial given up still hangs up: a call left open costs money
            self._hang_up()
            raise

    def _read_once(self):
        self._hang_up()  # what is left of a call that dropped: it holds the port
        port = self._open()
        try:
            return self._read(port)
        finally:
            port.close()

    def _open(self):
        port = AtPort(self.settings.serial_port, self.settings.baud, self.settings.command_timeout,
                      self._abort)
        try:
            port.probe()
            port.command("ATE0")  # no echo: replies are easier to read strictly
            try:
                port.command("AT+CMEE=1")  # numeric +CME ERROR codes instead of a bare ERROR
            except errors.AtError:
                log.info("%s gives no numeric error codes: errors will say less", self.settings.serial_port)
        except BaseException:
            port.close()
            raise
        return port

    def _unlock_sim(self):
        answer = at_replies.sim_answer(self._port.command("AT+CPIN?"))
        sim = at_replies.CPIN.get(answer, "error")
        if sim == "ready":
            return
        if sim == "missing":
            raise errors.SimMissing(f"no SIM card in the modem (+CPIN: {answer})")
        if sim == "puk-required":
            raise errors.SimPinRequired("the SIM is blocked and asks for its PUK; unlock it in a phone")
        if sim != "pin-required":
            raise errors.SimError(f"the modem asks for {answer}: an unlock code of the stick itself "
                                  f"(locked to one operator?); use that operator's SIM or an unlocked modem")
        if not self.settings.pin:
            raise errors.SimPinRequired("the SIM asks for a PIN and none is configured")
        pins.check_not_refused(self.settings.serial_port, self.settings.pin)
        try:
            self._port.command(f'AT+CPIN="{self.settings.pin}"', shown='AT+CPIN="****"')
        except errors.WrongPin:
            pins.refused(self.settings.serial_port, self.settings.pin)
            raise
        except errors.AtError as error:
            pins.refused(self.settings.serial_port, self.settings.pin)
            raise errors.WrongPin(f"the SIM refused the PIN ({error})") from None

    def _wait_for_network(self):
        deadline = time.monotonic() + self.settings.register_timeout
        while True:
            state = at_replies.registration(self._port.command("AT+CGREG?"), "AT+CGREG?")
            if at_replies.is_registered(state):
                return
            if state == "denied":
                raise errors.NoNetwork("the network denied registration (is the SIM active?)")
            if time.monotonic() + REGISTRATION_POLL_SECONDS > deadline:
                raise errors.NoNetwork(f"no data network found within "
                                       f"{self.settings.register_timeout:g} s ({state})")
            if self._abort.wait(REGISTRATION_POLL_SECONDS):
                raise errors.LinkTimeout("given up waiting for a network: the caller stopped")

    def _set_context(self):
        access_point = self.settings.apn or apn.suggest_apn(self.settings, self._reading.operator_code)
        check_apn(access_point)  # it goes between quotes into a command
        pdp_type = PDP_TYPES.get(self.settings.ip_type, "IP")
        self._port.command(f'AT+CGDCONT=1,"{pdp_type}","{access_point}"')

    def _read(self, port):
        """Everything the admin page shows, from a modem in command mode."""
        try:
            sim = at_replies.sim_state(port.command("AT+CPIN?"))
        except errors.SimMissing:
            return LinkState(self.kind, present=True, sim="missing")
        percent, dbm = at_replies.signal_from_csq(port.command("AT+CSQ"))
        registration = at_replies.registration(port.command("AT+CREG?"), "AT+CREG?")
        if sim != "ready":  # no operator to ask about: many modems answer +CME ERROR: 11
            return LinkState(self.kind, present=True, sim=sim, registration=registration,
                             signal_percent=percent, signal_dbm=dbm)
        port.command("AT+COPS=3,2")  # numeric operator: MCC+MNC
        code, technology = at_replies.operator(port.command("AT+COPS?"))
        port.command("AT+COPS=3,0")  # long alphanumeric name
        name, _ = at_replies.operator(port.command("AT+COPS?"))
        return LinkState(self.kind, present=True, sim=sim, operator=name, operator_code=code,
                         registration=registration, signal_percent=percent, signal_dbm=dbm,
                         technology=technology)

    def _hang_up(self):
        if self._pppd:
            self._pppd.stop(self.settings.command_timeout)
            self._pppd = None
        if not self._port:
            return
        try:
            if self._dialled:
                self._port.escape_to_command_mode(self.escape_guard)
                self._port.command("ATH")
        except errors.LinkError as error:
            log.warning("hanging up %s: %s", self.settings.serial_port, error)
        finally:
            self._port.close()
            self._port = None
            self._dialled = False

