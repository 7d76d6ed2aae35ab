"""The box's side of sync (DESIGN.md, "Sync handshake"): registration with a
relay, one sync job (``job``), its relay API client (``client``), idempotent
import of downloaded pouches (``importer``) and the schedule (``scheduler``)."""
