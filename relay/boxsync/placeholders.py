"""Big attachments on request: what a delivery's pouch holds back.

An attachment bigger than the automatic limit of the box it goes to comes down as a
placeholder (``Attachment.held``): its name, type and size, and for an image a preview of a
few KB (pouch.images); its bytes stay in the prepared payload until the box asks for them
(relay.boxsync.requests).  Inline images count like any attachment.  A delivery's limit is
the highest of its recipients' (a user may only lower the box's for themself): mail for
several users of the box comes down as the most generous of them wants it.

The limit each record was packed under is kept with its delivery, so its later pouch
(big mail's attachments) and a request agree with the record the box holds whatever the box
chooses since.
"""

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from pouch import images
from relay.schema import boxes


@dataclass(frozen=True)
class Limits:
    """A box's automatic limit and its users' lower ones ({address: bytes})."""

    box: int
    users: dict = field(default_factory=dict)

    def of(self, recipients):
        """The limit of a delivery to ``recipients`` (the box's addresses)."""
        return max((min(self.users.get(address.lower(), self.box), self.box) for address in recipients),
                   default=self.box)


def of_box(db, box_id, default):
    """The Limits of box ``box_id``; ``default`` ([sync] attachment_limit) until its admin chose one."""
    box_limit, users = db.execute(sa.select(boxes.c.attachment_limit, boxes.c.user_limits)
                                  .where(boxes.c.id == box_id)).one()
    return Limits(default if box_limit is None else box_limit, _users(users))


def _users(stored):
    """{address: bytes} of what the box sent (BoxSettingsRecord.user_limits, kept as JSON)."""
    try:
        users = json.loads(stored) if isinstance(stored, str) else stored
    except ValueError:
        return {}
    if not isinstance(users, dict):
        return {}
    return {str(address).lower(): limit for address, limit in users.items()
            if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0}


def is_held(attachment, limit):
    """Whether ``attachment`` of a record packed under ``limit`` (None: before placeholders) is held."""
    return limit is not None and attachment.size > limit


def hold(record, blobs, limit):
    """Mark the attachments of ``record`` over ``limit`` held, with a preview for an image;
    returns the blobs that go with it."""
    for attachment in record.attachments:
        if is_held(attachment, limit):
            attachment.held = True
            data = blobs.get(attachment.sha256)
            if not attachment.preview and isinstance(data, bytes) and attachment.type.startswith("image/"):
                attachment.preview = images.preview(data)
    return sent(record, blobs, limit)


def sent(record, blobs, limit):
    """The blobs of ``blobs`` that ``record``'s attachments name and do not hold back under
    ``limit`` (a payload also keeps what only a request brings, e.g. a shrunk photo's original)."""
    wanted = {attachment.sha256 for attachment in record.attachments
              if not (attachment.held or is_held(attachment, limit))}
    return {digest: data for digest, data in blobs.items() if digest in wanted}
