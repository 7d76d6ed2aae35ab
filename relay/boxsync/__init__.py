"""A box and its relay trading pouches: the handshake (sync), what goes down
(packing), what comes up (takeover), where the blobs live (blobstore)."""
