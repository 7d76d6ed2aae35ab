"""Why a link would not come up: one exception family, one subclass per cause
a box's admin can act on."""


class LinkError(Exception):
    """The link could not be brought up, read or brought down."""


class LinkConfigError(LinkError):
    """The settings name something that does not exist."""


class ModemNotFound(LinkError):
    """No modem answers (none plugged in, or ModemManager is not running)."""


class ModemVanished(LinkError):
    """The modem disappeared while in use (unplugged, or it reset)."""


class ModemFailed(LinkError):
    """The modem is there but cannot work (ModemManager marks it failed, or describes it in
    terms that make no sense): unplug it and plug it in again, or restart ModemManager."""


class SimError(LinkError):
    """The SIM card stops the modem from working."""


class SimMissing(SimError):
    """No SIM card in the modem."""


class SimPinRequired(SimError):
    """The SIM asks for a PIN (or PUK) that the settings do not give."""


class WrongPin(SimError):
    """The SIM refused the configured PIN."""


class NoNetwork(LinkError):
    """The modem found no network it may use."""


class ConnectFailed(LinkError):
    """The network or pppd refused the data connection."""


class LinkTimeout(LinkError):
    """A step did not finish in its time."""


class ConnectTimeout(LinkTimeout):
    """The data connection did not come up in time."""


class Unreachable(LinkError):
    """The link is there but the check host does not answer."""


class AtError(LinkError):
    """The modem answered an AT command with an error."""

    def __init__(self, command, reply, code=None):
        super().__init__(f"{command}: modem answered {reply}")
        self.command = command
        self.reply = reply
        self.code = code
