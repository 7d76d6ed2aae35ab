"""Pouches no PouchWriter would write: what a damaged or hostile peer sends."""

import msgpack
from hypothesis import strategies as st

from pouch.container import codec, header as pouch_header, wire
from pouch.records import BlobRecord


def raw_pouch(records, *, declared_raw=None, tail=b"", sender="test", recipient="test"):
    """A pouch built frame by frame from ``records``: msgpack arrays, or bytes framed as they are."""
    framed = b"".join(msgpack.packb(record if isinstance(record, bytes) else msgpack.packb(record))
                      for record in records)
    stream = codec.compressor(level=3).compress(framed) + tail
    header = pouch_header.PouchHeader(
        pouch_id="raw", sender=sender, recipient=recipient, created=0, codec="zstd", count=len(records),
        raw_size=len(framed) if declared_raw is None else declared_raw, stream_size=len(stream))
    return pouch_header.pack(header) + stream


def unchecked_pouch(records, sender, recipient):
    """Records of any kind as a peer that checks nothing writes them (a blob in one chunk)."""
    arrays = [wire.encode(wire.BlobChunk(r.sha256, len(r.data), 0, r.data)) if isinstance(r, BlobRecord)
              else wire.encode(r) for r in records]
    return raw_pouch(arrays, sender=sender, recipient=recipient)



# Field values a hostile peer may write, within the format's types (Hypothesis strategies).
wild_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
long_text = st.one_of(wild_text, st.builds(lambda t, n: t * n, wild_text, st.integers(1, 400)))
moment = st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-10**10, 10**10), st.just(0))


def addresses_or(local):
    """A [name, email] pair: wild, or ``local``'s address."""
    return st.tuples(wild_text, st.one_of(wild_text, st.just(local), st.just("a@b.example")))
