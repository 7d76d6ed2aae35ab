"""Parsing and checking the addresses people type, and storing address lists."""

import json
import re
from email.utils import parseaddr

from appliance.store.errors import N_, StoreError

CHUNK = re.compile(r'(?:"[^"]*"|[^,;"])+')  # one address each, commas inside quotes kept
ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")


def parse(text, strict=True):
    """``(name, email)`` pairs from what a person typed in To or Cc; StoreError names a bad one.

    Not ``strict`` (a draft): a bad address is kept as typed, to be fixed before sending.
    """
    pairs = []
    for chunk in CHUNK.findall(text):
        chunk = chunk.strip()
        name, email = parseaddr(chunk)
        if ADDRESS.match(email):
            pairs.append((name, email.lower()))
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
    return ", ".join(f'"{name}" <{email}>' if name else email for name, email in pairs)
