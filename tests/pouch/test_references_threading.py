"""A pouch carries References trimmed to the first and last three ids (RFC 5537 3.4.4);
the box still threads what it receives: shown on a real box store."""

from email.message import EmailMessage

from appliance.store import incoming, mailbox
from pouch.mime import parse
from tests.appliance.conftest import box_settings, engine, make_user, store  # noqa: F401 - fixtures

THREAD = [f"<{n}.thread@lists.example.org>" for n in range(10)]


def list_message(n):
    """Message ``n`` of a long thread whose subject changes each time (no subject fallback)."""
    message = EmailMessage()
    message["From"] = f"member{n}@lists.example.org"
    message["To"] = "alice@box.test"
    message["Subject"] = f"Point {n} of the plan" if n else "The plan"
    message["Date"] = f"Thu, 16 Nov 2023 10:{n:02d}:00 +0000"
    message["Message-ID"] = THREAD[n]
    if n:
        message["In-Reply-To"] = THREAD[n - 1]
        message["References"] = " ".join(THREAD[:n])
    message.set_content(f"Reply number {n}.")
    return message.as_bytes()


def deliver(store, n):
    record = parse(list_message(n), f"r{n}").record
    record.recipients = ["alice@box.test"]
    with store.write() as conn:
        return incoming.deliver_incoming(store, conn, record, {})


def thread_of(store, user, message_id):
    with store.read() as conn:
        return mailbox.message(conn, user["id"], message_id)["thread_id"]


def test_references_travel_trimmed():
    record = parse(list_message(9), "r9").record
    assert record.references == ["0.thread@lists.example.org", "6.thread@lists.example.org",
                                 "7.thread@lists.example.org", "8.thread@lists.example.org"]
    assert parse(list_message(9), "r9", reduced=False).record.references == [ref.strip("<>") for ref in THREAD[:9]]


def test_a_long_thread_stays_one_thread(store, make_user):  # noqa: F811 - fixtures
    alice = make_user("alice")
    threads = {thread_of(store, alice, deliver(store, n)) for n in range(10)}
    assert len(threads) == 1


def test_a_late_reply_finds_the_thread_by_its_start(store, make_user):  # noqa: F811 - fixtures
    alice = make_user("alice")
    start = thread_of(store, alice, deliver(store, 0))
    assert thread_of(store, alice, deliver(store, 9)) == start  # 1-8 never reached the box


def test_a_late_reply_finds_the_thread_by_a_near_ancestor(store, make_user):  # noqa: F811 - fixtures
    alice = make_user("alice")
    joined = thread_of(store, alice, deliver(store, 6))  # alice was added to the thread at 6
    assert thread_of(store, alice, deliver(store, 9)) == joined
