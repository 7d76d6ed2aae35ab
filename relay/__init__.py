"""The relay: the cloud side that turns pouches into internet mail and
internet mail into pouches, for many boxes."""
