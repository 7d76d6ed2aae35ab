"""A small D-Bus client over dbus-next's low-level API: method calls and
properties without introspection, each call under its own timeout."""

import asyncio
import contextlib

from dbus_next import BusType, Message, MessageType, Variant
from dbus_next.aio import MessageBus
from dbus_next.errors import InvalidAddressError

from hardware.errors import LinkTimeout, ModemNotFound, ModemVanished
from hardware.link import within

PROPERTIES = "org.freedesktop.DBus.Properties"
BUS_DAEMON = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
# Errors the bus itself answers when the service is not (or no longer) on it.
GONE = {"org.freedesktop.DBus.Error." + name
        for name in ("ServiceUnknown", "NameHasNoOwner", "NoReply", "Disconnected")}


class DBusCallError(Exception):
    """The peer answered a call with a D-Bus error."""

    def __init__(self, name, text):
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


class DBusClient:
    def __init__(self, bus, service, timeout):
        self.bus = bus
        self.service = service
        self.timeout = timeout
        self._gone = asyncio.ensure_future(_disconnected(bus))

    @classmethod
    async def connect(cls, address, service, timeout):
        """Connect to the bus at `address` (empty: the system bus)."""
        where = address or "the system bus"
        try:  # dbus-next opens the socket in the constructor already
            bus = MessageBus(bus_address=address) if address else MessageBus(bus_type=BusType.SYSTEM)
            await within(timeout, bus.connect(), f"connecting to {where}", error=ModemNotFound)
        except (OSError, InvalidAddressError) as error:
            raise ModemNotFound(f"cannot reach D-Bus at {where}: {error}") from None
        return cls(bus, service, timeout)

    def close(self):
        self.bus.disconnect()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_exc):
        self.close()

    async def call(self, path, interface, member, signature="", body=(), timeout=None,
                   destination=None, timeout_error=LinkTimeout):
        message = Message(destination=destination or self.service, path=path, interface=interface,
                          member=member, signature=signature, body=list(body))
        what = f"{interface}.{member}"
        reply = await self._exchange(message, timeout or self.timeout, what, timeout_error)
        if reply.message_type == MessageType.ERROR:
            if reply.error_name in GONE:
                raise ModemVanished(f"{self.service} left the bus during {what} "
                                    f"(did it stop or restart?)")
            text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
            raise DBusCallError(reply.error_name, text)
        return [unwrap(value) for value in reply.body]

    async def _exchange(self, message, seconds, what, timeout_error):
        """The reply to `message`.  When the bus connection breaks (dbus-daemon stopped), dbus-next
        leaves a pending call waiting: that is noticed at once, not at the call's deadline."""
        gone = ModemVanished(f"the D-Bus connection broke during {what} (did dbus-daemon stop?)")
        if self._gone.done():
            raise gone
        call = asyncio.ensure_future(self.bus.call(message))
        try:
            done, _ = await asyncio.wait({call, self._gone}, timeout=seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            call.cancel()  # nothing once it is done; a caller that gave up leaves no call behind
        if call in done:
            with contextlib.suppress(EOFError, OSError):
                return call.result()
        if call in done or self._gone in done:
            raise gone
        raise timeout_error(f"{what} did not finish within {seconds:g} s")

    async def properties(self, path, interface):
        (values,) = await self.call(path, PROPERTIES, "GetAll", "s", [interface])
        return values

    async def service_running(self):
        destination, path, interface = BUS_DAEMON
        (owned,) = await self.call(path, interface, "NameHasOwner", "s", [self.service],
                                   destination=destination)
        return owned


async def _disconnected(bus):
    """Done when the bus connection is gone, whatever the reason (kept, so it is never unheard)."""
    with contextlib.suppress(Exception):
        await bus.wait_for_disconnect()


def unwrap(value):
    """Plain Python values from a reply: Variants opened, recursively."""
    if isinstance(value, Variant):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value
