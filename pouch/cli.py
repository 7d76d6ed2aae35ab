"""`mailpouch-pouch`: look inside a pouch, or make one from .eml files.

    mailpouch-pouch inspect FILE [--json] [--skip-bad]
    mailpouch-pouch pack --eml DIR -o FILE [--sender NAME] [--recipient NAME]

A damaged pouch gives one error line and exit status 1; a message ``pack``
cannot convert gives one line and is left out.  Neither prints a traceback.
"""

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pouch.container import BlobChunk, PouchError, PouchReader, PouchWriter
from pouch.records import MessageRecord, StatusRecord

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

def run_inspect(args):
    try:
        with open(args.file, "rb") as source:
            reader = PouchReader(source, errors="skip" if args.skip_bad else "raise", blob_chunks=True)
            records = list(_summaries(reader))
    except OSError as error:
        return _fail(f"{args.file}: {error.strerror or error}")
    except PouchError as error:
        return _fail(f"{args.file}: {error}")
    report = {
        "header": reader.header.as_dict(),
        "counts": {kind: sum(r["kind"] == kind for r in records) for kind in ("message", "blob", "status")},
        "records": records,
        "skipped": [vars(skipped) for skipped in reader.skipped],
    }
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else _table(report))
    return 0


def _summaries(reader):
    """One small dict per record; a blob's chunks are never kept."""
    for record in reader:
        if isinstance(record, MessageRecord):
            yield {"kind": "message", "id": record.id, "from": _addresses(record.from_),
                   "subject": record.subject, "date": _iso(record.date),
                   "attachments": [{"name": a.name, "type": a.type, "size": a.size,
                                    "sha256": a.sha256.hex()} for a in record.attachments]}
        elif isinstance(record, StatusRecord):
            yield {"kind": "status", "id": record.message_id, "state": record.state,
                   "at": _iso(record.at), "reason": record.reason}
        elif isinstance(record, BlobChunk) and record.last:
            yield {"kind": "blob", "sha256": record.sha256.hex(), "size": record.size}


def _addresses(pairs):
    return ", ".join(f"{name} <{email}>" if name else email for name, email in pairs)


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
        f"{counts['message']} messages, {counts['blob']} blobs, {counts['status']} statuses, "
        f"{len(report['skipped'])} skipped",
    ]
    lines += [_line(record) for record in report["records"]]
    lines += [f"skipped  record {s['index']} ({s['kind']}): {s['reason']}" for s in report["skipped"]]
    return "\n".join(lines)


def _line(record):
    if record["kind"] == "message":
        attachments = "; ".join(f"{a['name']} ({a['type']}, {a['size']:,} bytes)" for a in record["attachments"])
        return (f"message  {record['id']}  {record['date'] or '-'}  from {record['from'] or '-'}  "
                f"subject {record['subject']!r}" + (f"  attachments: {attachments}" if attachments else ""))
    if record["kind"] == "status":
        reason = f": {record['reason']}" if record["reason"] else ""
        return f"status   {record['id']}  {record['state']}{reason}  at {record['at']}"
    return f"blob     {record['sha256']}  {record['size']:,} bytes"


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
            writer.add_blob(sha256, data)
        writer.add_message(parsed.record)  # checked before anything is written
    except OSError as error:
        print(f"{record_id}: cannot read: {error.strerror or error}", file=sys.stderr)
        return False
    except Exception as error:  # a message we cannot convert must not stop the others
        print(f"{record_id}: cannot convert: {error or type(error).__name__}", file=sys.stderr)
        return False
    return True
