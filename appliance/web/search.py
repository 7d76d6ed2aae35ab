"""Searching one's own mail."""

from urllib.parse import urlencode

import tornado.web

from appliance.store import search
from appliance.web.base import PAGE_SIZE, BaseHandler
from appliance.web.present import neutral


class SearchHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        query = self.get_argument("q", "").strip()
        page, offset = self.paging()
        rows, more = search.search(self.db, self.current_user["id"], query, offset, PAGE_SIZE)
        self.render("search.html", query=query, rows=rows, page=page, more=more,
                    marked=lambda text: search.marked_html(neutral(text)),
                    base_url="/search?" + urlencode({"q": query}) + "&")
