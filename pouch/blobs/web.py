"""Tornado handlers through which a relay serves its FolderBlobStore, or its
Azure store (``pouch.blobs.relayed``) so that boxes talk to the relay alone.

They answer the part of the Azure Blob REST API the box uses, with Azure's
status codes and error documents, at the URLs the store signs:

    GET  <name>                               Get Blob (Range / x-ms-range: 206)
    GET  <name>?comp=blocklist&blocklisttype= Get Block List
    PUT  <name>?comp=block&blockid=           Put Block
    PUT  <name>?comp=blocklist                Put Block List (XML body)

An upload URL signed with a size (``sz``, the size the box declared) takes no
block, block list or staged blocks beyond it; a request for a blob that
``allowed(name)`` refuses (its box was revoked) is refused at once.
"""

import asyncio
import io
import os
import re
import urllib.parse

import tornado.iostream
import tornado.web

from pouch.blobs import rest
from pouch.blobs.folder import BlobTooLarge, InvalidBlockList, StagingFull
from pouch.blobs.signing import SignatureError
from pouch.blobs.store import READ, WRITE, BlobNotFound, InvalidBlobName, check_name

# The box sends 32 KiB blocks; 4 MiB bounds what one request can make us store.
MAX_BLOCK_BYTES = 4 << 20
MAX_BLOCK_LIST_BYTES = 4 << 20  # room for rest.MAX_BLOCKS ids
READ_CHUNK = 64 << 10
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")

# operation: (method, comp query value, permissions any of which allows it)
# Listing blocks is allowed to writers too, so upload URLs need not read.
OPERATIONS = {
    "get_blob": ("GET", None, READ),
    "get_block_list": ("GET", "blocklist", READ + WRITE),
    "put_block": ("PUT", "block", WRITE),
    "put_block_list": ("PUT", "blocklist", WRITE),
}
BODY_LIMITS = {"put_block": MAX_BLOCK_BYTES, "put_block_list": MAX_BLOCK_LIST_BYTES}
# Staged blocks of a blob with a declared size may hold twice that: a resumed
# upload sends again, at a smaller size, a block whose answer a drop cut off.
STAGED_PER_DECLARED = 2


def blob_routes(store, allowed=None):
    """The URL routes serving ``store`` at the path of its ``base_url``;
    ``allowed(name) -> bool`` (blocking, run in a thread per request), if
    given, says whether blob ``name`` may still be served."""
    prefix = urllib.parse.urlsplit(store.base_url).path.rstrip("/")
    return [(rf"{re.escape(prefix)}/(.+)", BlobHandler, {"store": store, "allowed": allowed})]


class AzureError(tornado.web.HTTPError):
    """An error answered as Azure does: status, x-ms-error-code, XML document."""

    def __init__(self, status_code, code, message, headers=None):
        super().__init__(status_code, reason=None, log_message=f"{code}: {message}")
        self.code = code
        self.message = message
        self.headers = headers or {}


@tornado.web.stream_request_body
class BlobHandler(tornado.web.RequestHandler):
    def initialize(self, store, allowed=None):
        self.store = store
        self.allowed = allowed
        self.operation = None
        self.max_bytes = None  # the most bytes the URL lets the blob take
        self.body = None  # where a PUT body goes while it arrives

    async def prepare(self):
        # First, before any check can fail: no body is read past the largest limit.
        self.request.connection.set_max_body_size(max(BODY_LIMITS.values()))
        self.name = self._blob_name()
        self.operation = self._operation()
        self._authorize()
        if self.allowed is not None and not await asyncio.to_thread(self.allowed, self.name):
            raise AzureError(403, "AuthenticationFailed", "The URL's box no longer has access.")
        limit = BODY_LIMITS.get(self.operation, 0)
        if self.operation == "put_block" and self.max_bytes is not None:
            limit = min(limit, self.max_bytes)
        self.request.connection.set_max_body_size(limit)
        if self.operation in BODY_LIMITS:
            self._receive_body(limit)

    def data_received(self, chunk):
        if self.body is not None:
            self.body.write(chunk)

    async def get(self, _name):
        if self.operation == "get_block_list":
            await self._get_block_list()
        else:
            await self._get_blob()

    async def put(self, _name):
        if self.operation == "put_block":
            await self._put_block()
        else:
            await self._put_block_list()

    def check_xsrf_cookie(self):
        pass  # the signed URL is the credential; no cookie is involved

    def _request_summary(self):
        # Without the query: signatures stay out of the access log.
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def on_finish(self):
        self._discard_body()

    def on_connection_close(self):
        super().on_connection_close()  # ends a body still arriving
        self._discard_body()

    def write_error(self, status_code, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        if not isinstance(error, AzureError):
            error = AzureError(status_code, "InternalError", "The server encountered an error.")
        for header, value in error.headers.items():
            self.set_header(header, value)
        self.set_header("x-ms-error-code", error.code)
        self.set_header("Content-Type", "application/xml")
        self.finish(rest.error_body(error.code, error.message))

    # -- checks ---------------------------------------------------------------

    def _blob_name(self):
        try:
            return check_name(self.path_args[0])
        except InvalidBlobName as error:
            raise AzureError(400, "InvalidResourceName", str(error)) from None

    def _operation(self):
        comp = self.get_query_argument("comp", None)
        for operation, (method, wanted_comp, _) in OPERATIONS.items():
            if (method, wanted_comp) == (self.request.method, comp):
                return operation
        if self.request.method not in ("GET", "PUT"):
            raise AzureError(405, "UnsupportedHttpVerb", f"{self.request.method} is not supported.")
        raise AzureError(400, "UnsupportedQueryParameter", f"comp={comp} is not supported here.")

    def _authorize(self):
        permissions = self.get_query_argument("sp", "")
        try:
            self.max_bytes = self.store.signer.verify(
                self.name, permissions, self.get_query_argument("se", None),
                self.get_query_argument("sig", None), max_bytes=self.get_query_argument("sz", None))
        except SignatureError as error:
            raise AzureError(403, "AuthenticationFailed", str(error)) from None
        if not set(permissions) & set(OPERATIONS[self.operation][2]):
            raise AzureError(403, "AuthorizationPermissionMismatch",
                             "This request is not authorized to perform this operation "
                             "using this permission.")

    def _receive_body(self, limit):
        length = self.request.headers.get("Content-Length")
        if length is None:
            raise AzureError(411, "MissingContentLengthHeader", "Content-Length is required.")
        if not (length.isascii() and length.isdigit()):  # "²" is a digit to isdigit, not to int
            raise AzureError(400, "InvalidHeaderValue", "Content-Length is not a number of bytes.")
        if int(length) > limit:
            raise AzureError(413, "RequestBodyTooLarge",
                             f"The request body is too large; the limit is {limit} bytes"
                             + (" (the size declared for this upload)." if limit == self.max_bytes
                                else "."))
        if self.operation == "put_block":
            self._block_id = self.get_query_argument("blockid", "")
            if not rest.valid_block_id(self._block_id):
                raise AzureError(400, "InvalidQueryParameterValue",
                                 "blockid must be base64 of 1 to 64 bytes.")
            self.body = self.store.new_staging_file()
        else:
            self.body = io.BytesIO()

    def _discard_body(self):
        body, self.body = self.body, None
        if body is not None and hasattr(body, "name"):
            body.close()
            try:
                os.unlink(body.name)
            except FileNotFoundError:
                pass  # staged as a block

    # -- operations -------------------------------------------------------------

    async def _put_block(self):
        self.body.flush()
        staged = None if self.max_bytes is None else STAGED_PER_DECLARED * self.max_bytes
        try:
            await asyncio.to_thread(self.store.stage_block, self.name, self._block_id, self.body.name,
                                    staged)
        except StagingFull as error:
            raise AzureError(409, "BlockCountExceedsLimit", str(error)) from None
        self.set_status(201)

    async def _put_block_list(self):
        try:
            entries = rest.parse_block_list_request(self.body.getvalue())
        except rest.MalformedXml as error:
            raise AzureError(400, "InvalidXmlDocument", str(error)) from None
        try:
            await asyncio.to_thread(self.store.commit_blocks, self.name, entries, self.max_bytes)
        except InvalidBlockList as error:
            raise AzureError(400, "InvalidBlockList", str(error)) from None
        except BlobTooLarge as error:
            raise AzureError(413, "RequestBodyTooLarge", str(error)) from None
        self.set_status(201)

    async def _get_block_list(self):
        kind = self.get_query_argument("blocklisttype", "committed")
        if kind not in ("committed", "uncommitted", "all"):
            raise AzureError(400, "InvalidQueryParameterValue",
                             "blocklisttype must be committed, uncommitted or all.")
        committed, uncommitted = await asyncio.to_thread(self._block_lists)
        self.set_header("Content-Type", "application/xml")
        self.finish(rest.block_list_response(committed if kind != "uncommitted" else None,
                                             uncommitted if kind != "committed" else None))

    async def _get_blob(self):
        with await asyncio.to_thread(self._open_blob) as blob:
            size = _length(blob)
            start, end = self._range(size)
            # Only what the box reads: 91 bytes of Azure's Content-Type, Accept-Ranges and
            # x-ms-blob-type would cross its modem with every block it reads.
            self.clear_header("Content-Type")
            self.set_header("Content-Length", end - start)
            if self._range_header() is not None:
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            blob.seek(start)
            await self._send(blob, end - start)

    async def _send(self, blob, remaining):
        while remaining > 0:
            chunk = await asyncio.to_thread(blob.read, min(remaining, READ_CHUNK))
            if not chunk:
                break  # the Content-Length sent makes the client see the short read
            remaining -= len(chunk)
            self.write(chunk)
            try:
                await self.flush()
            except tornado.iostream.StreamClosedError:
                return

    def _range_header(self):
        return self.request.headers.get("x-ms-range") or self.request.headers.get("Range")

    def _range(self, size):
        """(start, end) of the bytes to send, end excluded."""
        header = self._range_header()
        if header is None:
            return 0, size
        match = _RANGE.fullmatch(header.strip())
        if match is None:
            raise AzureError(400, "InvalidHeaderValue", f"unsupported range {header!r}")
        start = int(match[1])
        end = int(match[2]) + 1 if match[2] else size
        if start >= size or end <= start:
            raise AzureError(416, "InvalidRange", "The range specified is invalid for the "
                             "current size of the resource.", {"Content-Range": f"bytes */{size}"})
        return start, min(end, size)

    def _block_lists(self):
        try:
            return self.store.block_lists(self.name)
        except BlobNotFound:
            raise self._not_found() from None

    def _open_blob(self):
        try:
            return self.store.open_blob(self.name)
        except BlobNotFound:
            raise self._not_found() from None

    def _not_found(self):
        return AzureError(404, "BlobNotFound", "The specified blob does not exist.")


def _length(blob):
    """Bytes of an open blob: a file of the folder store, or a reader that knows its ``size``."""
    size = getattr(blob, "size", None)
    return size if size is not None else os.fstat(blob.fileno()).st_size
