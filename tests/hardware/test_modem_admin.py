"""The modem's admin page over HTTP against a real box server, with ModemManager's
mock on a private bus or the always-on link."""

import dataclasses
import html
import re
import socket
import time

import pytest

from appliance.settings import ApplianceSettings, Box, Web
from appliance.store.link_choice import link_settings
from hardware import LinkSettings
from tests.appliance.conftest import (  # noqa: F401 - fixtures of the box's server
    DOMAIN, box_url, client, compiled_catalogues, engine, make_user, store)
from tests.hardware.helpers import TEST_SECONDS
from tests.hardware.modemmanager_mock import MODEM_PATH

QUICK = dict(command_timeout=2.0, register_timeout=1.0, connect_timeout=1.0)
PROVIDERS = """<?xml version="1.0"?>
<serviceproviders format="2.0"><country code="cd">
<provider><name>Vodacom</name><gsm><network-id mcc="630" mnc="01"/>
<apn value="vodanet"><usage type="internet"/><username>vodalive</username></apn></gsm></provider>
</country></serviceproviders>
"""


@pytest.fixture
def modem():
    """The box's `[modem]` settings; tests parametrize it."""
    return LinkSettings(kind="modemmanager", **QUICK)


@pytest.fixture
def box_settings(tmp_path, modem):
    providers = tmp_path / "serviceproviders.xml"
    providers.write_text(PROVIDERS)
    return ApplianceSettings(box=Box(domain=DOMAIN, data_dir=tmp_path / "box"),
                             web=Web(cookie_secret="test-secret-" + "x" * 32),
                             modem=dataclasses.replace(modem, providers_file=providers))


@pytest.fixture
def admin(client, make_user):
    make_user("mama", is_admin=True)
    return client("mama")


def run_connection_test(session):
    """Open the page, press "Test connection" and wait for the page to show the result."""
    session.get("/admin/modem")
    session.post("/admin/modem/test")
    return finished_test_page(session)


def finished_test_page(session):
    """The page once the running test has ended."""
    deadline = time.monotonic() + TEST_SECONDS
    while time.monotonic() < deadline:
        page = session.get("/admin/modem").text
        if "Testing the connection" not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the connection test did not finish")


def fact(page, label):
    """The text of one `<dt>label</dt><dd>…</dd>` of the page, without tags."""
    found = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None


def test_only_admins_reach_the_page(modemmanager, admin, client, make_user):
    modemmanager()
    make_user("kito")
    kito = client("kito")
    assert kito.get("/admin/modem").status_code == 403
    assert kito.post("/admin/modem/test").status_code == 403
    assert kito.post("/admin/modem", data={"apn": "evil", "ip_type": "ipv4"}).status_code == 403
    assert client().get("/admin/modem").url.endswith("/login")
    page = admin.get("/admin/modem").text
    assert (fact(page, "Modem"), fact(page, "SIM")) == ("found", "ready")
    assert fact(page, "Last connection") == "none since the box started"


def test_a_successful_test_shows_the_network_and_suggests_its_apn(modemmanager, admin):
    mock = modemmanager()
    page = run_connection_test(admin)
    assert fact(page, "Last connection").startswith("connected in ")
    assert fact(page, "Operator") == "Vodacom CD (63001), home network"
    assert fact(page, "Technology") == "LTE"
    assert fact(page, "Signal") == "unknown"  # the radio is off again
    assert fact(page, "Signal during the test") == "3 of 4 bars, -71 dBm, LTE"
    assert "Vodacom: vodanet (vodalive)" in re.sub(r"<[^>]+>", "", page)
    assert '<option value="vodanet">' in page
    # Up and down once: the radio is off again afterwards.
    assert [args[0] for args in mock.calls(MODEM_PATH, "Enable")] == [True, False]


def test_a_failed_test_says_why(modemmanager, admin):
    modemmanager(Network="searching")
    page = run_connection_test(admin)
    assert re.match(r"failed after 1\.\d s: .*network", fact(page, "Last connection"))


def test_the_page_answers_while_a_test_waits_for_the_network(modemmanager, admin):
    mock = modemmanager(Bearer="hang")  # ModemManager answers Connect only after 3 s
    admin.get("/admin/modem")
    admin.post("/admin/modem/test")
    again = admin.post("/admin/modem/test")  # a second press while the first test runs
    assert "Testing the connection" in again.text and "disabled>" in again.text
    page = finished_test_page(admin)
    assert re.match(r"failed after \d\.\d s: .*within", fact(page, "Last connection"))
    assert len(mock.calls(MODEM_PATH, "Connect")) == 1


def test_the_apn_form_round_trips_and_the_admins_choice_is_used(modemmanager, admin, store):
    mock = modemmanager()
    admin.post("/admin/modem", data={"apn": "internet.vodacom.cd", "user": "box",
                                     "password": "s3cret pass", "ip_type": "ipv4v6"})
    page = admin.get("/admin/modem").text
    assert 'value="internet.vodacom.cd"' in page and 'value="box"' in page
    assert '<option value="ipv4v6" selected>' in page
    assert "s3cret" not in page and "A password is saved" in page
    admin.post("/admin/modem", data={"apn": "internet.vodacom.cd", "user": "box", "password": "",
                                     "ip_type": "ipv4v6"})  # an empty password keeps the saved one
    run_connection_test(admin)
    (properties,) = mock.calls(MODEM_PATH, "Connect")[0]
    assert (properties["apn"], properties["user"], properties["password"], properties["ip-type"]) == (
        "internet.vodacom.cd", "box", "s3cret pass", 4)
    admin.post("/admin/modem", data={"apn": "", "user": "", "clear_password": "1", "ip_type": "ipv4"})
    with store.read() as conn:
        chosen = link_settings(conn, LinkSettings(apn="from-the-file", password="file"))
    assert (chosen.apn, chosen.user, chosen.password, chosen.ip_type) == ("", "", "", "ipv4")


@pytest.mark.parametrize("form, complaint", [
    ({"apn": "bad apn!", "ip_type": "ipv4"}, "An APN is up to 63"),
    ({"apn": "x" * 64, "ip_type": "ipv4"}, "An APN is up to 63"),
    ({"apn": "ok", "ip_type": "ipx"}, "Choose an IP type"),
    ({"apn": "ok", "user": 'a"b', "ip_type": "ipv4"}, "without quotes"),
])
def test_bad_apn_settings_are_refused_and_change_nothing(modemmanager, admin, store, form, complaint):
    modemmanager()
    admin.post("/admin/modem", data={"apn": "vodanet", "user": "", "ip_type": "ipv4"})
    refused = admin.post("/admin/modem", data=form)
    assert refused.status_code == 400 and complaint in refused.text
    with store.read() as conn:
        assert link_settings(conn, LinkSettings()).apn == "vodanet"


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("modem", [LinkSettings(kind="always-on", check_host="127.0.0.1",
                                                check_port=closed_port(), **QUICK)])
def test_an_always_on_link_that_does_not_answer(admin):
    page = run_connection_test(admin)
    assert fact(page, "Modem") is None  # no modem to speak of
    assert fact(page, "Last connection").startswith("failed after ")


@pytest.mark.parametrize("modem", [LinkSettings(kind="always-on", **QUICK)])
def test_an_always_on_link_works(admin):
    page = run_connection_test(admin)
    assert fact(page, "Link").startswith("always-on")
    assert fact(page, "Last connection").startswith("connected in ")


def test_the_page_speaks_the_admins_language(modemmanager, admin):
    modemmanager(Pin="1234")
    admin.post("/settings", data={"action": "language", "language": "fr"})
    page = admin.get("/admin/modem").text
    assert (fact(page, "Modem"), fact(page, "Carte SIM")) == ("trouvé", "code PIN demandé")
    assert fact(page, "Dernière connexion") == "aucune depuis le démarrage du boîtier"
    assert "Tester la connexion" in page


def test_no_modem_is_said_plainly(modemmanager, admin):
    modemmanager(NoModem="true")
    page = admin.get("/admin/modem").text
    assert fact(page, "Modem") == "not found" and fact(page, "SIM") is None
    assert "modem" in fact(page, "Error").lower()


@pytest.mark.parametrize("scenario, error", [
    (dict(Broken="no-state"), "ModemManager gives the modem no usable State"),
    (dict(Denied="list"), "the box's service may not drive modems"),
    (dict(Sim="locked-to-network"), None),
])
def test_a_misbehaving_modemmanager_is_explained_on_the_page(modemmanager, admin, scenario, error):
    modemmanager(**scenario)
    page = admin.get("/admin/modem")
    assert page.status_code == 200
    if error:
        assert error in html.unescape(fact(page.text, "Error"))
    tested = html.unescape(fact(run_connection_test(admin), "Last connection"))
    assert tested.startswith("failed after ") and (error or "locked to one operator") in tested
