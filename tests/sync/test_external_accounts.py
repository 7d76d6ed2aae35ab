"""Other addresses through a real relay (Azurite behind it): the box learns the relay's
key, an account added on the box reaches the relay sealed, in a pouch of its own, and
with a real Dovecot behind the account, its mail comes to the box and read state goes back."""

import pytest
import sqlalchemy as sa

from appliance.store import boxinfo, mailbox, other_addresses, sync_state
from appliance.store.other_address_form import AccountForm
from appliance.store.other_address_tables import other_addresses as accounts_table
from appliance.store.messages import INBOX
from pouch import sealing
from relay import keys
from relay.schema import accounts as relay_accounts
from tests.relay.accounts_support import FAST, accounts_running, message, queued_subjects, until

SECRET = "app-pass-through-the-relay"


@pytest.fixture
def relay_overrides(relay_overrides):
    """The sync tests' relay, with the account supervisor's quick retries."""
    return {**relay_overrides, **FAST}


def add_gmail(box, user):
    form = AccountForm(address="marie@gmail.com", imap_host="imap.gmail.com", imap_port="993",
                       smtp_host="smtp.gmail.com", smtp_port="465", password=SECRET)
    with box.store.write() as conn:
        return other_addresses.add(conn, user, form, sync_state.account_key(conn), box.settings.box.domain)


def box_account(box, account_id):
    with box.store.read() as conn:
        return conn.execute(accounts_table.select().where(accounts_table.c.id == account_id)).mappings().one()


def relay_account(relay, account_id):
    with relay.engine.connect() as conn:
        return conn.execute(sa.select(relay_accounts).where(
            relay_accounts.c.box_account_id == account_id)).mappings().first()


@pytest.mark.gen_test(timeout=60)
async def test_a_box_registered_before_accounts_gets_the_key_at_its_next_sync(relay, make_box):
    goma = await make_box("goma")
    relay_public = keys.account_keys(relay.settings)[1]
    with goma.store.read() as conn:
        assert sync_state.account_key(conn) == relay_public  # from registration
    with goma.store.write() as conn:
        boxinfo.put(conn, sync_state.ACCOUNT_KEY, "")  # as a box registered before issue #9
    result = await goma.sync()
    assert result.ok, result.error
    with goma.store.read() as conn:
        assert sync_state.account_key(conn) == relay_public


@pytest.mark.gen_test(timeout=60)
async def test_an_account_added_on_the_box_reaches_the_relay_sealed(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    account_id = add_gmail(goma, marie)
    result = await goma.sync()  # nothing in the outbox: the account alone makes an upload
    assert result.ok, result.error
    assert result.bytes_up > 0 and result.messages_up == 0
    assert box_account(goma, account_id)["sealed"] is None  # the relay has it: the box forgets it
    taken = relay_account(relay, account_id)
    assert taken is not None, "the relay did not take the account"
    assert (taken["owner"], taken["address"], taken["state"]) == (
        "marie@goma.relay.test", "marie@gmail.com", "active")
    assert sealing.unseal(keys.account_keys(relay.settings)[0], taken["sealed"])["password"] == SECRET
    with goma.store.write() as conn:
        other_addresses.remove(conn, marie["id"], account_id)
    assert (await goma.sync()).ok
    assert relay_account(relay, account_id) is None  # removed: its credentials with it


@pytest.mark.gen_test(timeout=90)
async def test_mail_of_an_account_comes_to_the_box_tagged_and_read_state_goes_back(relay, make_box, dovecot):
    address = dovecot.add_user("marie@elsewhere.example", "imap-secret")
    dovecot.seed(address, [message("Habari from far", 0.5, to=address),
                           message("Read on the phone", 1, seen=True, to=address)])
    goma = await make_box("goma")
    marie = goma.user("marie")
    form = AccountForm(address=address, imap_host=dovecot.host, imap_port=str(dovecot.port),
                       imap_security="none", smtp_host="127.0.0.1", smtp_port="2525", smtp_security="none",
                       password="imap-secret")
    with goma.store.write() as conn:
        account_id = other_addresses.add(conn, marie, form, sync_state.account_key(conn),
                                           goma.settings.box.domain)
    async with accounts_running(relay):
        assert (await goma.sync()).ok  # the account goes up
        await until(lambda: len(queued_subjects(relay)) == 2, "the account's mail queued for the box")
        assert (await goma.sync()).ok  # its mail comes down
        inbox = {row["subject"]: row for row in goma.folder(marie, INBOX)}
        assert set(inbox) == {"Habari from far", "Read on the phone"}
        assert all(row["account_id"] == account_id for row in inbox.values())
        assert (inbox["Habari from far"]["is_read"], inbox["Read on the phone"]["is_read"]) == (False, True)
        assert box_account(goma, account_id)["relay_state"] == "syncing"
        with goma.store.write() as conn:  # Marie reads it on the box
            mailbox.set_flags(conn, marie["id"], [inbox["Habari from far"]["id"]], is_read=True)
        assert (await goma.sync()).ok  # the read state goes up
        await until(lambda: dovecot.seen_subjects(address)["Habari from far"], "read on the IMAP server")
