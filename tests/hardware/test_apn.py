"""APN suggestions from mobile-broadband-provider-info."""

import pytest

from hardware.apn import ApnSuggestion, suggestions
from hardware.settings import PROVIDERS_FILE

PROVIDERS = """<?xml version="1.0"?>
<serviceproviders format="2.0">
  <country code="cd">
    <provider><name>Vodacom</name><gsm>
      <network-id mcc="630" mnc="01"/>
      <apn value="vodanet"><usage type="internet"/><username>vodalive</username></apn>
      <apn value="vodamms"><usage type="mms"/></apn>
    </gsm></provider>
    <provider><name>Orange</name><gsm>
      <network-id mcc="630" mnc="86"/>
      <apn value="orange.net"><password>orange</password></apn>
    </gsm></provider>
  </country>
</serviceproviders>
"""


@pytest.fixture
def providers(tmp_path):
    path = tmp_path / "serviceproviders.xml"
    path.write_text(PROVIDERS)
    return path


def test_internet_apns_of_the_operator(providers):
    assert suggestions(providers, "63001") == [ApnSuggestion("Vodacom", "vodanet", user="vodalive")]
    assert suggestions(providers, "63086") == [ApnSuggestion("Orange", "orange.net", password="orange")]


def test_unknown_operator_missing_or_broken_file(providers, tmp_path):
    assert suggestions(providers, "20801") == []
    assert suggestions(providers, "") == []
    assert suggestions(tmp_path / "absent.xml", "63001") == []
    providers.write_text(PROVIDERS[:200])
    assert suggestions(providers, "63001") == []


def test_debians_database_when_installed():
    if not PROVIDERS_FILE.is_file():
        pytest.skip("mobile-broadband-provider-info is not installed")
    assert "vodanet" in [found.apn for found in suggestions(PROVIDERS_FILE, "63001")]
