"""A SIM that wants a PIN the settings lack, or refused the one they give, waits for the admin:
the sync says why after one attempt, where it used to try again until its window closed (each
try a modem session; the refused PIN itself is never sent twice, hardware/pins.py)."""

import pytest

from appliance.store import sync_usage
from hardware.at_link import AtLink
from tests.hardware.test_at_link import at_settings
from tests.support.at_modem import huawei_modem  # noqa: F401 - fixture


@pytest.mark.parametrize("pin, reason", [("0000", "refused the PIN"), ("", "asks for a PIN and none is configured")])
@pytest.mark.gen_test(timeout=60)
async def test_a_sim_that_wants_another_pin_stops_the_sync_at_once_with_the_reason(
        relay, make_box, huawei_modem, pin, reason):
    huawei_modem.sim = "locked"
    goma = await make_box("goma")
    result = await goma.sync(seconds=30, link=AtLink(at_settings(huawei_modem, pin=pin)))
    assert not result.ok and result.attempts == 1 and reason in result.error, result.error
    with goma.store.read() as conn:
        assert reason in sync_usage.history(conn)[0]["error"]  # on the admin's sync page
