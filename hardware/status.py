"""A link's state as text: what `mailpouch-appliance modem status` prints."""

import json

from hardware.factory import make_link


async def report(settings, as_json=False):
    """(text, whether the modem is there): the link's state as lines, or as one JSON object."""
    state = await (await make_link(settings)).state()
    text = json.dumps(state.as_dict(), indent=2) if as_json else "\n".join(describe(state))
    return text, state.present


def describe(state):
    """Lines of `label: value`, the same facts the admin page shows."""
    lines = [("link", state.kind)]
    if state.kind != "always-on":  # no modem to speak of
        lines.append(("modem", "found" if state.present else "not found"))
    if state.present and state.kind != "always-on":
        lines += [("SIM", state.sim or "unknown"),
                  ("operator", _operator(state)),
                  ("signal", _signal(state)),
                  ("technology", state.technology or "unknown")]
    lines.append(("connected", f"yes ({state.interface})" if state.connected and state.interface
                  else "yes" if state.connected else "no"))
    if state.last_connect:
        lines.append(("last connect", _attempt(state.last_connect)))
    if state.last_error:
        lines.append(("last error", state.last_error))
    return [f"{label}: {value}" for label, value in lines]


def _operator(state):
    if not (state.operator or state.operator_code):
        return f"none ({state.registration})" if state.registration else "unknown"
    text = state.operator or state.operator_code
    if state.operator_code and state.operator_code != text:
        text += f" ({state.operator_code})"
    return f"{text}, {state.registration}" if state.registration else text


def _signal(state):
    if state.signal_percent is None:
        return "unknown"
    text = f"{state.bars}/4 bars, {state.signal_percent} %"
    return text + (f", {state.signal_dbm} dBm" if state.signal_dbm is not None else "")


def _attempt(result):
    when = result.finished.strftime("%Y-%m-%d %H:%M:%S UTC")
    if result.ok:
        return f"connected in {result.seconds:.1f} s ({when})"
    return f"failed after {result.seconds:.1f} s ({when}): {result.error}"
