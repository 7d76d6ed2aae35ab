"""The status page opens in a browser (a Basic challenge) and flags a box that has gone silent."""

import time

import pytest
import yaml

from relay import boxes as relay_boxes
from relay.schema import boxes
from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, ROOT_DIR

OPERATOR = (OPERATOR_USER, OPERATOR_PASSWORD)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("path", ["/status", "/metrics"])
async def test_without_credentials_the_browser_is_asked_for_them(relay, path):
    response = await relay.request(path, method="GET")
    assert response.code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="mailpouch relay"'


@pytest.mark.gen_test(timeout=30)
async def test_a_box_silent_longer_than_the_setting_is_flagged(relay):
    await relay.register("goma")
    await relay.register("bukavu")
    relay.add_box("uvira")  # never registered: not expected to sync
    goma = await relay.register("kindu")
    await goma.sync()  # synced just now
    three_days_ago = int(time.time()) - 72 * 3600
    with relay.engine.begin() as db:
        db.execute(boxes.update().where(boxes.c.name == "goma").values(last_sync_at=three_days_ago))
        db.execute(boxes.update().where(boxes.c.name.in_(["bukavu", "uvira"])).values(created_at=three_days_ago))

    page = (await relay.request("/status", method="GET", auth=OPERATOR)).body.decode()
    assert "Silent (no sync for over 48 hours): bukavu, goma." in page
    metrics = (await relay.request("/metrics", method="GET", auth=OPERATOR)).body.decode()
    assert 'mailpouch_relay_box_silent{box="goma"} 1' in metrics
    assert 'mailpouch_relay_box_silent{box="bukavu"} 1' in metrics  # registered, never synced
    assert 'mailpouch_relay_box_silent{box="kindu"} 0' in metrics
    assert 'mailpouch_relay_box_silent{box="uvira"} 0' in metrics


def test_the_alert_rule_watches_the_silent_metric():
    rules = yaml.safe_load((ROOT_DIR / "docs" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert any(rule["expr"].startswith("mailpouch_relay_box_silent == 1") for rule in rules)


def test_registration_codes_never_start_with_a_dash():
    # about one random url-safe code in 64 would, and `register RELAY_URL CODE` takes it for an option
    codes = [relay_boxes.registration_code() for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    assert not [code for code in codes if code.startswith("-")]
