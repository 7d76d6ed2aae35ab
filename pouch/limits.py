"""Limits on one message, defined once for both sides.

The box checks them when a message is written (web and API alike, in its
store), the relay where mail enters it: taking over a box's upload, the
SendGrid webhook and SMTP.  What goes over them is refused with a reason the
sender can read, never dropped in silence.
"""

# SendGrid's own limits: Mail Send takes at most 1,000 recipients in all, and a whole
# message (attachments included) of at most 30 MB; Inbound Parse posts at most 30 MB too.
MAX_RECIPIENTS = 1000
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
