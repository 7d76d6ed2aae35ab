"""The box's side of a blob transfer: resumable uploads and downloads.

One code path for every store: it speaks only the Azure Blob REST subset
(Put Block, Put Block List, Get Block List, ranged Get Blob) to the URL the
relay handed out, whether Azure, Azurite or the relay's own folder store
answers.  The caller passes a ``CurlAsyncHTTPClient`` and keeps it for the
whole sync window: curl keeps one connection alive across requests, and every
new TLS handshake costs kilobytes on the modem.

Failures raise TemporaryTransferError (link dropped, timeout, 5xx: retry
later, the transfer resumes) or PermanentTransferError (403, 404, checksum
mismatch: retrying the same URL cannot help).
"""

import base64
import binascii
import bisect
import contextlib
import hashlib
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import tornado.httpclient
from tornado.httputil import HTTPHeaders

from pouch.blobs import rest

# Upload block size, for a 256 kbit/s (32 KB/s) link that drops.  A block
# cut off in flight is lost whole (stores keep only complete blocks): on
# average half a block per drop.  Each block costs one request, 0.6-1 KB of
# heads with the signed URL and the answer, plus a round trip the link sits
# idle.  For a pouch of S bytes, D drops and h bytes of heads the waste
# S*h/B + D*B/2 is least near B = sqrt(2*S*h/D): 32 KiB or more on a link
# that rarely drops (heads near 2%, and a 0.3-0.5 s modem round trip leaves
# the link mostly busy), a few KiB on one that drops every few seconds.  D is
# not known in advance, so the size adapts, as TCP's window does: it starts
# at the configured size, halves after each block the link drops (down to
# MIN_BLOCK_SIZE, where heads reach ~20% and a drop loses 2 KiB), and doubles
# back after GROW_AFTER_BLOCKS blocks in a row arrive whole.  Block ids name
# their byte range, so blocks of any earlier size are reused on resume.
# A drop after some blocks got through is retried at once, without going back
# to the sync's handshake (a request and its answer on the modem); a link
# that carries nothing is left to the sync's own backoff.
BLOCK_SIZE = 32 * 1024
MIN_BLOCK_SIZE = 4 * 1024
GROW_AFTER_BLOCKS = 8
# Downloads keep every byte that arrives, even from a cut response, so a long
# range loses nothing; its length bounds how long one request may take
# (16 s at 256 kbit/s) and headers are 0.2% of it.
RANGE_SIZE = 512 * 1024
CONNECT_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 90  # a 512 KiB range at a third of 256 kbit/s
PARTIAL_SUFFIX = ".partial"
# A block id is the file's sha256 prefix, the block's offset and its length
# in hex, fixed-width: Azure wants every block id of a blob of one length.
_ID_DIGEST_CHARS = 32
_ID_FORMAT = "{digest}{offset:010x}{length:06x}"  # 48 characters: 64 in base64
_ID_RANGE = re.compile(r"([0-9a-f]{10})([0-9a-f]{6})")
_MAX_BLOCK_LENGTH = 0xFFFFFF
_ERROR_BODY_LIMIT = 4096


class TransferError(Exception):
    """A transfer failed; ``status`` and ``code`` are the store's, when it answered;
    ``report`` counts what the failed attempt carried (it costs data all the same)."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.report = None


class TemporaryTransferError(TransferError):
    """The link dropped, timed out or the store failed: retrying resumes the transfer."""


class PermanentTransferError(TransferError):
    """Retrying the same URL cannot succeed (refused, missing, wrong content)."""


class ChecksumMismatch(PermanentTransferError):
    """The bytes transferred are not the ones expected; they were discarded."""


@dataclass
class TransferReport:
    """Payload and requests of one call.  A request curl itself resent on a
    fresh connection (it does once when a reused one dies) counts once."""

    sent_bytes: int = 0  # payload (request bodies) this call sent
    received_bytes: int = 0  # payload (response bodies of blob data) this call received
    reused_bytes: int = 0  # already at the other end from an earlier attempt, not sent again
    requests: int = 0


class BlobTransfer:
    """Transfers of one sync window; uploads adapt their block size to the link
    as attempts succeed or drop, so keep one instance for the whole window."""

    def __init__(self, http_client, block_size=BLOCK_SIZE, range_size=RANGE_SIZE,
                 connect_timeout_s=CONNECT_TIMEOUT_S, request_timeout_s=REQUEST_TIMEOUT_S,
                 min_block_size=MIN_BLOCK_SIZE):
        if not 0 < block_size <= _MAX_BLOCK_LENGTH:
            raise ValueError(f"block size must be 1 to {_MAX_BLOCK_LENGTH} bytes, not {block_size}")
        self.http = http_client
        self.max_block_size = block_size
        self.min_block_size = min(min_block_size, block_size)
        self.block_size = block_size  # the size of the next new block
        self._whole_blocks = 0  # sent in a row since the last drop or growth
        self.range_size = range_size
        self.timeouts = {"connect_timeout": connect_timeout_s, "request_timeout": request_timeout_s}

    # -- upload -----------------------------------------------------------------

    async def upload(self, url, path, fresh=False):
        """Upload the file at ``path`` to the blob of ``url`` (an upload URL); ``fresh``: no
        block was ever sent there, so the store is not asked which it holds (a request and its
        404, some 500 bytes over the modem)."""
        report = TransferReport()
        with _reported(report):
            await self._upload(url, path, report, fresh)
        return report

    def _shrink_blocks(self):
        self.block_size = max(self.min_block_size, self.block_size // 2)
        self._whole_blocks = 0

    def _count_whole_block(self):
        self._whole_blocks += 1
        if self._whole_blocks >= GROW_AFTER_BLOCKS and self.block_size < self.max_block_size:
            self.block_size = min(self.max_block_size, self.block_size * 2)
            self._whole_blocks = 0

    async def _upload(self, url, path, report, fresh):
        size, sha256 = _file_digest(path)
        committed, uncommitted = (None, []) if fresh else await self._block_lists(url, report)
        if committed is not None and _covers(committed, sha256, size):
            report.reused_bytes = size  # committed by an attempt whose answer was lost
            return
        held = _held(uncommitted, sha256, size)
        while True:
            progress = report.sent_bytes
            try:
                ids = await self._put_blocks(url, path, size, sha256, held, report)
                break
            except TemporaryTransferError:
                self._shrink_blocks()
                if report.sent_bytes == progress:
                    raise  # the link carried nothing: the sync's own backoff takes over
        await self._request(report, "commit blocks of", _with_query(url, comp="blocklist"), "PUT",
                            (201,), body=rest.block_list_request(ids),
                            headers={"Content-Type": "application/xml"})

    async def _block_lists(self, url, report):
        """(committed, uncommitted) blocks the store holds; (None, []) if no blob."""
        response = await self._request(
            report, "list blocks of", _with_query(url, comp="blocklist", blocklisttype="all"),
            "GET", (200, 404))
        if response.code == 404:
            return None, []
        try:
            return rest.parse_block_list_response(response.body)
        except rest.MalformedXml as error:
            raise PermanentTransferError(f"unreadable block list from {_safe(url)}: {error}")

    async def _put_blocks(self, url, path, size, sha256, held, report):
        """Send the file's bytes the store does not hold, in order; return the
        ids of all its blocks.  A held block is reused when the plan reaches
        its offset, and a new block ends where the next held one starts.
        Each block sent joins ``held`` ({offset: length}), for a retry."""
        starts = sorted(held)
        ids = []
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            offset = 0
            while offset < size:
                reused = offset in held
                length = held[offset] if reused else min(
                    self.block_size, _next_start(starts, offset, size) - offset)
                data = source.read(length)
                if len(data) != length:
                    break  # the file shrank: the digest below says so
                digest.update(data)
                block_id = block_id_for(sha256, offset, length)
                if reused:
                    report.reused_bytes += length
                else:
                    await self._request(report, "send a block of",
                                        _with_query(url, comp="block", blockid=block_id), "PUT",
                                        (201,), body=data)
                    report.sent_bytes += length
                    held[offset] = length
                    self._count_whole_block()
                ids.append(block_id)
                offset += length
        if digest.hexdigest() != sha256:
            raise ChecksumMismatch(f"{path} changed while it was uploaded; nothing was committed")
        return ids

    # -- download ---------------------------------------------------------------

    async def download(self, url, dest, size, sha256):
        """Download the blob of ``url`` (``size`` bytes, hex ``sha256``) to ``dest``.

        Bytes arrive in ``dest`` + '.partial', which a later call resumes; the
        file is renamed to ``dest`` only once its sha256 matches."""
        report = TransferReport()
        with _reported(report):
            await self._download(url, Path(dest), size, sha256, report)
        return report

    async def _download(self, url, dest, size, sha256, report):
        partial = dest.with_name(dest.name + PARTIAL_SUFFIX)
        if partial.exists() and partial.stat().st_size > size:
            partial.unlink()  # not a prefix of this blob
        with open(partial, "ab") as target:
            report.reused_bytes = offset = target.tell()
            while offset < size:
                offset += await self._get_range(url, target, offset, size, report)
            target.flush()
            os.fsync(target.fileno())
        if _file_digest(partial)[1] != sha256.lower():
            partial.unlink()
            raise ChecksumMismatch(f"{_safe(url)} does not have sha256 {sha256}; discarded")
        os.replace(partial, dest)

    async def _get_range(self, url, target, offset, size, report):
        """Append bytes offset.. of the blob to ``target``; return how many came."""
        end = min(offset + self.range_size, size)
        sink = _RangeSink(target, offset, size)
        cut = None
        try:
            await self._request(report, "read", url, "GET", (206,), sink=sink,
                                headers={"x-ms-range": f"bytes={offset}-{end - 1}"})
        except TemporaryTransferError as error:
            cut = error  # bytes that came before the drop are kept; the next range starts after them
        finally:
            sink.settle()
            report.received_bytes += sink.written
        if sink.problem:
            raise PermanentTransferError(f"{_safe(url)}: {sink.problem}")
        if sink.written == 0:  # the link carried nothing: the sync's own backoff takes over
            raise cut or TemporaryTransferError(f"{_safe(url)} sent no bytes for range {offset}-{end - 1}")
        return sink.written

    # -- requests ---------------------------------------------------------------

    async def _request(self, report, what, url, method, expected, sink=None, **options):
        """Send one request; raise the right TransferError unless its status is expected.

        With a ``sink``, curl hands the answer's head and body to it as they come."""
        if sink is not None:
            options.update(header_callback=sink.header_line, streaming_callback=sink.body_chunk)
        request = tornado.httpclient.HTTPRequest(  # "Accept" empty: curl sends none of its own
            url, method, headers={"x-ms-version": rest.API_VERSION, "Accept": "", **options.pop("headers", {})},
            **self.timeouts, **options)
        report.requests += 1
        try:
            response = await self.http.fetch(request, raise_error=False)
        except (tornado.httpclient.HTTPClientError, OSError) as error:
            raise TemporaryTransferError(f"could not {what} {_safe(url)}: {error}") from None
        status, headers, body = (sink.answer() if sink is not None
                                 else (response.code, response.headers, response.body))
        if status not in expected:
            _raise_for(what, url, status, headers.get("x-ms-error-code"), body)
        return response


class _RangeSink:
    """Takes one ranged Get Blob answer as it arrives.  Body bytes go straight
    into the partial file, so those that arrive before the link drops are
    kept; once the answer is over, ``settle`` keeps them only if they are the
    range asked for (curl may hand over head and body in either order)."""

    def __init__(self, target, offset, size):
        self.target, self.offset, self.size = target, offset, size
        self.status = None
        self.headers = HTTPHeaders()
        self.head_of_body = b""  # for the error message when the answer is one
        self.written = 0
        self.problem = None

    def header_line(self, line):
        if line.startswith("HTTP/"):
            self.status = int(line.split()[1])
            self.headers = HTTPHeaders()  # a new answer (after a 100 Continue)
        elif line.strip():
            self.headers.parse_line(line)

    def body_chunk(self, chunk):
        self.target.write(chunk)
        self.written += len(chunk)
        if len(self.head_of_body) < _ERROR_BODY_LIMIT:
            self.head_of_body += chunk[:_ERROR_BODY_LIMIT - len(self.head_of_body)]

    def settle(self):
        """Keep the bytes written only if they are the blob's bytes from offset on."""
        self.target.flush()
        content_range = self.headers.get("Content-Range", "")
        if self.status == 206 and not (content_range.startswith(f"bytes {self.offset}-")
                                       and content_range.endswith(f"/{self.size}")):
            self.problem = (f"answered range {content_range!r} for bytes {self.offset}- "
                            f"of a blob of {self.size} bytes")
        if self.status != 206 or self.problem:
            self.target.truncate(self.offset)
            self.written = 0

    def answer(self):
        return self.status, self.headers, self.head_of_body


@contextlib.contextmanager
def _reported(report):
    """Attach ``report`` to a TransferError raised inside."""
    try:
        yield
    except TransferError as error:
        error.report = report
        raise


def _raise_for(what, url, status, code, body):
    message = f"could not {what} {_safe(url)}: HTTP {status} {code or ''}".rstrip()
    detail = _error_message(body)
    if detail:
        message += f" ({detail})"
    temporary = status >= 500 or status in (408, 429)
    raise (TemporaryTransferError if temporary else PermanentTransferError)(message, status, code)


def _error_message(body):
    """The <Message> of an Azure error document, if the body is one."""
    text = (body or b"")[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
    start, end = text.find("<Message>"), text.find("</Message>")
    return text[start + len("<Message>"):end].strip() if 0 <= start < end else ""


def block_id_for(sha256, offset, length):
    """The id of the block holding bytes offset..offset+length of the file with
    hex ``sha256``: every attempt names a block alike, and never another's."""
    raw = _ID_FORMAT.format(digest=sha256[:_ID_DIGEST_CHARS], offset=offset, length=length)
    return base64.b64encode(raw.encode()).decode()


def _block_range(block_id, sha256):
    """(offset, length) that ``block_id`` names in the file of ``sha256``;
    None for an id of another file or of another form."""
    try:
        raw = base64.b64decode(block_id, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    digest, tail = raw[:_ID_DIGEST_CHARS], raw[_ID_DIGEST_CHARS:]
    found = _ID_RANGE.fullmatch(tail)
    if digest != sha256[:_ID_DIGEST_CHARS] or not found:
        return None
    return int(found[1], 16), int(found[2], 16)


def _covers(blocks, sha256, size):
    """Whether ``blocks``, in order, are this file's bytes from first to last."""
    offset = 0
    for block in blocks:
        if _block_range(block.id, sha256) != (offset, block.size):
            return False
        offset += block.size
    return offset == size


def _held(blocks, sha256, size):
    """{offset: length} of the ``blocks`` that hold a range of this file whole."""
    held = {}
    for block in blocks:
        offset, length = _block_range(block.id, sha256) or (None, None)
        if length == block.size > 0 and offset + length <= size:
            held[offset] = max(length, held.get(offset, 0))
    return held


def _next_start(starts, offset, size):
    """The first of the sorted ``starts`` after ``offset``; ``size`` if none."""
    later = bisect.bisect_right(starts, offset)
    return starts[later] if later < len(starts) else size


def _with_query(url, **params):
    return f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"


def _safe(url):
    """``url`` without its query: signatures stay out of logs and messages."""
    return urllib.parse.urlsplit(url)._replace(query="").geturl()


def _file_digest(path):
    """(size, hex sha256) of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
