"""What went wrong, said in the reader's language.  A sync's or a relay's error is in the words
of a library ("[Errno 111] Connection refused"); pages name the kind of trouble in the user's
language, the original words following as detail."""

from appliance.store import addresses
from appliance.store.errors import N_

UNREACHABLE = ("could not reach", "connection refused", "could not resolve", "couldn't resolve",
               "name or service not known", "failed to connect", "network is unreachable", "no route to host",
               "connection reset")
TIMED_OUT = ("timed out", "timeout")

# (pieces of an error, what they mean) for a sync of the box ...
SYNC = (
    (UNREACHABLE, N_("The box could not reach the relay.")),
    (TIMED_OUT, N_("The relay did not answer in time.")),
    ((": 401", ": 403", "unauthori", "forbidden"), N_("The relay refused the box's credentials: register it again.")),
    (("modem", "link", "apn", "sim "), N_("The box could not get online.")),
)
# ... and for a message the relay could not deliver.
DELIVERY = (
    (UNREACHABLE + TIMED_OUT, N_("The relay could not reach the recipient's mail server.")),
    (("550", "551", "553", "no such user", "user unknown", "does not exist", "not found"),
     N_("The recipient's mail server does not know this address.")),
    (("552", "too large", "size"), N_("The message is too large for the recipient's mail server.")),
    (("554", "spam", "blocked", "rejected", "refused"), N_("The recipient's mail server refused the message.")),
)


def explain(locale, error, kinds):
    """``error`` for a page: the kind of trouble translated, then the detail."""
    lowered = error.lower()
    for pieces, meaning in kinds:
        if any(piece in lowered for piece in pieces):
            return f"{locale.translate(meaning)} ({error})"
    return error


def fates(row, box_domain):
    """[(address, state)] for each recipient of a message its sender reads: the box's own users
    had their copy at once ("delivered"), the others share the message's state from the relay."""
    pairs = [*addresses.loads(row["to_json"]), *addresses.loads(row.get("cc_json") or "[]"),
             *addresses.loads(row.get("bcc_json") or "[]")]
    emails = list(dict.fromkeys(email for _name, email in pairs))
    return [(email, "delivered" if addresses.domain_of(email) == box_domain else row["state"])
            for email in emails]
