"""Adding another address as a person does it: a real headless Chromium on a 360 px phone,
with JavaScript off (the whole flow is plain forms)."""

import pytest

from tests.appliance.conftest import DOMAIN, PASSWORD
from tests.appliance.test_external_accounts import SECRET, give_relay_key


@pytest.fixture
def phone_without_script(browser, box_url):
    context = browser.new_context(base_url=box_url, viewport={"width": 360, "height": 740},
                                  java_script_enabled=False)
    context.set_default_timeout(10000)
    yield context.new_page()
    context.close()


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_adding_pausing_and_removing_an_address_on_a_phone_without_javascript(
        phone_without_script, make_user, store):
    give_relay_key(store)
    make_user("amani")
    page = phone_without_script
    page.goto("/login")
    page.get_by_label("Email").fill(f"amani@{DOMAIN}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    page.goto("/settings")
    page.get_by_role("link", name="Your other addresses").click()
    page.get_by_label("Your other address").fill("amani@gmail.com")
    page.get_by_role("button", name="Next").click()
    assert page.get_by_label("Server").first.input_value() == "imap.gmail.com"
    assert page.get_by_label("User name").input_value() == "amani@gmail.com"
    assert fits_the_screen(page)

    page.get_by_label("Password or app password", exact=True).fill("")
    page.get_by_role("button", name="Add").click()  # forgot the password
    assert "Give the password" in page.locator(".error").inner_text()
    assert page.get_by_label("Server").first.input_value() == "imap.gmail.com"  # nothing else to retype
    page.get_by_label("Password or app password", exact=True).fill(SECRET)
    page.get_by_role("button", name="Add").click()
    page.wait_for_url("**/settings/addresses?saved=added")
    listed = page.locator(".accounts li", has_text="amani@gmail.com")
    assert "Waiting for the next sync" in listed.inner_text()
    assert SECRET not in page.content() and fits_the_screen(page)

    listed.get_by_role("button", name="Pause").click()
    assert "Paused" in page.locator(".accounts li").inner_text()
    page.locator(".accounts li").get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/settings/addresses?saved=removed")
    assert page.locator(".accounts li").count() == 0
