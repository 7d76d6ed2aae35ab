"""`mailpouch-relay`: run and administer a relay."""

import asyncio
import json
import sys

import migrations
from pouch.runtime import service
from pouch.records import ACCOUNT_ACTIVE, ACCOUNT_PAUSED
from relay import background as relay_background, boxes, quarantine, report
from relay.accounts import registry as accounts
from relay.boxsync import blobstore
from relay import settings as relay_settings
from relay.web.app import make_app

COMMAND = "mailpouch-relay"


def build_parser():
    parser, commands = service.command_parser(
        COMMAND, "Run and administer a Mailpouch relay.", relay_settings)
    commands.add_parser("serve", help="serve the sync API and webhooks, send outbound mail")
    commands.add_parser("migrate", help="bring the database to the current schema")
    client = commands.add_parser("client", help="manage the boxes this relay serves")
    actions = client.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a box and print its one-time registration code")
    add.add_argument("name")
    add.add_argument("--domain", help="the domain it owns (default: NAME.<relay domain>)")
    actions.add_parser("list", help="list the boxes")
    revoke = actions.add_parser("revoke", help="shut a box out for good")
    revoke.add_argument("name")
    address = actions.add_parser("address", help="give a box an address of a shared domain")
    address.add_argument("name")
    address.add_argument("address", nargs="+")
    account = commands.add_parser("account", help="the external IMAP accounts box users added")
    actions = account.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the accounts: address, box, state, last sync, last error")
    for action, text in (("start", "sync an account again"), ("stop", "stop syncing an account")):
        actions.add_parser(action, help=text).add_argument("address")
    mail = commands.add_parser("mail", help="inbound mail waiting for boxes, and the mail set aside")
    actions = mail.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="mail not yet delivered: id, box, received, from, state, reason")
    listing.add_argument("--quarantined", action="store_true", help="only the mail set aside")
    for action, text in (("show", "one message: its headers, and where it is for each box"),
                         ("retry", "prepare quarantined mail again, to offer it at the next sync"),
                         ("drop", "mark quarantined mail done without delivering it")):
        actions.add_parser(action, help=text).add_argument("id", type=int)
    return parser


def main(argv=None):
    return service.run_command(build_parser(), argv, relay_settings.load, COMMANDS)


def migrate(settings, _args):
    migrations.migrate_command("relay", settings.relay.database)


def current_engine(settings):
    return migrations.engine_at_head("relay", settings.relay.database, COMMAND)


def serve(settings, _args):
    engine = current_engine(settings)
    try:
        store = blobstore.make_store(settings)
        app = make_app(settings, engine, store)
    except ValueError as error:
        sys.exit(f"{COMMAND}: {error}")
    asyncio.run(run(settings, engine, store, app))


async def run(settings, engine, store, app):
    await store.prepare()
    background = await relay_background.start(settings, engine, store)
    try:
        # Handlers that take a body raise this for their own requests; the rest take none.
        await service.serve(app, settings.web.host, settings.web.port, "relay",
                            max_body_size=settings.web.max_json_bytes)
    finally:
        await background.stop()


def client(settings, args):
    engine = current_engine(settings)
    try:
        if args.action == "add":
            domain = args.domain or f"{args.name}.{settings.relay.domain}"
            code = boxes.create(engine, args.name, domain)
            print(f"box {args.name} owns *@{domain}")
            print(f"registration code (shown once): {code}")
        elif args.action == "list":
            list_boxes(engine)
        elif args.action == "revoke":
            boxes.revoke(engine, args.name)
            print(f"box {args.name} is revoked")
        else:
            for address in args.address:
                boxes.add_address(engine, args.name, address)
                print(f"{address.lower()} -> box {args.name}")
    except boxes.BoxError as error:
        sys.exit(f"{COMMAND}: {error}")


def list_boxes(engine):
    print(f"{'NAME':20} {'DOMAIN':32} {'STATE':22} LAST SYNC")
    for box in boxes.list_all(engine):
        state = report.box_state(box["revoked_at"], box["token_hash"])
        print(f"{box['name']:20} {box['domain']:32} {state:22} {report.when(box['last_sync_at'])}")


def account(settings, args):
    engine = current_engine(settings)
    if args.action == "list":
        list_accounts(engine)
        return
    state = ACCOUNT_ACTIVE if args.action == "start" else ACCOUNT_PAUSED
    try:
        count = accounts.set_state(engine, args.address, state)
    except accounts.AccountNotFound as error:
        sys.exit(f"{COMMAND}: {error}")
    verb = "syncs again" if state == ACCOUNT_ACTIVE else "is stopped"
    print(f"{args.address.lower()} {verb} ({count} account{'s' if count != 1 else ''})")


def list_accounts(engine):
    print(f"{'ADDRESS':32} {'BOX':16} {'STATE':8} {'LAST SYNC':21} LAST ERROR")
    for row in accounts.overview(engine):
        print(f"{row['address']:32} {row['box']:16} {row['sync_state']:8} {report.when(row['synced_at']):21} "
              f"{row['last_error'] or '-'}")


def mail(settings, args):
    engine = current_engine(settings)
    try:
        if args.action == "list":
            list_mail(engine, args.quarantined)
        elif args.action == "show":
            show_mail(engine, args.id)
        elif args.action == "retry":
            count = quarantine.retry(engine, args.id)
            print(f"message {args.id} is offered again at the next sync ({_boxes(count)})")
        else:
            count = quarantine.drop(engine, args.id)
            print(f"message {args.id} is dropped, not delivered ({_boxes(count)})")
    except quarantine.MailError as error:
        sys.exit(f"{COMMAND}: {error}")


def _boxes(count):
    return f"{count} box{'es' if count != 1 else ''}"


def list_mail(engine, quarantined_only):
    with engine.connect() as db:
        rows = quarantine.listing(db, quarantined_only)
    print(f"{'ID':>8} {'BOX':16} {'RECEIVED':21} {'FROM':32} {'STATE':11} REASON")
    for row in rows:
        print(f"{row.id:>8} {row.box:16} {report.when(row.received_at):21} {row.mail_from or '-':32} "
              f"{quarantine.state(row):11} {row.quarantine_reason or '-'}")


def show_mail(engine, inbound_id):
    message, headers, deliveries = quarantine.detail(engine, inbound_id)
    print(f"message {message.id}: {message.size} bytes from {message.mail_from or '-'} by {message.source}, "
          f"received {report.when(message.received_at)}")
    for name, value in headers:
        print(f"  {name}: {value}")
    if message.cleared_at:
        print(f"  (its bytes were cleared {report.when(message.cleared_at)})")
    for row in deliveries:
        print(f"box {row.box} ({', '.join(json.loads(row.recipients))}): {quarantine.state(row)}"
              + (f", since {report.when(row.quarantined_at)}: {row.quarantine_reason}"
                 if quarantine.state(row) == "quarantined" else "")
              + (f", in {row.pouch_name}" if row.pouch_name else ""))


COMMANDS = {"serve": serve, "migrate": migrate, "client": client, "account": account, "mail": mail}


if __name__ == "__main__":
    main()
