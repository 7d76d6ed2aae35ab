"""Running a Tornado application as a long-lived service, for both sides."""

import asyncio
import logging
import signal

log = logging.getLogger(__name__)


def configure_logging(verbose=False):
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


async def serve(app, host, port, name, on_start=None, **server_options):
    """Listen on ``host:port`` until SIGTERM or SIGINT, then stop cleanly."""
    server = app.listen(port, address=host, xheaders=True, **server_options)
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
