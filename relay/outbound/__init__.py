"""Sending the mail boxes wrote: the queue, the transports, the background worker."""
