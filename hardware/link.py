"""The one interface every way of getting online offers: bring the link up,
report its state, bring it down."""

import abc
import asyncio
import contextlib
import dataclasses
import datetime
import logging
import time
from typing import Optional

from hardware.errors import LinkError, LinkTimeout

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ConnectResult:
    """How the last `up()` went: shown on the admin page."""

    ok: bool
    seconds: float
    finished: datetime.datetime
    error: str = ""


@dataclasses.dataclass(frozen=True)
class LinkState:
    kind: str
    present: bool  # the modem (or interface) is there
    sim: str = ""  # ready, pin-required, puk-required, missing, error, or "" when unknown
    operator: str = ""
    operator_code: str = ""  # MCC+MNC, e.g. 63001
    registration: str = ""  # home, roaming, searching, denied, idle
    signal_percent: Optional[int] = None
    signal_dbm: Optional[int] = None
    technology: str = ""  # GSM, EDGE, UMTS, HSPA, HSPA+, LTE, 5G
    connected: bool = False
    interface: str = ""
    last_error: str = ""
    last_connect: Optional[ConnectResult] = None

    @property
    def bars(self):
        """0 to 4 bars, as a phone shows them; None when the signal is unknown."""
        return signal_bars(self.signal_percent)

    def as_dict(self):
        fields = dataclasses.asdict(self)
        fields["bars"] = self.bars
        if self.last_connect:
            fields["last_connect"]["finished"] = self.last_connect.finished.isoformat()
        return fields


def signal_bars(percent):
    if percent is None:
        return None
    return min(4, (max(0, percent) + 24) // 25)


async def within(seconds, awaitable, what, error=LinkTimeout):
    """Await one step under its own deadline, failing with a message naming it."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        raise error(f"{what} did not finish within {seconds:g} s") from None


class Link(abc.ABC):
    """Base of every link: records each attempt to connect and its outcome."""

    kind = ""

    def __init__(self, settings):
        self.settings = settings
        self.last_connect = None
        self.last_error = ""

    async def up(self):
        """Bring the link up; raise a `LinkError` saying why when it cannot, the link down
        again then: a half-made connection (radio on, a bearer coming up late) costs money."""
        started = time.monotonic()
        try:
            await self._up()
        except LinkError as error:
            self._record(started, error)
            await self._down_after_failure()
            raise
        except asyncio.CancelledError:  # a caller's deadline (the sync's watchdog): down all the same
            self._record(started, LinkTimeout("stopped before the link was up (a caller's deadline)"))
            await self._down_after_failure()
            raise
        self._record(started, None)

    async def state(self) -> LinkState:
        """What the admin page shows; never raises for a missing modem."""
        state = await self._state()
        # A fresh error from reading the state says more than the last attempt's.
        return dataclasses.replace(state, last_error=state.last_error or self.last_error,
                                   last_connect=self.last_connect)

    async def down(self):
        """Bring the link down; safe to call when it is not up."""
        await self._down()

    @contextlib.asynccontextmanager
    async def connected(self):
        """`async with link.connected():` — up for the block, down afterwards whatever happens."""
        await self.up()  # down again by itself when it fails
        try:
            yield self
        finally:
            await self.down()

    async def _down_after_failure(self):
        try:
            await self._down()
        except LinkError as error:
            log.warning("bringing the %s link down after a failed connect: %s", self.kind, error)

    def _record(self, started, error):
        self.last_error = str(error) if error else ""
        self.last_connect = ConnectResult(
            ok=error is None,
            seconds=round(time.monotonic() - started, 3),
            finished=datetime.datetime.now(datetime.timezone.utc),
            error=self.last_error,
        )

    @abc.abstractmethod
    async def _up(self):
        ...

    @abc.abstractmethod
    async def _state(self) -> LinkState:
        ...

    @abc.abstractmethod
    async def _down(self):
        ...
