"""Hand a dialled line to pppd and follow it until its interface exists.
Blocking: callers run it in a thread, off the IOLoop."""

import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

from hardware.errors import ConnectFailed, ConnectTimeout

SYS_NET = Path("/sys/class/net")
POLL_SECONDS = 0.1
# pppd(8), EXIT STATUS: the ones a box can meet.
EXIT_MEANINGS = {
    1: "fatal error", 2: "bad options", 3: "not setuid root", 4: "the kernel lacks PPP support",
    5: "stopped by a signal", 6: "the serial port is locked", 7: "the serial port would not open",
    10: "PPP negotiation failed", 11: "the peer did not authenticate", 15: "the peer stopped answering",
    16: "the modem hung up", 19: "authentication failed (check user and password)",
}


def arguments(settings):
    """pppd's command line: the line is its stdin, already dialled."""
    command = shlex.split(settings.pppd) + ["nodetach", "noauth", "defaultroute", "usepeerdns",
                                             "noipdefault", "ifname", settings.interface]
    if settings.user:
        command += ["user", settings.user, "password", settings.password]
    return command


class Pppd:
    def __init__(self, settings, line_fd, sys_net=SYS_NET):
        self.interface = Path(sys_net) / settings.interface
        try:
            self.process = subprocess.Popen(arguments(settings), stdin=line_fd,
                                            stdout=subprocess.DEVNULL, start_new_session=True)
        except OSError as error:
            raise ConnectFailed(f"cannot start pppd ({settings.pppd}): {error}") from None

    def wait_for_interface(self, timeout, abort=None):
        """Until the interface exists; `abort` (a threading.Event) set: give up at once."""
        deadline = time.monotonic() + timeout
        abort = abort or threading.Event()
        while not self.interface.exists():
            status = self.process.poll()
            if status is not None:
                meaning = EXIT_MEANINGS.get(status, "see pppd(8)")
                raise ConnectFailed(f"pppd exited with status {status}: {meaning}")
            if time.monotonic() > deadline:
                self.stop(timeout=POLL_SECONDS * 20)
                raise ConnectTimeout(f"{self.interface.name} did not come up within {timeout:g} s")
            if abort.wait(POLL_SECONDS):
                raise ConnectTimeout(f"given up waiting for {self.interface.name}: the caller stopped")

    def running(self):
        return self.process.poll() is None and self.interface.exists()

    def stop(self, timeout):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
