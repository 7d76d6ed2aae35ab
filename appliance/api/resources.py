"""The account, its folders, contacts and files (attachments and uploads)."""

from appliance import photos
from appliance.api import encode, objects, params
from appliance.api.base import ApiHandler
from appliance.api.errors import APIError, bad_request, not_found
from appliance.downloads import send_file
from appliance.store import boxinfo, mailbox, placeholders, uploads
from appliance.store.messages import NewFile

API_FOLDERS = ("inbox", "outbox", "sent", "drafts", "trash")
UPLOADED = placeholders.Shown(placeholders.HERE)  # an upload's bytes are on the box
NOT_HERE = {  # why a file's bytes are not on the box yet, and what brings them
    placeholders.HELD: "It waits on the relay until someone asks for it: POST /files/{id}/request "
                       "(or Get it on the message page) and it comes with the next sync.",
    placeholders.ASKED: "It was asked for and comes with the next sync.",
    placeholders.COMING: "It comes with a later sync, unasked.",
}


class AccountHandler(ApiHandler):
    PARAMS = {"GET": ()}

    def get(self):
        self.reply(encode.account(self.current_user))


class FolderListHandler(ApiHandler):
    PARAMS = {"GET": params.PAGING}

    def get(self):
        limit, offset, view = params.paging(self.args)
        found = [encode.folder(self.user_id, name) for name in API_FOLDERS][offset:offset + limit]
        self.reply(_viewed(found, view))


class FolderHandler(ApiHandler):
    PARAMS = {"GET": ()}

    def get(self, name):
        if name not in API_FOLDERS:
            raise not_found("folder", name)
        self.reply(encode.folder(self.user_id, name))


class LabelListHandler(ApiHandler):
    """The box's accounts are folder accounts: no labels, as the sync-engine answered them."""

    PARAMS = {"GET": params.PAGING}

    def get(self):
        _limit, _offset, view = params.paging(self.args)
        self.reply({"count": 0} if view == "count" else [])


class ContactListHandler(ApiHandler):
    PARAMS = {"GET": (*params.PAGING, "email", "filter")}

    def get(self):
        limit, offset, view = params.paging(self.args)
        email = self.args.get("email", self.args.get("filter"))
        if view == "count":
            found = objects.contacts_page(self.db, self.user_id, 0, params.MAX_INT, email)
            return self.reply({"count": len(found)})
        self.reply(_viewed(objects.contacts_page(self.db, self.user_id, offset, limit, email), view))


class ContactHandler(ApiHandler):
    PARAMS = {"GET": ()}

    def get(self, contact_id):
        contact_id = params.object_id("contact id", contact_id)
        found = objects.contact(self.db, self.user_id, contact_id)
        if found is None:
            raise not_found("contact", contact_id)
        self.reply(found)


class FileListHandler(ApiHandler):
    """Attachments of the user's mail (ids ``a<n>``), then their uploads (``u<n>``)."""

    UPLOADS = True

    PARAMS = {"GET": (*params.PAGING, "filename", "message_id"), "POST": ("smaller",)}

    def get(self):
        limit, offset, view = params.paging(self.args)
        if "message_id" in self.args:
            return self.reply(_viewed(self._of_message(offset, limit), view))
        filename = self.args.get("filename")
        attached, total = uploads.attachments_page(self.db, self.user_id, offset, limit, filename)
        shown = placeholders.shown(self.store, self.db, attached)
        found = [encode.file(self.user_id, row, "a", [row["message_id"]], shown[row["id"]]) for row in attached]
        if len(found) < limit:
            rest = uploads.page(self.db, self.user_id, max(0, offset - total), limit - len(found),
                                filename)
            found += [encode.file(self.user_id, row, "u", shown=UPLOADED) for row in rest]
        if view == "count":
            everything = uploads.page(self.db, self.user_id, 0, params.MAX_INT, filename)
            return self.reply({"count": total + len(everything)})
        self.reply(_viewed(found, view))

    def _of_message(self, offset, limit):
        """The files of one of the user's messages or drafts (what the SDKs' attachments read)."""
        message_id = params.object_id("message_id", self.args["message_id"])
        if mailbox.message(self.db, self.user_id, message_id) is None:
            raise not_found("message", message_id)
        rows = mailbox.attachments_of(self.db, [message_id]).get(message_id, [])
        filename = self.args.get("filename")
        shown = placeholders.shown(self.store, self.db, rows)
        found = [encode.file(self.user_id, row, "a", [message_id], shown[row["id"]]) for row in rows
                 if filename is None or row["name"] == filename]
        return found[offset:offset + limit]

    async def post(self):
        """Multipart form upload, as the sync-engine took it; answers a list of files.
        ``smaller=true`` shrinks photos first, as the compose page's "Send pictures smaller"."""
        sent = [f for files in self.request.files.values() for f in files]
        if not sent:
            raise bad_request("Send the file(s) as multipart/form-data")
        smaller = params.boolean("smaller", self.args.get("smaller", "false"))
        with self.store.read() as conn:
            limit = boxinfo.max_attachment_bytes(conn)
        if any(len(f["body"]) > limit for f in sent):
            raise bad_request(f"A file is larger than the box's limit of {limit} bytes")
        files = [NewFile.uploaded(f["filename"], f["content_type"], f["body"]) for f in sent]
        if smaller:
            files = await photos.made_smaller(files)
        with self.store.write() as conn:
            if uploads.day_bytes(conn, self.user_id) + sum(len(f.data) for f in files) > uploads.DAY_BYTES:
                raise APIError(429, f"Uploads are limited to {uploads.DAY_BYTES:,} bytes a day: "
                                    "attach what you uploaded, or upload again tomorrow")
            rows = [uploads.add(self.store, conn, self.user_id, f.name, f.type, f.data) for f in files]
        self.reply([encode.file(self.user_id, row, "u", shown=UPLOADED) for row in rows])


class FileHandler(ApiHandler):
    PARAMS = {"GET": ()}

    async def get(self, file_id, download=None):
        found = self._find(file_id)
        shown = self._shown(file_id, found)
        if download and shown.state != placeholders.HERE:
            raise APIError(409, f"File {file_id} is not on the box yet ({shown.state}). "
                                + NOT_HERE[shown.state].replace("{id}", file_id))
        if download:  # the web client's download: same headers, same safety
            return await send_file(self, found, download=True)
        self.reply(self._encoded(file_id, found, shown))

    def _shown(self, file_id, found, conn=None):
        if file_id[:1] == "u":
            return UPLOADED
        return placeholders.shown(self.store, conn or self.db, [found])[found["id"]]

    def _encoded(self, file_id, found, shown):
        prefix = file_id[:1]
        message_ids = [found["message_id"]] if prefix == "a" else []
        return encode.file(self.user_id, found, prefix, message_ids, shown)

    def _find(self, file_id):
        kind, number = file_id[:1], params.object_id("file id", file_id[1:])
        if kind == "a":
            found = mailbox.attachment(self.db, self.user_id, number)
        elif kind == "u":
            found = uploads.get(self.db, self.user_id, number)
        else:
            found = None
        if found is None:
            raise not_found("file", file_id)
        return found


class FileRequestHandler(FileHandler):
    """Ask the relay for a file that waits there (as "Get it" does): once for the whole box."""

    PARAMS = {"POST": ()}

    def post(self, file_id):
        with self.store.write() as conn:
            found = self._find(file_id)
            if file_id[:1] == "a":
                placeholders.ask(self.store, conn, self.current_user, found)
            shown = self._shown(file_id, found, conn)
        self.reply(self._encoded(file_id, found, shown))


def _viewed(found, view):
    if view == "ids":
        return [item["id"] for item in found]
    return found
