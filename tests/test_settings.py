"""Settings come from defaults, an INI file and the environment, in that order."""

from pathlib import Path

import pytest

from appliance import settings as box_settings
from pouch.runtime.settings import SettingsError
from relay import settings as relay_settings


def write(tmp_path, text):
    path = tmp_path / "settings.conf"
    path.write_text(text)
    return path


def test_defaults_suit_a_local_run():
    settings = box_settings.load(environ={})
    assert settings.web.port == 8080
    assert settings.box.database == "sqlite:///var/appliance/mailpouch.db"
    relay = relay_settings.load(environ={})
    assert relay.web.port == 8081
    assert relay.storage.kind == "folder"


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    path = write(tmp_path, "[box]\ndomain = kinshasa.example.org\ndata_dir = /srv/box\n[web]\nport = 9000\n")
    settings = box_settings.load(path, environ={"MAILPOUCH_WEB_PORT": "9100"})
    assert settings.box.domain == "kinshasa.example.org"
    assert settings.box.data_dir == Path("/srv/box")
    assert settings.box.database == "sqlite:////srv/box/mailpouch.db"
    assert settings.web.port == 9100


def test_config_path_from_environment(tmp_path):
    path = write(tmp_path, "[relay]\ndomain = relay.example.org\n")
    settings = relay_settings.load(environ={"MAILPOUCH_RELAY_CONFIG": str(path)})
    assert settings.relay.domain == "relay.example.org"


@pytest.mark.parametrize("text, complaint", [
    ("[wbe]\nport = 1\n", "unknown section [wbe]"),
    ("[web]\nprot = 1\n", "unknown setting 'prot' in [web]"),
    ("[web]\nport = eighty\n", "[web] port"),
])
def test_mistakes_in_the_file_are_named(tmp_path, text, complaint):
    with pytest.raises(SettingsError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        box_settings.load(write(tmp_path, text), environ={})


def test_bad_environment_value_names_the_variable():
    with pytest.raises(SettingsError, match="MAILPOUCH_WEB_PORT"):
        box_settings.load(environ={"MAILPOUCH_WEB_PORT": "x"})


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        box_settings.load(tmp_path / "nope.conf", environ={})
