"""Password hashing with scrypt (memory-hard, in the standard library)."""

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

# 16 MiB of memory per hash: costly for a cracker, about 50 ms on a Raspberry Pi 4.
N, R, P = 2**14, 8, 1
MAX_MEMORY = 64 * 1024 * 1024
# Hashing runs off the server's loop, one at a time (scrypt releases the GIL): a flood of
# sign-ins queues here instead of stalling every page.  One thread, not two: on the 2-core
# bench machine it keeps the inbox's p99 in a flood at 27 ms against 65 (16 MiB less memory),
# for 22 sign-ins a second, more than a box's users make (bench/appliance.py).
HASHING_WORKERS = 1
_hashing = ThreadPoolExecutor(max_workers=HASHING_WORKERS, thread_name_prefix="scrypt")


def _derive(password, salt, n, r, p):
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=MAX_MEMORY, dklen=32)


def hash_password(password):
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, N, R, P)
    encode = base64.b64encode
    return f"scrypt${N}${R}${P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password, stored):
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


async def hash_off_loop(password):
    return await asyncio.get_running_loop().run_in_executor(_hashing, hash_password, password)


async def verify_off_loop(password, stored):
    """``verify_password`` in the hashing pool; ``stored`` None costs the same and fails."""
    if stored is None:
        await hash_off_loop(password)  # no probing for which addresses exist
        return False
    return await asyncio.get_running_loop().run_in_executor(
        _hashing, verify_password, password, stored)

