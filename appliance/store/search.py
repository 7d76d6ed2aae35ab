"""Full-text search of one user's mail, ranked by BM25, with the matched words marked."""

import html
import re

import sqlalchemy as sa

from appliance.store.search_index import owner_token

# Private-use characters mark matches inside SQLite; they cannot come from escaped text.
START, END = "\ue000", "\ue001"
WORD = re.compile(r"\w+", re.UNICODE)
# Subject matches count most, then addresses, then the body; `owners` only filters.
RANK = "bm25(5.0, 3.0, 1.0, 0.0)"

# FTS5 sorts by `rank` itself when it drives the join (CROSS JOIN keeps it outermost), so
# highlight() and snippet() run only for the rows of the page, not for every match.
QUERY = sa.text(f"""
SELECT m.id, m.from_json, m.to_json, m.subject, m.state, m.sender_user_id, um.date,
       um.is_read, um.starred, um.thread_id, um.folder,
       highlight(message_search, 0, '{START}', '{END}') AS subject_marked,
       snippet(message_search, 2, '{START}', '{END}', '…', 16) AS body_marked
FROM message_search
CROSS JOIN user_messages um ON um.message_id = message_search.rowid AND um.user_id = :user_id
JOIN messages m ON m.id = message_search.rowid
WHERE message_search MATCH :match AND message_search.rank MATCH '{RANK}'
  AND um.folder != 'trash'
ORDER BY message_search.rank
LIMIT :limit OFFSET :offset
""")


PREFIX_MIN = 4  # a shorter last word as a prefix would match half the index


def match_expression(words, user_id):
    """An FTS5 query: every word (a long last one also as a prefix: still being typed),
    within the user's mail only."""
    terms = [f'"{word}"' for word in words]
    if len(words[-1]) >= PREFIX_MIN:
        terms[-1] += "*"
    return f'owners:"{owner_token(user_id)}" AND ' + " AND ".join(terms)


def search(conn, user_id, text, offset=0, limit=25):
    """One page of results and whether there is a next one; no words gives no results."""
    words = WORD.findall(text)[:10]
    if not words:
        return [], False
    rows = conn.execute(QUERY, {"user_id": user_id, "match": match_expression(words, user_id),
                                "limit": limit + 1, "offset": offset}).mappings().all()
    return rows[:limit], len(rows) > limit


def marked_html(text):
    """Escape ``text`` for HTML and turn the match marks into <mark> elements."""
    return html.escape(text or "").replace(START, "<mark>").replace(END, "</mark>")
