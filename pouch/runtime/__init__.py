"""The process plumbing the box and the relay share, apart from the pouch format:
settings files (settings), a service's start and stop (service), JSON log lines
(logs) and the database engine (database)."""
