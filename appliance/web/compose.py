"""Writing mail: new, reply, reply-all, forward and drafts, with attachments."""

import secrets

import tornado.web
from tornado.httputil import url_concat

from appliance import photos
from appliance.store import addresses, boxinfo, contacts, mailbox, other_addresses
from appliance.store.errors import N_, StoreError, size_text
from appliance.store.messages import (DRAFT, FORM_TOKEN, QUEUED, Draft, NewFile, made_by_form,
                                      save_draft, send)
from appliance.store.rules import check_files_size
from appliance.web.base import BaseHandler, as_id
from appliance.web.present import Presenter
from appliance.web.uploads import StreamedFormHandler
from pouch.limits import MAX_MESSAGE_BYTES
from pouch.mime import bodytext

FORM_OVERHEAD = 1024 * 1024
# A form may bring more than the attachment limit: photos shrink on the box before the limit
# applies, and a file over it gets the form back with the reason (a connection cut at the limit
# showed the browser's own error page, the text gone).  Past this much the connection is cut.
STREAMED_MOST = 2 * MAX_MESSAGE_BYTES
TOO_LONG = N_("The text is too long to send (over %(size)s): shorten it, or attach long documents as files.")
FIELDS = ("to", "cc", "bcc", "subject", "body", "html", "format", "draft_id", "in_reply_to",
          "references", "account", "form_token")


@tornado.web.stream_request_body
class ComposeHandler(StreamedFormHandler, BaseHandler):
    @classmethod
    def body_limit(cls, store):
        """Files up to STREAMED_MOST (or the box's attachment limit if higher), and the text."""
        with store.read() as conn:
            return max(boxinfo.max_attachment_bytes(conn), STREAMED_MOST) + FORM_OVERHEAD

    @tornado.web.authenticated
    def get(self):
        """Each form gets a token in its URL: reloading it, or coming Back to it, reopens what the
        form made (its draft), and a form already sent cannot send again."""
        token = self.get_argument("form", "")
        if not FORM_TOKEN.match(token):
            self.redirect(url_concat(self.request.uri, {"form": secrets.token_hex(16)}))
            return
        with self.store.read() as conn:
            made = made_by_form(conn, self.current_user, token)
            if made is not None and made.state != DRAFT:
                self.render("compose_sent.html", message=mailbox.message(conn, self.current_user["id"], made.id))
                return
            values, kept = self._prefill(conn, made)
        values["form_token"] = token
        self._show(values, kept, error=None)

    @tornado.web.authenticated
    async def post(self):
        self.take_form()  # the files are on disk by now
        values = {name: self.get_argument(name, "") for name in FIELDS}
        action = self.get_argument("action", "send")
        kept_ids = [i for i in map(as_id, self.get_arguments("keep")) if i is not None]
        try:
            if self.form.cut:  # the rest of the form comes back; the tab's own copy has the text
                raise StoreError(TOO_LONG, size=size_text(self.FIELD_BYTES))
            files = await self._new_files(action)
            with self.store.write() as conn:
                message_id = self._store(conn, values, kept_ids, action, files)
                row = mailbox.message(conn, self.current_user["id"], message_id)
        except StoreError as error:
            with self.store.read() as conn:
                kept = self._attachments(conn, kept_ids)
            self.set_status(400)
            self._show(values, kept, error=self.error_text(error))
            return
        if action == "autosave":
            self.write({"draft_id": message_id})
        elif action == "draft":  # the form's own address reopens its draft
            token = values["form_token"]
            self.redirect(f"/compose?form={token}&saved=1" if FORM_TOKEN.match(token)
                          else f"/compose?draft={message_id}&saved=1")
        else:
            self.redirect("/folder/outbox" if row["state"] == QUEUED else "/folder/sent")

    def _store(self, conn, values, kept_ids, action, files):
        draft = self._draft(values, kept_ids, action, files)
        draft_id = as_id(values["draft_id"])
        if action == "send":
            return send(self.store, conn, self.current_user, draft, draft_id)
        return save_draft(self.store, conn, self.current_user, draft, draft_id)

    async def _new_files(self, action):
        """The files sent with the form, read one at a time; photos shrunk first when "Send
        pictures smaller" is on.  Files too big whatever shrinking does are refused unread."""
        if action == "autosave":
            return []
        uploads, smaller = self.uploaded("files"), bool(self.get_argument("smaller", ""))
        with self.store.read() as conn:
            limit = boxinfo.max_attachment_bytes(conn)
        check_files_size(sum(upload.size for upload in uploads if not (smaller and _image(upload))), limit)
        files = []
        for upload in uploads:  # at most the limit and one file in memory
            new = NewFile.uploaded(upload.filename, upload.content_type, upload.read())
            files += await photos.made_smaller([new]) if smaller else [new]
            check_files_size(sum(len(file.data) for file in files), limit)
        return files

    def _draft(self, values, kept_ids, action, files):
        rich, strict = values["format"] == "html", action == "send"
        return Draft(
            to=addresses.parse(values["to"], strict), cc=addresses.parse(values["cc"], strict),
            bcc=addresses.parse(values["bcc"], strict), subject=values["subject"].strip(),
            body=values["html"] if rich else values["body"],  # the store cleans HTML
            body_type="html" if rich else "text", in_reply_to=values["in_reply_to"] or None,
            references=values["references"].split(), new_files=files, kept_attachments=kept_ids,
            account_id=values["account"] or None, form_token=values["form_token"] or None)

    def _attachments(self, conn, attachment_ids):
        return [row for row in (mailbox.attachment(conn, self.current_user["id"], i)
                                for i in attachment_ids) if row is not None]

    def _prefill(self, conn, made=None):
        if made is not None:  # this form's own draft, saved when it was posted or autosaved
            source = mailbox.message(conn, self.current_user["id"], made.id)
            return _edit_draft(self, source), mailbox.attachments_of(conn, [made.id]).get(made.id, [])
        for kind in ("draft", "reply", "reply_all", "forward"):
            source_id = as_id(self.get_argument(kind, ""))
            if source_id is not None:
                source = mailbox.message(conn, self.current_user["id"], source_id)
                if source is None:
                    raise tornado.web.HTTPError(404)
                files = mailbox.attachments_of(conn, [source["id"]]).get(source["id"], [])
                return PREFILL[kind](self, source), (files if kind in ("draft", "forward") else [])
        values = dict.fromkeys(FIELDS, "")
        values["to"] = self.get_argument("to", "")
        return values, []

    def _show(self, values, kept, error):
        with self.store.read() as conn:
            known = contacts.most_used(conn, self.current_user["id"])
            limit = boxinfo.max_attachment_bytes(conn)
            senders = other_addresses.list_for(conn, self.current_user["id"])
        if values["account"] not in [row["id"] for row in senders]:
            values["account"] = ""  # the box address, the first choice: that account is gone
        self.render("compose.html", values=values, kept=kept, error=error, contacts=known,
                    limit=limit, most=max(limit, STREAMED_MOST), senders=senders,
                    saved=self.get_argument("saved", "") == "1")


def _image(upload):
    """Whether "Send pictures smaller" may shrink the upload (as appliance.photos decides)."""
    return (upload.content_type or "").lower().startswith("image/")


def _base(source, subject_prefix):
    """Subject and sender: mail that came through an external account is answered from it."""
    subject = source["subject"]
    if not subject.lower().startswith(subject_prefix.lower()):
        subject = f"{subject_prefix} {subject}"
    return dict(dict.fromkeys(FIELDS, ""), subject=subject, account=source["account_id"] or "")


def _quote(handler, source):
    show = Presenter(handler.locale.code, handler.config.box.timezone)
    who = show.people(source["from_json"])
    intro = handler.locale.translate(N_("On %(date)s, %(name)s wrote:")) % {
        "date": show.date(source["date"], short=False), "name": who}
    text = bodytext.body_text(source["body"], source["body_type"])
    return "\n\n" + intro + "\n" + "\n".join("> " + line for line in text.splitlines())


def _reply(handler, source, everyone=False):
    user_id = handler.current_user["id"]
    me = {handler.current_user["email"], *other_addresses.addresses_of(handler.db, user_id).values()}
    mine = source["sender_user_id"] == user_id
    reply_to = addresses.loads(source["reply_to_json"]) or addresses.loads(source["from_json"])
    to = addresses.loads(source["to_json"]) if mine else reply_to
    cc = []
    if everyone:
        to = to + [pair for pair in addresses.loads(source["to_json"]) if pair not in to]
        cc = addresses.loads(source["cc_json"])
    values = _base(source, "Re:")
    values.update(
        to=addresses.format_list([p for p in to if p[1] not in me]),
        cc=addresses.format_list([p for p in cc if p[1] not in me]),
        body=_quote(handler, source), in_reply_to=source["message_id"],
        references=" ".join([*source["references"].split(), source["message_id"]]))
    return values


def _forward(handler, source):
    values = _base(source, "Fwd:")
    show = Presenter(handler.locale.code, handler.config.box.timezone)
    header = "\n\n---------- " + handler.locale.translate(N_("Forwarded message")) + " ----------\n"
    header += "From: " + show.people(source["from_json"], names_only=False) + "\n"
    header += "Subject: " + source["subject"] + "\n"
    values["body"] = header + "\n" + bodytext.body_text(source["body"], source["body_type"])
    return values


def _edit_draft(handler, source):
    if source["state"] != DRAFT:
        raise tornado.web.HTTPError(404)
    rich = source["body_type"] == "html"
    return dict(
        to=addresses.format_list(addresses.loads(source["to_json"])),
        cc=addresses.format_list(addresses.loads(source["cc_json"])),
        bcc=addresses.format_list(addresses.loads(source["bcc_json"])),
        subject=source["subject"], format="text",
        body=bodytext.body_text(source["body"], source["body_type"]),
        html=source["body"] if rich else "", draft_id=str(source["id"]),
        in_reply_to=source["in_reply_to"] or "", references=source["references"],
        account=source["account_id"] or "", form_token="")


PREFILL = {
    "draft": _edit_draft,
    "reply": _reply,
    "reply_all": lambda handler, source: _reply(handler, source, everyone=True),
    "forward": _forward,
}
