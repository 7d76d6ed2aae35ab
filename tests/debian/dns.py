"""Ask a DNS server for names' IPv4 addresses: `python -m tests.debian.dns SERVER NAME...`.

Prints "NAME ADDRESS" a line (ADDRESS "-" when there is none).  Retries while
the server is still starting, for at most a few seconds.
"""

import random
import socket
import struct
import sys
import time

A_RECORD = 1


def query(name):
    ident = random.randrange(1 << 16)
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired, one question
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return ident, header + labels + b"\0" + struct.pack("!HH", A_RECORD, 1)


def first_address(reply, ident):
    got_ident, _flags, questions, answers = struct.unpack("!HHHH", reply[:8])
    assert got_ident == ident and questions == 1
    offset = reply.index(b"\0", 12) + 5  # past the question's name, type and class
    for _ in range(answers):
        offset += 2 if reply[offset] & 0xC0 else reply.index(b"\0", offset) + 1 - offset
        kind, _cls, _ttl, length = struct.unpack("!HHIH", reply[offset:offset + 10])
        offset += 10
        if kind == A_RECORD:
            return socket.inet_ntoa(reply[offset:offset + length])
        offset += length
    return "-"


def resolve(server, name, seconds=5.0):
    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        while True:
            ident, packet = query(name)
            sock.sendto(packet, (server, 53))
            try:
                return first_address(sock.recv(512), ident)
            except OSError:
                if time.monotonic() > deadline:
                    raise


if __name__ == "__main__":
    for host in sys.argv[2:]:
        print(host, resolve(sys.argv[1], host), flush=True)
