"""`mailpouch-relay`: run and administer a relay."""

import argparse
import asyncio
import sys

import migrations
from pouch import service
from pouch.database import create_engine
from pouch.settings import SettingsError
from relay import settings as relay_settings
from relay.web.app import make_app

COMMAND = "mailpouch-relay"


def build_parser():
    parser = argparse.ArgumentParser(prog=COMMAND, description="Run and administer a Mailpouch relay.")
    parser.add_argument("--config", help=f"settings file (default: ${relay_settings.PATH_VARIABLE} "
                                         f"or {relay_settings.SYSTEM_PATH} if present)")
    parser.add_argument("--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the sync API and webhooks")
    commands.add_parser("migrate", help="bring the database to the current schema")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    service.configure_logging(args.verbose)
    try:
        settings = relay_settings.load(args.config)
    except SettingsError as error:
        sys.exit(f"{COMMAND}: {error}")
    return COMMANDS[args.command](settings, args)


def migrate(settings, _args):
    migrations.upgrade("relay", settings.relay.database)
    print(f"database {settings.relay.database} is at the current schema")


def serve(settings, _args):
    engine = create_engine(settings.relay.database)
    try:
        migrations.check_current("relay", engine, COMMAND)
    except migrations.SchemaOutOfDate as error:
        sys.exit(f"{COMMAND}: {error}")
    app = make_app(settings, engine)
    asyncio.run(service.serve(app, settings.web.host, settings.web.port, "relay"))


COMMANDS = {"serve": serve, "migrate": migrate}


if __name__ == "__main__":
    main()
