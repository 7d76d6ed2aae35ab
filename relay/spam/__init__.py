"""Spam stays on the relay: inbound mail scored by SpamAssassin's spamd for the box it is for
(each box trains its own Bayes), held at the box's threshold as one HeldRecord line, brought
when the box asks, and cleared with the rest after retention."""
