"""The text of `modem status` for states a modem rarely shows on demand."""

import datetime

from hardware.link import ConnectResult, LinkState
from hardware.status import describe

FINISHED = datetime.datetime(2026, 3, 1, 2, 15, tzinfo=datetime.timezone.utc)


def test_a_failed_connection_and_an_unknown_signal():
    failed = ConnectResult(ok=False, seconds=61.04, finished=FINISHED, error="no network found")
    state = LinkState("modemmanager", present=True, sim="ready", registration="searching",
                      last_connect=failed, last_error="no network found")
    assert describe(state) == [
        "link: modemmanager", "modem: found", "SIM: ready", "operator: none (searching)",
        "signal: unknown", "technology: unknown", "connected: no",
        "last connect: failed after 61.0 s (2026-03-01 02:15:00 UTC): no network found",
        "last error: no network found"]


def test_a_working_link_and_its_bars():
    done = ConnectResult(ok=True, seconds=4.2, finished=FINISHED)
    state = LinkState("at", present=True, sim="ready", operator="Orange RDC", operator_code="63086",
                      registration="roaming", signal_percent=20, signal_dbm=-101, technology="EDGE",
                      connected=True, interface="ppp0", last_connect=done)
    lines = describe(state)
    assert "operator: Orange RDC (63086), roaming" in lines
    assert "signal: 1/4 bars, 20 %, -101 dBm" in lines
    assert "connected: yes (ppp0)" in lines
    assert "last connect: connected in 4.2 s (2026-03-01 02:15:00 UTC)" in lines
    assert [LinkState("at", True, signal_percent=p).bars for p in (0, 1, 25, 26, 74, 75, 100)] == \
        [0, 1, 1, 2, 3, 3, 4]
