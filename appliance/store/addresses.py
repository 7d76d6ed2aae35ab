"""Parsing and checking the addresses people type, and storing address lists."""

import json
import re
from email.utils import parseaddr

from appliance.store.errors import N_, StoreError

CHUNK = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^,;"])+')  # one address each, commas and \" inside quotes kept
CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
# Printable ASCII only (the lookahead): mail leaves 7-bit clean, and "ａ@example.org" (a fullwidth
# a) or a control character in the local part is no address any server takes without SMTPUTF8.
ADDRESS = re.compile(r"^(?=[\x21-\x7e]+\Z)[^@<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9-]+)+\Z")  # \Z: "$" would let a final line break through


def parse(text, strict=True):
    """``(name, email)`` pairs from what a person typed in To or Cc; StoreError names a bad one.

    Not ``strict`` (a draft): a bad address is kept as typed, to be fixed before sending.
    """
    pairs = []
    # A line break is a space: inside a quoted name it must not make the name an address.
    for chunk in CHUNK.findall(CONTROLS.sub(" ", text)):
        chunk = chunk.strip()
        name, email = parseaddr(chunk)
        # parseaddr joins words: "a@x.org b" would be a@x.orgb, mail to a domain nobody typed.
        if ADDRESS.match(email) and email.lower() in chunk.lower():
            pairs.append((" ".join(name.split()), email.lower()))
        elif strict:
            raise StoreError(N_("This is not an email address: %(address)s"), address=chunk)
        elif chunk:
            pairs.append(("", chunk))
    return pairs


def domain_of(email):
    return email.rsplit("@", 1)[-1].lower()


def dumps(pairs):
    return json.dumps([list(pair) for pair in pairs], ensure_ascii=False)


def loads(text):
    return [tuple(pair) for pair in json.loads(text or "[]")]


def emails(pairs):
    return [email for _name, email in pairs]


def format_list(pairs):
    """Addresses as a person would type them, which ``parse`` reads back as the same pairs
    whatever a sender put in a name (quotes, commas, "<other@address>")."""
    return ", ".join(f'"{_quoted(name)}" <{email}>' if name.strip() else email for name, email in pairs)


def _quoted(name):
    name = " ".join(CONTROLS.sub(" ", name).split())
    return name.replace("\\", "\\\\").replace('"', '\\"')
