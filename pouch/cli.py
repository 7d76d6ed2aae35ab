"""`mailpouch-pouch`: look inside a pouch, or make one from .eml files.

    mailpouch-pouch inspect FILE [--json] [--skip-bad]
    mailpouch-pouch pack --eml DIR -o FILE [--sender NAME] [--recipient NAME]

A damaged pouch gives one error line and exit status 1; a message ``pack``
cannot convert gives one line and is left out.  Neither prints a traceback.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pouch.container import PouchError, PouchReader, PouchWriter, route, wire
from pouch.records import BlobRecord

PROG = "mailpouch-pouch"


def main(argv=None):
    args = _parser().parse_args(argv)
    sys.exit(args.run(args))


def _parser():
    parser = argparse.ArgumentParser(prog=PROG, description="Look inside a pouch, or make one.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    inspect = commands.add_parser("inspect", help="print a pouch's header and records")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    inspect.add_argument("--skip-bad", action="store_true", help="list records that do not decode, go on")
    inspect.set_defaults(run=run_inspect)

    pack = commands.add_parser("pack", help="make a pouch from a folder of .eml files")
    pack.add_argument("--eml", type=Path, required=True, metavar="DIR", help="searched recursively")
    pack.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    pack.add_argument("--sender", default="mailpouch-pouch")
    pack.add_argument("--recipient", default="")
    pack.set_defaults(run=run_pack)
    return parser


def _fail(message):
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


# --- inspect ---

# Every field is shown, as people read it: addresses as "Name <email>", times in ISO 8601 UTC,
# digests in hex, other bytes (a blob's data, sealed settings) as their size and sha256.
TIMES = {"date", "at", "synced_at", "until"}
DIGESTS = {"sha256", "original_sha256"}  # shown in hex; other bytes by size and digest
TEXT_SHOWN = 80  # characters of a long text in the table; --json gives it whole
KIND_WIDTH = max(map(len, wire.NAMES))


def run_inspect(args):
    try:
        with open(args.file, "rb") as source:
            reader = PouchReader(source, errors="skip" if args.skip_bad else "raise", blob_chunks=True)
            records = []
            route(reader, {kind: _shown_by(show, records) for kind, show in SHOWN.items()}, PROG)
    except OSError as error:
        return _fail(f"{args.file}: {error.strerror or error}")
    except PouchError as error:
        return _fail(f"{args.file}: {error}")
    report = {
        "header": reader.header.as_dict(),
        "counts": {kind: sum(r["kind"] == kind for r in records) for kind in wire.NAMES},
        "records": records,
        "skipped": [vars(skipped) for skipped in reader.skipped],
    }
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else _table(report))
    return 0


def _shown_by(show, records):
    def add(record):
        if (summary := show(record)) is not None:
            records.append(summary)
    return add


def _fields(record):
    """Every field of a record, shown: one small dict."""
    return {"kind": wire.kind_of(record).name,
            **{name.rstrip("_"): _value(name, value) for name, value in vars(record).items()}}


def _blob(chunk):
    """A blob once its last chunk is in; its chunks are never kept."""
    if chunk.last:
        return {"kind": "blob", "sha256": chunk.sha256.hex(), "size": chunk.size}
    return None


# How inspect shows each kind: all of them, whatever side wrote the pouch.
SHOWN = {**dict.fromkeys(wire.NAMES, _fields), "blob": _blob}


def _value(name, value):
    if name in TIMES:
        return _iso(value)
    if isinstance(value, bytes):
        if name in DIGESTS or not value:
            return value.hex()
        return {"size": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, list):
        return [_item(item) for item in value]
    return value


def _item(item):
    if isinstance(item, tuple):  # an address
        name, email = item
        return f"{name} <{email}>" if name else email
    if hasattr(item, "__dataclass_fields__"):  # a record within the record: an attachment
        return {key.rstrip("_"): _value(key, value) for key, value in vars(item).items()}
    return item


def _iso(seconds):
    if not seconds:
        return ""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # a signed 64-bit date beyond datetime's years 1-9999
        return str(seconds)


def _table(report):
    header, counts = report["header"], report["counts"]
    lines = [
        f"pouch {header['pouch_id']} (format v{header['version']}): {header['sender'] or '-'} -> "
        f"{header['recipient'] or '-'}, created {_iso(header['created'])}",
        f"codec {header['codec']}" + (f" with dictionary {header['dict_id']}" if header["dict_id"] else "")
        + f"; {header['stream_size']:,} bytes compressed, {header['raw_size']:,} raw; "
        f"{header['count']} records stored",
        ", ".join(f"{count} {kind}" for kind, count in counts.items()) + f"; {len(report['skipped'])} skipped",
    ]
    lines += [_line(record) for record in report["records"]]
    lines += [f"skipped  record {s['index']} ({s['kind']}): {s['reason']}" for s in report["skipped"]]
    return "\n".join(lines)


def _line(record):
    """One record on one line: its kind, then each field that is not empty."""
    fields = "  ".join(f"{name} {_cell(value)}" for name, value in record.items()
                       if name != "kind" and value not in ("", [], {}, None))
    return f"{record['kind']:<{KIND_WIDTH}}  {fields}"


def _cell(value):
    if isinstance(value, str):
        return repr(value) if len(value) <= TEXT_SHOWN else f"{value[:TEXT_SHOWN]!r}… ({len(value):,} characters)"
    if isinstance(value, dict):  # an attachment, the extra map, bytes summarised
        return "{" + ", ".join(f"{name} {_cell(item)}" for name, item in value.items() if item is not None) + "}"
    if isinstance(value, list):
        return "[" + "; ".join(_cell(item) for item in value) + "]"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


# --- pack ---

def run_pack(args):
    from pouch import mime  # only pack needs MIME conversion

    if not args.eml.is_dir():
        return _fail(f"{args.eml}: not a folder")
    files = sorted(path for path in args.eml.rglob("*.eml") if path.is_file())
    if not files:
        return _fail(f"{args.eml}: no .eml files in it")
    output = args.output.resolve()
    failed = 0
    with tempfile.NamedTemporaryFile(dir=output.parent, prefix=output.name, suffix=".part",
                                     delete=False) as out:
        try:
            with PouchWriter(out, sender=args.sender, recipient=args.recipient) as writer:
                for path in files:
                    failed += not _pack_one(writer, mime, path, path.relative_to(args.eml).as_posix())
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, output)
    header = writer.header
    print(f"packed {len(files) - failed} of {len(files)} messages ({header.count} records) into "
          f"{args.output}: {header.stream_size + header.size:,} bytes", file=sys.stderr)
    return 0 if failed < len(files) else 1


def _pack_one(writer, mime, path, record_id):
    try:
        parsed = mime.parse(path.read_bytes(), record_id)
        for sha256, data in parsed.blobs.items():  # blobs first: a message never lacks its attachments
            writer.add(BlobRecord(sha256, data))
        writer.add(parsed.record)  # checked before anything is written
    except OSError as error:
        print(f"{record_id}: cannot read: {error.strerror or error}", file=sys.stderr)
        return False
    except Exception as error:  # noqa: BLE001 - a message we cannot convert must not stop the others
        print(f"{record_id}: cannot convert: {error or type(error).__name__}", file=sys.stderr)
        return False
    return True
