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

# What a box chooses for what comes down (its admin page; BoxSettingsRecord): spam is held on the
# relay at or above the threshold, and an attachment over the limit comes as a placeholder.  The
# relay clamps what a box sends to the same bounds.
SPAM_THRESHOLD_DEFAULT = 5.0  # SpamAssassin's own required_score
SPAM_THRESHOLD_MIN, SPAM_THRESHOLD_MAX = 1.0, 20.0
ATTACHMENT_LIMIT_DEFAULT = 200 * 1024  # bytes: a document or a phone-sized photo comes at once
ATTACHMENT_LIMIT_MAX = MAX_MESSAGE_BYTES  # 0 (every attachment on request) up to this

# Requests (and verdicts, settings) one upload carries: far more than a box's users ask for between
# two syncs.  The box packs at most this many, oldest first (the rest ride the next upload); the
# relay takes at most this many of an upload and refuses the rest with a logged reason.
MAX_REQUESTS_PER_UPLOAD = 500
