"""What comes in with files: a form body parsed as it arrives, files written to disk as they
come (never the whole body in memory); their names: appliance.store.safe_text."""

import email.message
import email.utils
import os
import tempfile

import tornado.httputil
import tornado.web

MAX_PARTS = 200  # a form with more parts than that is not the compose page's
MAX_PART_HEAD = 16 * 1024


def bad_form(reason):
    return tornado.web.HTTPError(400, reason)


class Upload:
    """One file of a form, in a temporary file until read."""

    def __init__(self, field, filename, content_type, directory):
        self.field, self.filename, self.content_type = field, filename, content_type
        self.file = tempfile.TemporaryFile(dir=directory)

    @property
    def size(self):
        return os.fstat(self.file.fileno()).st_size

    def read(self):
        self.file.seek(0)
        return self.file.read()


class StreamedForm:
    """A form body fed chunk by chunk: multipart/form-data (files to ``directory``, the other
    fields in memory) or urlencoded.  Fields may hold ``field_bytes`` in all: a multipart field
    that would go over is left empty and named in ``cut``, the others read on, so the page can
    say what was too long and keep the rest (an urlencoded body over it is refused)."""

    def __init__(self, content_type, field_bytes, directory):
        kind, params = _parse_header(content_type)
        self.field_bytes, self.directory = field_bytes, directory
        self.fields, self.files, self.cut = {}, [], set()
        self.urlencoded = kind == "application/x-www-form-urlencoded"
        if not self.urlencoded:
            boundary = params.get("boundary", "")
            # RFC 2046: 1 to 70 ASCII characters (an RFC 2231 one may decode to anything)
            if kind != "multipart/form-data" or not 0 < len(boundary) <= 200 or not boundary.isascii():
                raise bad_form("a form is multipart/form-data or urlencoded")
            self.delimiter = b"\r\n--" + boundary.encode("latin-1")
        # Before a multipart body, CRLF: the first boundary then looks like every other.
        self.buffer = bytearray(b"" if self.urlencoded else b"\r\n")
        self.state, self.part, self.field_total = "preamble", None, 0
        self.taken = False

    def feed(self, chunk):
        self.buffer += chunk
        if self.urlencoded:
            self._count(len(chunk))
            return
        while self.state != "done" and self._step():
            pass

    def finish(self):
        """All the fields as {name: [bytes]}, once the body is complete."""
        if self.urlencoded:
            arguments = {}
            tornado.httputil.parse_body_arguments(
                "application/x-www-form-urlencoded", bytes(self.buffer), arguments, {})
            return arguments
        if self.state != "done":
            raise bad_form("the form ends before its last boundary")
        return {name: [bytes(value) for value in values] for name, values in self.fields.items()}

    def close(self):
        for upload in self.files:
            upload.file.close()

    def _count(self, size):
        self.field_total += size
        if self.field_total > self.field_bytes:
            raise bad_form("the form's text fields are too long")

    def _step(self):
        """One step of the parse; False when it needs more bytes."""
        if self.state in ("preamble", "data"):
            return self._through_delimiter()
        if self.state == "delimiter":
            if len(self.buffer) < 2:
                return False
            ending, self.buffer = bytes(self.buffer[:2]), self.buffer[2:]
            if ending == b"--":
                self.state = "done"
            elif ending == b"\r\n":
                self.state = "head"
            else:
                raise bad_form("a form boundary is followed by something else")
            return True
        return self._head()

    def _through_delimiter(self):
        at = self.buffer.find(self.delimiter)
        keep = len(self.delimiter) - 1  # a delimiter may start in this chunk and end in the next
        end = at if at >= 0 else max(0, len(self.buffer) - keep)
        if self.state == "data":
            self._write(self.buffer[:end])
        if at < 0:
            del self.buffer[:end]
            return False
        del self.buffer[:at + len(self.delimiter)]
        self.state = "delimiter"
        return True

    def _head(self):
        at = self.buffer.find(b"\r\n\r\n")
        if at < 0:
            if len(self.buffer) > MAX_PART_HEAD:
                raise bad_form("a form part's headers are too long")
            return False
        try:  # UTF-8 names as browsers send them (HTTPHeaders would want Latin-1 only)
            lines = self.buffer[:at].decode("utf-8").split("\r\n")
        except UnicodeDecodeError:  # an older client's Latin-1 file name: the mail still goes
            lines = self.buffer[:at].decode("latin-1").split("\r\n")
        head = {}
        for line in lines:
            name, _, value = line.partition(":")
            head[name.strip().lower()] = value.strip()
        del self.buffer[:at + 4]
        self._start_part(head)
        self.state = "data"
        return True

    def _start_part(self, head):
        kind, params = _parse_header(head.get("content-disposition", ""))
        name = params.get("name")
        if kind != "form-data" or name is None:
            raise bad_form("a form part has no name")
        if len(self.files) + len(self.fields) >= MAX_PARTS:
            raise bad_form("the form has too many parts")
        if "filename" in params:
            self.part = Upload(name, params["filename"], head.get("content-type", ""), self.directory)
            self.files.append(self.part)
        else:
            self.part, self.part_name = bytearray(), name
            self.fields.setdefault(name, []).append(self.part)

    def _write(self, data):
        if not data or self.part is None:  # None: a field cut for its length
            return
        if isinstance(self.part, Upload):
            self.part.file.write(data)
        elif self.field_total + len(data) > self.field_bytes:
            self.field_total -= len(self.part)
            self.part.clear()
            self.part = None
            self.cut.add(self.part_name)
        else:
            self.field_total += len(data)
            self.part += data


def _parse_header(value):
    """A header's value and its parameters (RFC 2231 and quoted names included)."""
    message = email.message.Message()
    message["content-type"] = value
    params = dict((k.lower(), email.utils.collapse_rfc2231_value(v))
                  for k, v in message.get_params(failobj=[("", "")])[1:])
    return message.get_params(failobj=[("", "")])[0][0].lower(), params


class StreamedFormHandler:
    """Mixed into a ``@tornado.web.stream_request_body`` handler: a POST's files go to disk as
    they arrive (under data_dir), its text stays in memory up to FIELD_BYTES, and only signed-in
    users get so far.  ``post`` starts with ``self.take_form()``; the XSRF token, which comes in
    the body, is checked there."""

    FIELD_BYTES = 1024 * 1024
    form = form_error = None

    def prepare(self):
        super().prepare()
        if self.request.method != "POST":
            return
        if not self.current_user:
            raise tornado.web.HTTPError(403)  # before a byte of the body is kept
        directory = self.store.data_dir / "uploading"
        directory.mkdir(parents=True, exist_ok=True)
        self.form = StreamedForm(self.request.headers.get("Content-Type", ""), self.FIELD_BYTES,
                                 directory)

    def data_received(self, chunk):
        if self.form is None or self.form_error is not None:
            return
        try:
            self.form.feed(chunk)
        except tornado.web.HTTPError as error:  # answered once the body is in, by take_form
            self.form_error = error

    def check_xsrf_cookie(self):
        """Tornado asks before the body arrives; ``take_form`` asks again once it is in."""
        if self.form is not None and self.form.taken:
            super().check_xsrf_cookie()

    def take_form(self):
        """The body's fields as the request's arguments; then the XSRF check."""
        if self.form_error is not None:
            raise self.form_error
        for name, values in self.form.finish().items():
            self.request.body_arguments.setdefault(name, []).extend(values)
            self.request.arguments.setdefault(name, []).extend(values)
        self.form.taken = True
        self.check_xsrf_cookie()

    def uploaded(self, field):
        """The files sent in ``field`` (``Upload``s; ``read()`` gives the bytes)."""
        return [upload for upload in self.form.files if upload.field == field and upload.filename]

    def on_finish(self):
        if self.form is not None:
            self.form.close()
        super().on_finish()

    def on_connection_close(self):
        if self.form is not None:
            self.form.close()
        super().on_connection_close()
