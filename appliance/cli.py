"""`mailpouch-appliance`: run and administer a box."""

import asyncio
import sys

import migrations
from appliance import settings as box_settings
from appliance import users_cli, wifi
from appliance.http_base import FORM_BYTES
from appliance.server import make_app
from appliance.sync import commands as sync_commands
from appliance.sync.scheduler import start_scheduler
from hardware import LinkError
from hardware import status as modem_status
from pouch.runtime import service

COMMAND = "mailpouch-appliance"


def build_parser():
    parser, commands = service.command_parser(
        COMMAND, "Run and administer a Mailpouch box.", box_settings)
    commands.add_parser("serve", help="serve the web mail client and sync on schedule")
    commands.add_parser("migrate", help="bring the database to the current schema")
    users_cli.add_commands(commands)
    modem = commands.add_parser("modem", help="the link to the internet").add_subparsers(
        dest="modem_command", required=True)
    status = modem.add_parser("status", help="modem, SIM, operator, signal, last connection")
    status.add_argument("--json", action="store_true", help="one JSON object")
    wifi.add_command(commands)
    sync_commands.add_commands(commands)
    return parser


def main(argv=None):
    return service.run_command(build_parser(), argv, box_settings.load, COMMANDS)


def migrate(settings, _args):
    migrations.migrate_command("appliance", settings.box.database)


def serve(settings, _args):
    app = make_app(settings, migrations.engine_at_head("appliance", settings.box.database, COMMAND))

    def start_syncing():  # on the server's loop; the sync pages find it in their ``running``
        app.deps["running"].scheduler = start_scheduler(settings, app.deps["store"])

    # Proxy headers are read only from [web] trusted_proxies (web.throttle); each handler
    # raises the body limit it needs once the headers are in (server.BoxApplication).
    asyncio.run(service.serve(app, settings.web.host, settings.web.port, "box", on_start=start_syncing,
                              xheaders=False, max_body_size=FORM_BYTES))


def user(settings, args):
    sys.exit(users_cli.user_command(settings, args, COMMAND))


def modem(settings, args):
    try:
        text, found = asyncio.run(modem_status.report(settings.modem, args.json))
    except LinkError as error:
        sys.exit(f"{COMMAND}: {error}")
    print(text)
    sys.exit(0 if found else 1)


def setup_wifi(settings, args):
    wifi.setup_command(settings, args, COMMAND)


def register(settings, args):
    sync_commands.register_command(settings, args, COMMAND)


def sync(settings, args):
    sync_commands.sync_command(settings, args, COMMAND)


COMMANDS = {"serve": serve, "migrate": migrate, "user": user, "modem": modem,
            "setup-wifi": setup_wifi, "register": register, "sync": sync}


if __name__ == "__main__":
    main()
