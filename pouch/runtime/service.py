"""Running a Tornado application as a long-lived service, for both sides."""

import argparse
import asyncio
import logging
import signal
import sys

from pouch.runtime import logs
from pouch.runtime.settings import SettingsError

log = logging.getLogger(__name__)


async def serve(app, host, port, name, on_start=None, **server_options):
    """Listen on ``host:port`` until SIGTERM or SIGINT, then stop cleanly."""
    server_options.setdefault("xheaders", True)
    server = app.listen(port, address=host, **server_options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("%s listening on http://%s:%d/", name, host, port)
    if on_start is not None:
        on_start()
    await stop.wait()
    log.info("%s stopping", name)
    server.stop()
    await server.close_all_connections()


def command_parser(prog, description, settings_module):
    """The parser both consoles start from: --config, --verbose, --log-json and a required sub-command."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", help=f"settings file (default: ${settings_module.PATH_VARIABLE} "
                                         f"or {settings_module.SYSTEM_PATH} if present)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--log-json", action="store_true", help="one JSON object a log line, for log shippers")
    return parser, parser.add_subparsers(dest="command", required=True)


def run_command(parser, argv, load_settings, commands):
    """Parse ``argv``, read the settings once, and run the chosen command with them."""
    args = parser.parse_args(argv)
    logs.configure(args.verbose, args.log_json)
    try:
        settings = load_settings(args.config)
    except SettingsError as error:
        sys.exit(f"{parser.prog}: {error}")
    return commands[args.command](settings, args)
