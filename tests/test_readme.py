"""The README's configuration examples are settings files the code accepts."""

import re

from appliance import settings as box_settings
from relay import settings as relay_settings
from tests.conftest import ROOT


def ini_examples():
    return re.findall(r"```ini\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_the_box_example_loads(tmp_path):
    path = tmp_path / "appliance.conf"
    path.write_text(ini_examples()[0])
    settings = box_settings.load(path, environ={})
    assert (settings.box.domain, settings.web.port) == ("kinshasa.relay.example.org", 80)


def test_the_relay_example_loads(tmp_path):
    path = tmp_path / "relay.conf"
    path.write_text(ini_examples()[1])
    settings = relay_settings.load(path, environ={})
    assert (settings.relay.domain, settings.storage.kind) == ("relay.example.org", "azure")
