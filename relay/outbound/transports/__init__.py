"""Ways to hand a message to the internet, one module each behind one interface
(``base.Transport``): SendGrid v3 Mail Send, SMTP, a folder. ``[outbound] transport`` picks
one from TRANSPORTS: a new transport is its module and its line here."""

from .base import Outgoing, PermanentFailure, TemporaryFailure, Transport
from .folder import FolderTransport
from .sendgrid import SendGridTransport, mail_send_body
from .smtp import SmtpTransport, smtp_send

TRANSPORTS = {"folder": FolderTransport, "sendgrid": SendGridTransport, "smtp": SmtpTransport}

__all__ = ["TRANSPORTS", "FolderTransport", "Outgoing", "PermanentFailure", "SendGridTransport", "SmtpTransport",
           "TemporaryFailure", "Transport", "mail_send_body", "make_transport", "smtp_send"]


def make_transport(settings):
    """The transport named by the [outbound] settings; ValueError for one that does not exist."""
    kind = settings.outbound.transport
    if kind not in TRANSPORTS:
        raise ValueError(f"[outbound] transport '{kind}' is not one of {', '.join(sorted(TRANSPORTS))}")
    return TRANSPORTS[kind].from_settings(settings)
