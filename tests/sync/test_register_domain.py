"""A box registers under the domain the relay gave it, or is refused with what to set."""

import dataclasses
import os

import pytest

from appliance.sync.registration import token_path
from tests.sync.test_cli import appliance


@pytest.mark.gen_test(timeout=120)
async def test_a_box_with_another_domain_is_refused_with_the_one_to_set(relay, tmp_path):
    environ = dict(os.environ, MAILPOUCH_APPLIANCE_CONFIG="", MAILPOUCH_BOX_DATA_DIR=str(tmp_path / "box"),
                   MAILPOUCH_BOX_DOMAIN="box.localhost", MAILPOUCH_MODEM_KIND="always-on")
    assert (await appliance(environ, "migrate"))[0] == 0
    code = relay.add_box("goma")

    status, output = await appliance(environ, "register", relay.url, code)
    assert status != 0
    assert "set [box] domain = goma.relay.test" in output and "not *@box.localhost" in output, output
    assert not (tmp_path / "box" / "relay-token").exists()

    environ["MAILPOUCH_BOX_DOMAIN"] = "goma.relay.test"  # as told; the same code still works
    status, output = await appliance(environ, "register", relay.url, code)
    assert status == 0 and "mail for *@goma.relay.test" in output, output


@pytest.mark.gen_test(timeout=60)
async def test_a_relay_that_does_not_compare_domains_is_checked_by_the_box(relay, make_box, monkeypatch):
    from appliance.sync import client

    box = await make_box("goma", registered=False)
    wrong = dataclasses.replace(box.settings, box=dataclasses.replace(box.settings.box, domain="box.localhost"))
    original = client.RelayClient.register

    async def older_relay(self, code, domain=None):  # a relay from before the domain was sent
        return await original(self, code)

    monkeypatch.setattr(client.RelayClient, "register", older_relay)
    from appliance.sync.registration import WrongDomain, register
    with pytest.raises(WrongDomain, match=r"set \[box\] domain = goma.relay.test"):
        await register(wrong, box.store, box.http, relay.url, relay.add_box("goma"))
    assert not token_path(wrong).exists()
