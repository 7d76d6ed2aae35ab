"""Reading mail: folders with paging, conversations, and changing a message's state."""

import tornado.web

from appliance.store import mailbox, other_addresses, placeholders
from appliance.store import spam_verdicts
from appliance.store.errors import N_
from appliance.web.base import PAGE_SIZE, BaseHandler

FOLDER_TITLES = {
    "inbox": N_("Inbox"), "outbox": N_("Outbox"), "sent": N_("Sent"), "drafts": N_("Drafts"),
    "starred": N_("Starred"), "trash": N_("Trash"),
}
ACTIONS = {
    "read": lambda conn, uid, mid: mailbox.set_flags(conn, uid, [mid], is_read=True),
    "unread": lambda conn, uid, mid: mailbox.set_flags(conn, uid, [mid], is_read=False),
    "star": lambda conn, uid, mid: mailbox.set_flags(conn, uid, [mid], starred=True),
    "unstar": lambda conn, uid, mid: mailbox.set_flags(conn, uid, [mid], starred=False),
    "trash": mailbox.to_trash,
    "restore": mailbox.restore,
    "delete": mailbox.delete_forever,
    "spam": lambda conn, uid, mid: spam_verdicts.mark(conn, uid, mid, spam=True),  # and to the trash
    "not_spam": lambda conn, uid, mid: spam_verdicts.mark(conn, uid, mid, spam=False),
}


class FolderHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self, folder="inbox"):
        if folder not in FOLDER_TITLES:
            raise tornado.web.HTTPError(404)
        page, offset = self.paging()
        rows, more = mailbox.list_folder(self.db, self.current_user["id"], folder, offset, PAGE_SIZE)
        self.render("folder.html", folder=folder, title=FOLDER_TITLES[folder], rows=rows,
                    page=page, more=more, base_url=f"/folder/{folder}?",
                    tags=other_addresses.addresses_of(self.db, self.current_user["id"]))


class ThreadHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self, thread_id):
        user_id = self.current_user["id"]
        with self.store.write() as conn:
            found = mailbox.thread(conn, user_id, int(thread_id))
            if found is None:
                raise tornado.web.HTTPError(404)
            head, rows = found
            mailbox.mark_thread_read(conn, user_id, int(thread_id))
            files = mailbox.attachments_of(conn, [row["id"] for row in rows])
            shown = placeholders.shown(self.store, conn, [file for of_one in files.values() for file in of_one])
            tags = other_addresses.addresses_of(conn, user_id)
        self.render("thread.html", rows=rows, files=files, shown=shown, tags=tags,
                    title=rows[-1]["subject"] if rows else head["subject_key"])


class MessageActionHandler(BaseHandler):
    @tornado.web.authenticated
    def post(self, message_id, action):
        if action not in ACTIONS:
            raise tornado.web.HTTPError(404)
        with self.store.write() as conn:
            row = mailbox.message(conn, self.current_user["id"], int(message_id))
            if row is None:
                raise tornado.web.HTTPError(404)
            ACTIONS[action](conn, self.current_user["id"], int(message_id))
        self.redirect(self.next_path(f"/thread/{row['thread_id']}"))
