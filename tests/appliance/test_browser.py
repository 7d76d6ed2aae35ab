"""The mail client tried as people use it: a real headless Chromium on a small screen."""

import re
import time

from tests.appliance.conftest import DOMAIN, PASSWORD


def sign_up(page, name):
    page.goto("/signup")
    page.get_by_label("Address").fill(name)
    page.get_by_label("Your name").fill(name.title())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/")


def sign_in(page, name):
    page.goto("/login")
    page.get_by_label("Email").fill(f"{name}@{DOMAIN}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def write(page, to, subject, text, files=()):
    page.get_by_role("link", name="Write").click()
    page.get_by_label("To").fill(to)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(text)
    if files:
        page.get_by_label("Attachments").set_input_files(list(files))
    return page


def settled_value(field, timeout=5.0):
    """A field's value once the page's own script has filled it in (it does so after the response)."""
    deadline = time.monotonic() + timeout
    while not (value := field.input_value()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def open_message(page, subject):
    page.locator(".list a", has_text=subject).first.click()
    page.wait_for_url(re.compile(r".*/thread/\d+"))


def test_a_new_user_writes_replies_forwards_searches_and_reads_in_french(new_page, make_user):
    make_user("baraka")
    amani = new_page()
    sign_up(amani, "amani")

    # To a second user of the box, with an attachment shown before sending: arrives at once.
    write(amani, f"baraka@{DOMAIN}", "Harvest report", "The maize harvest was good.",
          files=[{"name": "yields.csv", "mimeType": "text/csv", "buffer": b"field,tons\nnorth,12\n"}])
    assert "yields.csv" in amani.locator("#chosen").inner_text()
    amani.get_by_role("button", name="Send").click()
    amani.wait_for_url("**/folder/sent")
    baraka = new_page()
    sign_in(baraka, "baraka")
    open_message(baraka, "Harvest report")
    assert "maize harvest" in baraka.locator(".mail-body").inner_text()
    with baraka.expect_download() as download:
        baraka.get_by_role("link", name="yields.csv").click()
    assert open(download.value.path(), "rb").read() == b"field,tons\nnorth,12\n"

    # To the outside world: waits in the outbox for the next sync.
    write(amani, "cousin@example.org", "Visit in May", "We expect you.")
    amani.get_by_role("button", name="Send").click()
    amani.wait_for_url("**/folder/outbox")
    assert "Waiting for the next sync" in amani.locator(".list").inner_text()

    # Reply, with bold text from the small editor.
    baraka.get_by_role("link", name="Reply", exact=True).click()
    assert f"amani@{DOMAIN}" in baraka.get_by_label("To").input_value()
    editor = baraka.get_by_label("Message")
    editor.press("Control+Home")
    baraka.get_by_role("button", name="Bold").click()
    editor.press_sequentially("Thanks")
    baraka.get_by_role("button", name="Send").click()
    baraka.wait_for_url("**/folder/sent")
    amani.goto("/")
    open_message(amani, "Re: Harvest report")
    assert amani.locator(".message").count() == 2  # the conversation, both messages
    assert amani.locator(".mail-body b", has_text="Thanks").count() == 1

    # Forward carries the attachment.
    amani.locator(".message").first.get_by_role("link", name="Forward").click()
    assert amani.get_by_label("yields.csv").is_checked()
    amani.get_by_label("To").fill(f"baraka@{DOMAIN}")
    amani.get_by_role("button", name="Send").click()
    baraka.goto("/")
    open_message(baraka, "Fwd: Harvest report")
    forwarded = baraka.locator(".message").last
    assert "Fwd: Harvest report" in baraka.title()
    assert forwarded.get_by_role("link", name="yields.csv").count() == 1

    # Search ranks and highlights.
    amani.get_by_label("Search").fill("maize")
    amani.get_by_role("button", name="Search").click()
    assert amani.locator(".list mark").first.inner_text().lower() == "maize"

    # French, chosen in the settings.
    amani.get_by_role("link", name="Settings").click()
    amani.get_by_label("Language").select_option("fr")
    amani.get_by_role("button", name="Save language").click()
    amani.goto("/")
    assert amani.get_by_role("heading").inner_text() == "Boîte de réception"
    amani.get_by_role("link", name="Écrire").click()
    for label in ("À", "Objet", "Message", "Pièces jointes"):
        assert amani.get_by_label(label, exact=True).count() == 1
    assert amani.get_by_role("button", name="Envoyer").is_visible()


def unlabelled_fields(page):
    """Visible form fields that no <label> (or aria-labelledby) names."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, [contenteditable=true]'))
        .filter(f => f.offsetParent !== null)
        .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-labelledby'))
        .map(f => f.outerHTML)""")


def test_pages_fit_a_small_phone_and_every_field_has_a_label(new_page, make_user):
    make_user("mama", is_admin=True)
    page = new_page()
    for path in ("/login", "/signup"):
        page.goto(path)
        assert unlabelled_fields(page) == []
    sign_in(page, "mama")
    for path in ("/", "/compose", "/search?q=x", "/settings", "/admin/users", "/admin/box"):
        page.goto(path)
        assert unlabelled_fields(page) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path


def test_a_draft_is_saved_while_writing(new_page, make_user):
    make_user("asha")
    page = new_page()
    sign_in(page, "asha")
    page.clock.install()
    page.goto("/compose")
    page.get_by_label("Subject").fill("Half written")
    page.get_by_label("Message").fill("The battery may die any moment")
    with page.expect_response("**/compose") as saved:
        page.clock.run_for(21000)
    assert saved.value.status == 200
    draft_id = settled_value(page.locator("input[name=draft_id]"))
    assert draft_id
    page.goto("/folder/drafts")
    page.get_by_text("Half written").click()
    assert "battery may die" in page.get_by_label("Message").inner_text()
    assert page.locator("input[name=draft_id]").input_value() == draft_id
