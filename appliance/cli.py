"""`mailpouch-appliance`: run and administer a box."""

import argparse
import asyncio
import sys

import migrations
from appliance import settings as box_settings
from appliance.web.app import make_app
from pouch import service
from pouch.database import create_engine
from pouch.settings import SettingsError

COMMAND = "mailpouch-appliance"


def build_parser():
    parser = argparse.ArgumentParser(prog=COMMAND, description="Run and administer a Mailpouch box.")
    parser.add_argument("--config", help=f"settings file (default: ${box_settings.PATH_VARIABLE} "
                                         f"or {box_settings.SYSTEM_PATH} if present)")
    parser.add_argument("--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the web mail client and sync on schedule")
    commands.add_parser("migrate", help="bring the database to the current schema")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    service.configure_logging(args.verbose)
    try:
        settings = box_settings.load(args.config)
    except SettingsError as error:
        sys.exit(f"{COMMAND}: {error}")
    return COMMANDS[args.command](settings, args)


def migrate(settings, _args):
    migrations.upgrade("appliance", settings.box.database)
    print(f"database {settings.box.database} is at the current schema")


def serve(settings, _args):
    engine = create_engine(settings.box.database)
    try:
        migrations.check_current("appliance", engine, COMMAND)
    except migrations.SchemaOutOfDate as error:
        sys.exit(f"{COMMAND}: {error}")
    app = make_app(settings, engine)
    asyncio.run(service.serve(app, settings.web.host, settings.web.port, "box"))


COMMANDS = {"serve": serve, "migrate": migrate}


if __name__ == "__main__":
    main()
