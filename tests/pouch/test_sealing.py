"""Sealed account settings: only the relay's private key opens them."""

import pytest

from pouch import sealing

SETTINGS = {"imap_host": "imap.example.org", "imap_port": 993, "username": "amani",
            "auth": "password", "password": "s3cret; with a semicolon"}


def test_the_relay_key_opens_what_a_box_sealed_and_nothing_shows_the_password():
    private, public = sealing.new_keypair()
    sealed = sealing.seal(public, SETTINGS)
    assert b"s3cret" not in sealed and b"amani" not in sealed
    assert sealing.unseal(private, sealed) == SETTINGS


def test_each_seal_differs_so_equal_passwords_do_not_show():
    _, public = sealing.new_keypair()
    assert sealing.seal(public, SETTINGS) != sealing.seal(public, SETTINGS)


def test_another_key_cannot_open_it():
    _, public = sealing.new_keypair()
    other_private, _ = sealing.new_keypair()
    with pytest.raises(sealing.SealError, match="does not open"):
        sealing.unseal(other_private, sealing.seal(public, SETTINGS))


@pytest.mark.parametrize("damage", [
    lambda sealed: sealed[:-1] + bytes([sealed[-1] ^ 1]),  # a flipped bit
    lambda sealed: sealed[:40],  # cut short
    lambda sealed: b"\x07" + sealed[1:],  # a version we do not know
    lambda sealed: "text",  # not bytes at all
])
def test_damaged_seals_are_refused_with_a_clear_error(damage):
    private, public = sealing.new_keypair()
    with pytest.raises(sealing.SealError):
        sealing.unseal(private, damage(sealing.seal(public, SETTINGS)))


def test_a_relay_key_file_is_made_once_owner_only_and_kept(tmp_path):
    from relay import keys, settings as relay_settings
    settings = relay_settings.load(environ={"MAILPOUCH_RELAY_DATA_DIR": str(tmp_path)})
    private, public = keys.account_keys(settings)
    assert keys.account_keys(settings) == (private, public)
    assert (tmp_path / "account.key").stat().st_mode & 0o077 == 0
    assert sealing.unseal(private, sealing.seal(public, SETTINGS)) == SETTINGS
