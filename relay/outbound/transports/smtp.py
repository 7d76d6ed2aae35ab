"""SMTP: the message as MIME (pouch.mime.build) handed to the operator's SMTP relay, or, through
``smtp_send``, to the server of a box user's own account (relay.outbound.accounts)."""

import smtplib
import ssl

from pouch import mime

from .base import PermanentFailure, TemporaryFailure, Transport, reply_text


class SmtpTransport(Transport):
    def __init__(self, config):
        self.config = config  # the [outbound] settings
        self.timeout_s = config.timeout_s

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.outbound)

    def send(self, message):
        config = self.config
        login = (lambda smtp: smtp.login(config.smtp_user, config.smtp_password)) if config.smtp_user else None
        # context None: smtplib's own, which does not check the operator's relay's certificate
        return smtp_send(mime.build(message.record, message.blobs), message.sender, message.recipients,
                         config.smtp_host, config.smtp_port, "starttls" if config.smtp_starttls else "none",
                         config.timeout_s, login=login)


def smtp_send(raw, sender, recipients, host, port, security, timeout_s, login=None, context=None):
    """Hand ``raw`` to an SMTP server; returns a note on recipients it did not accept.

    ``security``: "tls" (from the start), "starttls" or "none"; ``login(smtp)`` authenticates.
    Raises TemporaryFailure or PermanentFailure, with a reason for people.
    """
    where = f"the SMTP server {host}:{port}"
    try:
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout_s)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if login is not None:
                login(smtp)
            # Addresses beyond ASCII need the server's SMTPUTF8 (RFC 6531), else it cannot take them.
            utf8 = not all(address.isascii() for address in (sender, *recipients))
            refused = smtp.sendmail(sender, recipients, raw, mail_options=["SMTPUTF8"] if utf8 else [])
    except smtplib.SMTPAuthenticationError as error:
        raise PermanentFailure(f"{where} refused the user name or password "
                               f"({error.smtp_code} {reply_text(error.smtp_error)})") from None
    except smtplib.SMTPNotSupportedError as error:
        raise PermanentFailure(f"{where} cannot do this ({error}); check the account's SMTP settings") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise _by_code(min(code for code, _ in error.recipients.values()),
                       f"all recipients refused: {_replies(error.recipients)}") from None
    except smtplib.SMTPResponseException as error:
        raise _by_code(error.smtp_code, f"SMTP {error.smtp_code} {reply_text(error.smtp_error)}") from None
    except ssl.SSLCertVerificationError as error:
        raise PermanentFailure(f"the certificate of {where} could not be verified ({error.verify_message})") from None
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"{where}: {error}") from None
    if refused:
        return f"not accepted for {_replies(refused)}"
    return ""


def _by_code(code, reason):
    return TemporaryFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)


def _replies(refused):
    return "; ".join(f"{address}: {code} {reply_text(reply)}" for address, (code, reply) in refused.items())
