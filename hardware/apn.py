"""APN settings suggested from the SIM's operator (MCC+MNC), read from Debian's
mobile-broadband-provider-info database when it is installed."""

import dataclasses
import logging
import xml.etree.ElementTree as ElementTree

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ApnSuggestion:
    provider: str
    apn: str
    user: str = ""
    password: str = ""


def suggestions(providers_file, operator_code):
    """Internet APNs of the operators whose network id is `operator_code` (e.g. 63001)."""
    if not operator_code or not providers_file.is_file():
        return []
    try:
        root = ElementTree.parse(providers_file).getroot()
    except ElementTree.ParseError as error:
        log.warning("cannot read %s: %s", providers_file, error)
        return []
    found = []
    for provider in root.iter("provider"):
        gsm = provider.find("gsm")
        if gsm is not None and _has_network(gsm, operator_code):
            name = provider.findtext("name", "").strip()
            found += [_suggestion(name, entry) for entry in gsm.iter("apn") if _for_internet(entry)]
    return found


def suggest_apn(settings, operator_code):
    """The first internet APN known for the operator, or "" (many networks accept that)."""
    found = suggestions(settings.providers_file, operator_code)
    return found[0].apn if found else ""


def _has_network(gsm, operator_code):
    return any(network.get("mcc", "") + network.get("mnc", "") == operator_code
               for network in gsm.iter("network-id"))


def _for_internet(entry):
    usage = entry.find("usage")
    return usage is None or usage.get("type") == "internet"


def _suggestion(provider, entry):
    return ApnSuggestion(provider=provider, apn=entry.get("value", ""),
                         user=entry.findtext("username", "").strip(),
                         password=entry.findtext("password", "").strip())
