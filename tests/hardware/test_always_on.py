"""The always-on link against real TCP listeners."""

import socket

import pytest

from hardware import LinkSettings, Unreachable, make_link
from tests.hardware.helpers import run


@pytest.fixture
def listener():
    """A TCP port that answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def closed_port():
    """A TCP port nobody listens on (bound, so nothing else takes it meanwhile)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def always_on(port):
    return run(make_link(LinkSettings(kind="always-on", check_host="127.0.0.1", check_port=port,
                                      command_timeout=2)))


def test_a_link_whose_check_host_answers_is_up(listener):
    link = always_on(listener)

    async def scenario():
        async with link.connected():
            return await link.state()

    state = run(scenario())
    assert state.present and state.connected and state.last_connect.ok


def test_a_check_host_that_does_not_answer(closed_port):
    link = always_on(closed_port)
    with pytest.raises(Unreachable, match=f"127.0.0.1:{closed_port} does not answer"):
        run(link.up())
    state = run(link.state())
    assert not state.connected and "does not answer" in state.last_error
    assert not state.last_connect.ok
