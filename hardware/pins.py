"""PINs a SIM refused, remembered for the process's life: a SIM blocks after three wrong PINs
(then only its PUK, in a phone, unlocks it), and every retry of a sync, every sync and every
"test connection" would send the same wrong PIN again.  Another PIN in the settings is tried."""

from hardware.errors import WrongPin

_refused = set()


def check_not_refused(modem, pin):
    """Raise `WrongPin` when the SIM in `modem` (a port, a D-Bus path) refused `pin` already."""
    if (modem, pin) in _refused:
        raise WrongPin("the SIM refused the configured PIN before; it is not sent again (a SIM blocks "
                       "after three wrong PINs): set the right PIN in the settings")


def refused(modem, pin):
    _refused.add((modem, pin))


def forget():
    """For tests: every modem is a new one."""
    _refused.clear()
