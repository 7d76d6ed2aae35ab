"""The box's JSON API under /api/, in the shapes of the Nylas sync-engine's REST API,
with real authentication.  ``routes.routes(deps)`` gives the URL table appliance.server mounts.

Decisions, where the sync-engine and the box differ:

- Auth: per-user API tokens (``store.tokens``), made on /settings/tokens, sent as the
  HTTP Basic username (what the sync-engine's SDKs send) or as a Bearer token.  The
  sync-engine's account id was its only credential; here it is just the user's id.
- Liberal in what it takes, as real clients (the Nylas SDKs) send it: ``limit``/``offset``
  on single objects, a trailing slash, and the read-only fields of an object sent back
  (``id``, ``object``, ``account_id``, ``date``, ``snippet``...) are ignored; they are refused
  only when they contradict the request (another id, another account, a changed subject
  on a message).  Unknown fields and parameters are still refused.  The whole table is also
  served at the root to requests that carry a token, since the SDKs build write URLs from
  the host alone; the web client's paths never carry one.
- Accounts are folder accounts: ``/labels`` is empty.  Contacts carry ``emails``,
  ``given_name`` and ``surname`` (the name split at its last space) beside ``email`` and
  ``name``.  Search (``/messages/search``, ``/threads/search``) is the web client's full-text
  index.  ``order_by`` is ``date`` (oldest first) or ``-date`` (the default).
- Ids are the store's integer ids as strings; files are ``a<n>`` (an attachment of the
  user's mail) or ``u<n>`` (uploaded through POST /files, waiting for a draft).  An upload keeps
  its bytes unless ``smaller=true`` asks for the compose page's "Send pictures smaller".
- /files lists a file's ``state`` (downloaded; on_relay: a placeholder, its bytes wait on the
  relay until asked for; requested; coming: big mail's bytes that follow their message) and a
  shrunk photo's ``original`` ({size, state}).  Downloading one not on the box answers 409 with
  what brings it; POST /files/{id}/request asks the relay, once for the whole box.
- Folders are the box's: inbox, outbox (sent mail still waiting for the next sync),
  sent, drafts, trash.  Moving is to the trash and back (PUT ``folder_id``).
- A draft's ``version`` counts its saves (from the change log); an edit, send or delete
  naming an older version gets 409 and changes nothing.
- A delta cursor is the id of the last change-log row the client has seen; repeated
  changes to one object within a page come as one delta, at its latest change.  One past
  the log's last row (garbage, another box's, an older card's) is a 400, as the sync-engine
  refused a cursor it did not know, rather than silence until the log catches up.
  Longpoll and streaming poll the log (the web client and the sync job write it too).
- Messages carry ``state`` (queued, delivered, uploaded, sent, failed) beside the
  sync-engine's fields: what the relay reported about mail sent from the box.
- Every refusal is JSON with the security headers of every answer: a body declared over
  its endpoint's limit (1 MB of JSON; uploads and raw MIME: the attachment limit) gets a 413
  from its Content-Length (``routes.OverLimit``), its body dropped as it comes so that a client
  sending it whole hears the answer (up to 30 MB; past that the connection closes after it),
  where Tornado alone would drop the connection.  HEAD is answered as GET without the body; OPTIONS with Allow, tokenless (it
  holds no mail).  A user has at most ``delta.MAX_WAITING`` longpolls and streams open at
  once and uploads at most ``store.uploads.DAY_BYTES`` a day (429s past them): a client
  looping cannot wear the box out.
- ``bcc`` (the field, thread participants, the ``bcc`` and ``any_email`` filters) holds
  something only in the sender's own copy.  ``from`` (or a raw message's From) must be the
  user's box address or one of their other addresses; the store refuses anything else, and
  the limits on attachments (kept ones counted) and recipients, with a 400 that says why.
"""
