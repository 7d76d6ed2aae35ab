"""The small part of the Azure Blob REST API the box uses: its XML bodies.

Shared by the box's transfer client and the folder store's handlers, so both
ends of a self-hosted relay speak exactly what Azure speaks.
https://learn.microsoft.com/rest/api/storageservices/put-block-list
"""

import base64
import binascii
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from xml.sax.saxutils import escape

API_VERSION = "2021-08-06"  # sent as x-ms-version; Azurite and Azure both know it
MAX_BLOCK_ID_BYTES = 64  # Azure's limit, before base64
MAX_BLOCKS = 50_000  # Azure's limit of blocks in one blob

_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
# In a Put Block List body: where the store looks for each block.
LATEST = "Latest"
UNCOMMITTED = "Uncommitted"
COMMITTED = "Committed"


class MalformedXml(ValueError):
    """A block list body that is not what the API describes."""


@dataclass(frozen=True)
class Block:
    id: str  # base64, as it travels
    size: int


def valid_block_id(block_id):
    """True if ``block_id`` is base64 of at most 64 bytes, as Azure requires."""
    try:
        raw = base64.b64decode(block_id, validate=True)
    except (binascii.Error, ValueError):
        return False
    return 0 < len(raw) <= MAX_BLOCK_ID_BYTES


def block_list_request(block_ids, where=LATEST):
    """The body of Put Block List committing ``block_ids`` in order."""
    items = "".join(f"<{where}>{escape(block_id)}</{where}>" for block_id in block_ids)
    return f"{_XML_DECLARATION}<BlockList>{items}</BlockList>".encode()


def parse_block_list_request(body):
    """[(where, block id)] from a Put Block List body."""
    root = _parse(body, "BlockList")
    entries = []
    for element in root:
        block_id = (element.text or "").strip()
        if element.tag not in (LATEST, UNCOMMITTED, COMMITTED) or not valid_block_id(block_id):
            raise MalformedXml(f"unexpected <{element.tag}> {block_id!r} in the block list")
        entries.append((element.tag, block_id))
    if len(entries) > MAX_BLOCKS:
        raise MalformedXml(f"more than {MAX_BLOCKS} blocks in the block list")
    return entries


def block_list_response(committed, uncommitted):
    """The body of a Get Block List answer; None leaves a list out."""
    parts = [_XML_DECLARATION, "<BlockList>"]
    for tag, blocks in (("CommittedBlocks", committed), ("UncommittedBlocks", uncommitted)):
        if blocks is not None:
            parts.append(f"<{tag}>")
            parts.extend(f"<Block><Name>{escape(b.id)}</Name><Size>{b.size}</Size></Block>"
                         for b in blocks)
            parts.append(f"</{tag}>")
    parts.append("</BlockList>")
    return "".join(parts).encode()


def parse_block_list_response(body):
    """(committed, uncommitted) lists of Block from a Get Block List answer."""
    root = _parse(body, "BlockList")
    try:
        return tuple([Block(block.findtext("Name", ""), int(block.findtext("Size", "")))
                      for block in root.iterfind(f"{tag}/Block")]
                     for tag in ("CommittedBlocks", "UncommittedBlocks"))
    except ValueError as error:
        raise MalformedXml(f"bad block size in the block list: {error}") from None


def error_body(code, message):
    """Azure's error document, as the body of a 4xx/5xx answer."""
    return (f"{_XML_DECLARATION}<Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error>").encode()


def _parse(body, root_tag):
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise MalformedXml(f"not well-formed XML: {error}") from None
    if root.tag != root_tag:
        raise MalformedXml(f"expected <{root_tag}>, got <{root.tag}>")
    return root
