"""A link that is just there (Ethernet, a HiLink stick that is a network
interface): bringing it up means checking that the check host answers."""

import asyncio

from hardware.errors import Unreachable
from hardware.link import Link, LinkState, within


class AlwaysOnLink(Link):
    kind = "always-on"

    async def _up(self):
        await self._check()

    async def _state(self):
        try:
            await self._check()
        except Unreachable as error:
            return LinkState(self.kind, present=True, connected=False, last_error=str(error))
        return LinkState(self.kind, present=True, connected=True)

    async def _down(self):
        pass  # nobody may switch Ethernet off from here

    async def _check(self):
        host, port = self.settings.check_host, self.settings.check_port
        if not host:
            return  # nothing configured to ask: trust the link
        where = f"{host}:{port}"
        try:
            _reader, writer = await within(
                self.settings.command_timeout, asyncio.open_connection(host, port),
                f"connecting to {where}", error=Unreachable)
        except OSError as error:
            raise Unreachable(f"{where} does not answer: {error.strerror or error}") from None
        writer.close()
        await writer.wait_closed()
