"""External IMAP accounts of box users (issue #9): the relay syncs each one and queues its
mail for the owner's box like inbound mail; mail the owner sends from the address goes out
through the account's own SMTP server.

- registry: the accounts table — AccountRecords from boxes, operator start/stop, claims.
- credentials: opening the sealed settings in memory; XOAUTH2 access tokens.
- imap: one IMAP connection (TLS/STARTTLS/plain, IDLE, CONDSTORE) behind a small interface.
- mailmap: the folders and the map of synced messages (dedupe, read state to send back, the
  account tags on its mail in pouches).
- inbox: the sync of one account's inbox over a connection, batch by batch.
- statuses: AccountStatusRecords and FlagRecords owed to boxes (relay.owed).
- session, runner, supervisor: one task per active account, with backoff, in each relay process.
"""
