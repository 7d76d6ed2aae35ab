"""Strict parsing of AT replies: malformed replies are errors, not guesses."""

import pytest

from hardware import AtError
from hardware import at_replies


def test_signal():
    assert at_replies.signal_from_csq(["+CSQ: 17,99"]) == (55, -79)
    assert at_replies.signal_from_csq(["+CSQ: 31,0"]) == (100, -51)
    assert at_replies.signal_from_csq(["+CSQ: 99,99"]) == (None, None)


@pytest.mark.parametrize("lines", [["+CSQ: 45,99"], ["+CSQ: -3,99"], ["+CSQ: abc"], []])
def test_malformed_signal(lines):
    with pytest.raises(AtError, match="AT\\+CSQ"):
        at_replies.signal_from_csq(lines)


def test_registration_and_operator():
    assert at_replies.registration(["+CGREG: 2,5,\"1A2B\",\"00C3\""], "AT+CGREG?") == "roaming"
    assert at_replies.registration(["+CREG: 0,3"], "AT+CREG?") == "denied"
    assert at_replies.operator(['+COPS: 0,0,"Vodacom CD",7']) == ("Vodacom CD", "LTE")
    assert at_replies.operator(["+COPS: 0"]) == ("", "")
    with pytest.raises(AtError):
        at_replies.registration(["+CREG: home"], "AT+CREG?")


def test_a_query_answers_with_exactly_one_line():
    with pytest.raises(AtError, match="unexpected reply"):
        at_replies.signal_from_csq(["+CSQ: 17,99", "^RSSI:17"])
