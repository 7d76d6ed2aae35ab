"""Turning stored mail into what a page shows: names, dates, sizes, safe bodies."""

import datetime
import functools
from zoneinfo import ZoneInfo

import tornado.escape
from babel.dates import get_month_names

from appliance.store import addresses
from appliance.store.safe_text import neutral, safe_name
from appliance.web.sanitize import clean_html

LINK_PARAMS = 'rel="noopener noreferrer nofollow" target="_blank"'
LIST_PEOPLE = 3  # names in a list row before "+N"


def escape_text(value):
    """The pages' autoescape: HTML-escaped, bidi controls taken out (templates pass UTF-8)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return tornado.escape.xhtml_escape(neutral(value))


SHOWN_FROM, SHOWN_UNTIL = -62135510400, 253402214400  # 2 Jan 0001 and 31 Dec 9999, UTC: a valid moment in every zone


@functools.lru_cache(maxsize=16)
def _month_abbreviations(locale_code):
    # Babel's formatting is too slow for every row of every page; the names are enough.
    return dict(get_month_names("abbreviated", locale=locale_code))


class Presenter:
    """Formatting in one locale and the box's time zone; templates get it as ``show``."""

    def __init__(self, locale_code, timezone):
        self.locale_code = locale_code.split("_")[0]
        self.zone = ZoneInfo(timezone)

    def date(self, timestamp, short=True):
        """Today's mail by its time, older mail by its day; long form with the year and time."""
        # A date from any year travels (pouch records are signed 64-bit); show it within datetime's range.
        moment = datetime.datetime.fromtimestamp(min(max(timestamp, SHOWN_FROM), SHOWN_UNTIL), self.zone)
        months = _month_abbreviations(self.locale_code)
        clock = f"{moment.hour:02d}:{moment.minute:02d}"
        day = f"{moment.day} {months[moment.month]} {moment.year}"
        if not short:
            return f"{day}, {clock}"
        today = datetime.datetime.now(self.zone).date()
        return clock if moment.date() == today else day

    @staticmethod
    def people(json_text, names_only=True):
        pairs = addresses.loads(json_text)
        if names_only:
            return ", ".join(name or email for name, email in pairs)
        return addresses.format_list(pairs)

    @classmethod
    def few_people(cls, json_text):
        """The first names of a list row, and how many more: a row is a line on a phone, and a
        message to 1,000 people or with a 100 KB name must not make its folder a page of names."""
        pairs = addresses.loads(json_text)
        shown = cls.short(", ".join(name or email for name, email in pairs[:LIST_PEOPLE]))
        return shown + (f" +{len(pairs) - LIST_PEOPLE}" if len(pairs) > LIST_PEOPLE else "")

    @staticmethod
    def file_name(name):
        """An attachment's name as the box sends it on download: no path, controls or bidi
        controls, at most 255 characters, whoever named it (a sender's mail or an upload)."""
        return safe_name(name)

    @staticmethod
    def short(text, most=200):
        """``text`` cut to ``most`` characters for a list row (the message's page shows it whole)."""
        return text if len(text) <= most else text[:most - 1].rstrip() + "…"

    @staticmethod
    def size(count):
        for unit in ("B", "KB", "MB"):
            if count < 1024 or unit == "MB":
                return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
            count /= 1024

    @staticmethod
    def body(message):
        """Safe HTML for a message body; inline images come from the box itself."""
        if message["body_type"] == "html":
            prefix = f"/message/{message['id']}/cid/"
            return clean_html(message["body"], lambda cid: prefix + tornado.escape.url_escape(cid))
        text = tornado.escape.linkify(message["body"], extra_params=LINK_PARAMS)
        return text.replace("\n", "<br>\n")
