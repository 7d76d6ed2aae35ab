"""The SMTP intake's connection caps and idle timeout, met by real clients on real sockets: a host
holding connections open gets 421 for one more while other hosts' mail flows, and every way a
connection ends gives its slot back.  Loopback has many addresses: 127.0.0.2 is another client."""

import asyncio
import dataclasses
import smtplib
import socket
import struct
import time

import pytest

from pouch.runtime.settings import SettingsError
from relay.inbound import smtp
from tests.relay.conftest import email_bytes
from tests.relay.test_inbound import messages, smtp_settings
from tests.support.azurite import free_port

TO = "marie@goma.relay.test"
SENDER = "ami@example.org"


async def listen(relay, **inbound):
    port = free_port()
    settings = smtp_settings(relay, port)
    settings = dataclasses.replace(settings, inbound=dataclasses.replace(settings.inbound, **inbound))
    return port, await smtp.start(relay.engine, settings)


async def talk(server, clients):
    """Run the blocking ``clients`` (smtplib, sockets) off the loop; the listener closes however they end."""
    try:
        return await asyncio.to_thread(clients)
    finally:
        server.close()


def connect(port, client="127.0.0.1"):
    return smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(client, 0))


def refusal(port, client="127.0.0.1"):
    """The greeting of a connection the relay refuses (smtplib raises on a 421 greeting)."""
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        connect(port, client)
    return refused.value.smtp_code, refused.value.smtp_error.decode()


def connect_when_free(port, client="127.0.0.1", tries=400):
    """Connect as a real MTA does after a 421: again, a little later."""
    for _ in range(tries):
        try:
            return connect(port, client)
        except smtplib.SMTPConnectError as refused:
            assert refused.smtp_code == 421
            time.sleep(0.05)
    raise AssertionError("the slot was never given back")


def hang_up(session):
    """Close the sending side mid-session, then wait until the relay closed its side too."""
    session.sock.shutdown(socket.SHUT_WR)
    while session.sock.recv(4096):
        pass
    session.close()


def reset(session):
    session.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, no FIN
    session.close()


def envelope(session):
    """EHLO, MAIL and RCPT; the RCPT's reply code."""
    session.ehlo()
    session.mail(SENDER)
    return session.rcpt(TO)[0]


def in_data(session):
    """A session inside its DATA, the head of a message sent."""
    envelope(session)
    assert session.docmd("DATA")[0] == 354
    session.send(f"To: {TO}\r\nSubject: Slowly\r\n\r\n".encode())


def send(session, subject):
    session.sendmail(SENDER, [TO], email_bytes(TO, subject=subject))


async def subjects(box, tmp_path):
    _, records = await box.receive(tmp_path)
    return sorted(m.subject for m in messages(records))


@pytest.mark.gen_test(timeout=60)
async def test_a_client_over_its_cap_hears_421_while_another_clients_mail_is_delivered(relay, tmp_path):
    box = await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections_per_ip=2)

    def clients():
        held = [connect(port), connect(port)]
        try:
            refused = refusal(port)
            with connect(port, "127.0.0.2") as other:
                send(other, "From another client")
            send(held[0], "From a held connection")  # the connections held keep working
            return refused
        finally:
            for session in held:
                session.quit()

    code, reason = await talk(server, clients)
    assert code == 421 and reason == "4.7.0 too many connections from 127.0.0.1; try again later"
    assert await subjects(box, tmp_path) == ["From a held connection", "From another client"]


@pytest.mark.gen_test(timeout=60)
async def test_sixty_connections_at_once_from_one_host_get_ten_greetings_and_fifty_421s(relay):
    port, server = await listen(relay, smtp_max_connections_per_ip=10)

    async def opened():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return await reader.readline(), reader, writer

    async def quit(reader, writer):
        writer.write(b"QUIT\r\n")
        reply = await reader.read()  # 221, then the relay closes
        writer.close()
        return reply[:3]

    try:
        flood = await asyncio.gather(*(opened() for _ in range(60)))
        greetings = sorted(greeting[:3] for greeting, _, _ in flood)
        quits = [await quit(reader, writer) for greeting, reader, writer in flood if greeting.startswith(b"220")]
        for greeting, _, writer in flood:
            if greeting.startswith(b"421"):
                writer.close()
        again = await asyncio.gather(*(opened() for _ in range(10)))  # every slot was given back
        for _, reader, writer in again:
            await quit(reader, writer)
    finally:
        server.close()
    assert greetings == [b"220"] * 10 + [b"421"] * 50
    assert quits == [b"221"] * 10
    assert [greeting[:3] for greeting, _, _ in again] == [b"220"] * 10


@pytest.mark.gen_test(timeout=60)
async def test_the_total_cap_counts_every_client_and_a_quit_frees_a_slot(relay, tmp_path):
    box = await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections=2)

    def clients():
        first, second = connect(port, "127.0.0.1"), connect(port, "127.0.0.2")
        refused = refusal(port, "127.0.0.3")
        first.quit()
        with connect(port, "127.0.0.3") as third:  # accepted at once: QUIT gave the slot back
            send(third, "After a QUIT")
        second.quit()
        return refused

    code, reason = await talk(server, clients)
    assert (code, reason) == (421, "4.7.0 too many connections; try again later")
    assert await subjects(box, tmp_path) == ["After a QUIT"]


@pytest.mark.gen_test(timeout=60)
async def test_a_connection_hung_up_or_reset_mid_data_gives_its_slot_back(relay, tmp_path):
    box = await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections_per_ip=1)

    def clients():
        first = connect(port)
        in_data(first)
        assert refusal(port)[0] == 421
        hang_up(first)
        second = connect(port)  # accepted at once: the relay closed the first before we saw EOF
        in_data(second)
        reset(second)
        with connect_when_free(port) as third:  # a reset gives no sign to wait for: retry
            send(third, "After a reset")

    await talk(server, clients)
    assert await subjects(box, tmp_path) == ["After a reset"]


@pytest.mark.gen_test(timeout=60)
async def test_a_session_whose_handler_failed_gives_its_slot_back(relay, tmp_path, monkeypatch):
    box = await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections_per_ip=1)
    route = smtp.boxes.route
    failures = [RuntimeError("the database went away")]

    def failing_once(db, recipients):
        if failures:
            raise failures.pop()
        return route(db, recipients)

    monkeypatch.setattr(smtp.boxes, "route", failing_once)

    def clients():
        first = connect(port)
        code = envelope(first)
        assert refusal(port)[0] == 421  # the failed session still holds its slot
        hang_up(first)  # as a sender that gives up on a 451
        with connect(port) as second:
            send(second, "After a failure")
        return code

    assert await talk(server, clients) == 451
    assert await subjects(box, tmp_path) == ["After a failure"]


@pytest.mark.gen_test(timeout=60)
async def test_an_idle_client_hears_421_and_is_closed_and_its_slot_given_back(relay):
    await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections_per_ip=1, smtp_timeout_s=0.5)

    def clients():
        idle = socket.create_connection(("127.0.0.1", port), timeout=20)
        heard = b""
        while chunk := idle.recv(4096):  # the greeting, then nothing from us until the relay closes
            heard += chunk
        idle.close()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as after:
            return heard.decode().splitlines(), after.recv(4096)

    lines, greeting = await talk(server, clients)
    assert lines[0].startswith("220 ") and lines[1:] == ["421 4.4.2 idle too long; closing"]
    assert greeting.startswith(b"220 ")


@pytest.mark.gen_test(timeout=60)
async def test_a_long_data_still_arriving_is_not_idle(relay, tmp_path):
    box = await relay.register("goma")
    port, server = await listen(relay, smtp_timeout_s=4.0)

    def slow_sender():  # a big message over a slow link: DATA takes twice the idle timeout
        with connect(port) as session:
            in_data(session)
            for n in range(40):
                session.send(f"line {n}\r\n".encode())
                time.sleep(0.2)
            return session.docmd(".")[0]

    assert await talk(server, slow_sender) == 250
    assert await subjects(box, tmp_path) == ["Slowly"]


@pytest.mark.gen_test(timeout=90)
async def test_a_client_that_never_reads_its_replies_is_timed_out_and_its_slot_given_back(relay):
    await relay.register("goma")
    port, server = await listen(relay, smtp_max_connections_per_ip=1, smtp_timeout_s=1.0)

    def clients():
        deaf = socket.socket()
        deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # replies pile up on the relay
        deaf.connect(("127.0.0.1", port))
        deaf.settimeout(0.5)
        commands = b"HELP\r\n" * 10_000
        try:
            for _ in range(150):  # until the relay drops it; sends block once its buffers are full
                try:
                    deaf.sendall(commands)
                except TimeoutError:
                    continue
        except (ConnectionResetError, BrokenPipeError):
            pass
        else:
            raise AssertionError("the relay kept a connection that never read a reply")
        finally:
            deaf.close()
        with connect(port) as after:
            return after.noop()[0]

    assert await talk(server, clients) == 250


@pytest.mark.gen_test(timeout=30)
async def test_an_idle_timeout_of_zero_is_refused_at_start_not_a_relay_that_drops_every_client(relay):
    with pytest.raises(SettingsError, match="smtp_timeout_s"):
        await listen(relay, smtp_timeout_s=0.0)
