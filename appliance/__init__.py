"""The box: one Tornado process serving the web mail client, storing mail in
SQLite, and syncing with the relay in the scheduled window."""
