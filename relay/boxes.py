"""Boxes: creation, one-time registration codes, bearer tokens, addresses.

Secrets are high-entropy random strings, so a plain sha256 is enough to keep
them only as hashes; they are compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa

from relay.schema import accounts, addresses, boxes

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class BoxError(ValueError):
    """A box command or registration that cannot be done, with why."""


class WrongDomain(BoxError):
    """A box registering under another domain than the one it owns: its code stays valid."""

    def __init__(self, given, domain):
        super().__init__(f"this box owns *@{domain}, not *@{given}: set [box] domain = {domain} "
                         "on the box and register again with the same code")
        self.domain = domain


@dataclass(frozen=True)
class Box:
    id: int
    name: str
    domain: str


def hash_secret(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(engine, name, domain):
    """Create box ``name`` owning ``*@domain``; return its one-time registration code."""
    if not NAME_PATTERN.match(name):
        raise BoxError(f"'{name}' is not a valid box name (lower-case letters, digits and '-')")
    code = registration_code()
    with engine.begin() as db:
        taken = db.execute(sa.select(boxes.c.name).where(
            (boxes.c.name == name) | (boxes.c.domain == domain.lower()))).first()
        if taken:
            raise BoxError(f"a box called '{name}' or owning {domain} already exists")
        db.execute(boxes.insert().values(
            name=name, domain=domain.lower(), registration_code_hash=hash_secret(code),
            created_at=int(time.time())))
    return code


def registration_code():
    """A one-time code that never starts with '-': the command line would take it for an option."""
    while (code := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return code


def list_all(engine):
    with engine.connect() as db:
        return db.execute(sa.select(boxes).order_by(boxes.c.name)).mappings().all()


def revoke(engine, name):
    with engine.begin() as db:
        result = db.execute(boxes.update().where(boxes.c.name == name, boxes.c.revoked_at.is_(None))
                            .values(revoked_at=int(time.time()), token_hash=None,
                                    registration_code_hash=None))
    if result.rowcount != 1:
        raise BoxError(f"no active box called '{name}'")


def redeem(engine, code, domain=None):
    """Trade a registration code for the box's token (once); return (Box, token).

    A box that says which ``domain`` it will give its users is refused (WrongDomain) unless
    that is the one it owns, before the code is spent."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as db:
        row = db.execute(sa.select(boxes).where(
            boxes.c.registration_code_hash == hash_secret(code),
            boxes.c.revoked_at.is_(None))).mappings().first()
        if row is None:
            raise BoxError("this registration code is unknown, used or revoked")
        if domain is not None and normal(domain) != row["domain"]:
            raise WrongDomain(domain, row["domain"])
        # The code in the WHERE too: of two redeeming it at once, only the first update finds it
        # (the other waits for its lock, then matches nothing) and so only one token is made.
        spent = db.execute(boxes.update().where(
            boxes.c.id == row["id"], boxes.c.registration_code_hash == hash_secret(code),
        ).values(registration_code_hash=None, token_hash=hash_secret(token)))
        if spent.rowcount != 1:
            raise BoxError("this registration code is unknown, used or revoked")
    return Box(row["id"], row["name"], row["domain"]), token


def authenticate(engine, token):
    """The active Box whose token this is, or None."""
    digest = hash_secret(token)
    with engine.connect() as db:
        row = db.execute(sa.select(boxes).where(
            boxes.c.token_hash == digest, boxes.c.revoked_at.is_(None))).mappings().first()
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    return Box(row["id"], row["name"], row["domain"])


def add_address(engine, name, address):
    """Give box ``name`` one address of a shared domain."""
    address = normal(address)
    if "@" not in address:
        raise BoxError(f"'{address}' is not an e-mail address")
    with engine.begin() as db:
        box_id = db.execute(sa.select(boxes.c.id).where(boxes.c.name == name)).scalar()
        if box_id is None:
            raise BoxError(f"no box called '{name}'")
        if db.execute(sa.select(addresses.c.box_id).where(addresses.c.address == address)).first():
            raise BoxError(f"{address} already belongs to a box")
        db.execute(addresses.insert().values(address=address, box_id=box_id))


def owners(db, recipients):
    """{address: id of the active box owning it} for those of ``recipients`` a box owns.

    An address in the directory wins; otherwise the domain part names a box.
    """
    wanted = {normal(address) for address in recipients if "@" in address}
    if not wanted:
        return {}
    by_address = dict(db.execute(
        sa.select(addresses.c.address, addresses.c.box_id)
        .join(boxes, boxes.c.id == addresses.c.box_id)
        .where(addresses.c.address.in_(wanted), boxes.c.revoked_at.is_(None))).all())
    domains = {address.rpartition("@")[2] for address in wanted}
    by_domain = dict(db.execute(
        sa.select(boxes.c.domain, boxes.c.id)
        .where(boxes.c.domain.in_(domains), boxes.c.revoked_at.is_(None))).all())
    found = {address: by_address.get(address) or by_domain.get(address.rpartition("@")[2])
             for address in wanted}
    return {address: box_id for address, box_id in found.items() if box_id is not None}


def foreign(db, box_id, senders, relay_domain):
    """Those of ``senders`` that box ``box_id`` may not send from, sorted.

    A box sends from its own addresses (owners()) and from the outside addresses
    its users registered as external accounts.  An address of this relay's own
    domains (``relay_domain`` and below it, a box's domain, even revoked, a
    directory's domain) is outside for no box.
    """
    wanted = {normal(address) for address in senders}
    owned = owners(db, wanted)
    outside = {address for address in wanted if address not in owned and not _ours(db, address, relay_domain)}
    registered = set(db.execute(sa.select(accounts.c.address).where(
        accounts.c.box_id == box_id, accounts.c.address.in_(outside))).scalars()) if outside else set()
    return sorted(address for address in wanted
                  if owned.get(address) != box_id and address not in registered)


def _ours(db, address, relay_domain):
    """Whether ``address`` is of a domain this relay hands out."""
    domain = address.rpartition("@")[2]
    relay_domain = normal(relay_domain)
    if domain == relay_domain or domain.endswith("." + relay_domain):
        return True
    in_directory = sa.select(addresses.c.address).where(addresses.c.address.endswith("@" + domain, autoescape=True))
    return db.execute(sa.select(boxes.c.id).where(boxes.c.domain == domain)).first() is not None \
        or db.execute(in_directory.limit(1)).first() is not None


def by_box(owned, recipients):
    """{box_id: sorted addresses} of ``recipients``, given ``owners()`` of them."""
    routed = {}
    for address in sorted({normal(address) for address in recipients}):
        if address in owned:
            routed.setdefault(owned[address], []).append(address)
    return routed


def route(db, recipients):
    """{box_id: [addresses]} of the recipients boxes own; the others are left out."""
    return by_box(owners(db, recipients), recipients)


def normal(address):
    return address.strip().lower()
