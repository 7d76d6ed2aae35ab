"""The box on a 360 px phone, in a real headless Chromium: every page fits, and a compose form
makes one message however it is sent, reloaded or gone Back to."""

import re

import tornado.web

from appliance.store import mailbox, messages, sync_usage
from appliance.sync.job import SyncResult
from appliance.web import app as web
from tests.appliance.conftest import DOMAIN
from tests.appliance.test_browser import settled_value, sign_in, write

LONG = "Rapport-de-la-recolte-de-mais-du-district-nord-" * 3  # no space to break at
NOT_PAGES = {"/logout", "/language"}  # forms' targets only


def pages_without_parameters():
    """Every path of the web client a person can open (a GET handler, nothing to fill in; the
    phones' connectivity checks are regular expressions and answer them, not people)."""
    for pattern, handler, *_ in web.routes({"store": None}):
        if not isinstance(pattern, str):  # the over-limit refusal's matcher: no page of its own
            continue
        is_page = handler.get is not tornado.web.RequestHandler.get and pattern not in NOT_PAGES
        if is_page and not set("()\\") & set(pattern):
            yield pattern


def some_of_everything(store, make_user):
    """An admin with mail of every kind, long words and addresses, a failed sync in the history."""
    mama, baraka = make_user("mama", is_admin=True), make_user("baraka")
    with store.write() as conn:
        to_both = messages.Draft(to=[("", f"baraka@{DOMAIN}"), ("", f"{LONG[:60]}@example.org")],
                                 cc=[("Someone With A Very Long Name Indeed", "cc.person@example.org")],
                                 subject=LONG, body=LONG + "\n" + "http://example.org/" + LONG,
                                 new_files=[messages.NewFile(LONG[:80] + ".csv", "text/csv", b"a,b\n")])
        sent_id = messages.send(store, conn, mama, to_both)
        messages.send(store, conn, baraka, messages.Draft(to=[("", f"mama@{DOMAIN}")], subject="Re: " + LONG,
                                                         body="Thanks " + LONG))
        messages.save_draft(store, conn, mama, messages.Draft(subject="Draft " + LONG, body=LONG))
        failed = SyncResult(started_at=1_796_000_000, finished_at=1_796_000_100,
                            error="could not reach the relay at https://" + LONG + ".example.org: Connection refused")
        sync_usage.record(conn, failed)
        thread_id = mailbox.message(conn, mama["id"], sent_id)["thread_id"]
    return thread_id, sent_id


def test_every_page_fits_a_360px_phone_signed_in_as_an_admin(new_page, make_user, store):
    thread_id, sent_id = some_of_everything(store, make_user)
    page = new_page()
    sign_in(page, "mama")
    paths = [*pages_without_parameters(), *(f"/folder/{name}" for name in mailbox.FOLDERS),
             f"/thread/{thread_id}", f"/compose?reply={sent_id}", f"/compose?forward={sent_id}",
             f"/compose?reply_all={sent_id}", "/search?q=" + LONG[:20]]
    assert {"/admin", "/admin/sync", "/admin/modem", "/admin/box", "/settings/tokens"} <= set(paths)
    too_wide = {}
    for path in paths:
        assert page.goto(path).ok, path
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
    assert too_wide == {}


def test_the_admin_finds_every_admin_page_from_the_menu_and_the_active_folder_is_marked(new_page, make_user):
    make_user("mama", is_admin=True)
    page = new_page()
    sign_in(page, "mama")
    assert page.locator("nav a[aria-current=page]").inner_text().startswith("Inbox")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin")
    for name in ("Users", "Sync, schedule and data used", "Modem", "Box settings"):
        assert page.locator("main").get_by_role("link", name=name).count() == 1
    page.locator("main").get_by_role("link", name="Box settings").click()
    assert "will appear here" not in page.content()
    page.goto("/folder/sent")
    assert page.locator("nav a[aria-current=page]").inner_text() == "Sent"


def inbox_subjects(store, user):
    with store.read() as conn:
        return [row["subject"] for row in mailbox.list_folder(conn, user["id"], "inbox")[0]]


def written_to_baraka(new_page, make_user, subject, body):
    """(page, baraka): amani's compose page, written to baraka and not sent yet."""
    make_user("amani")
    baraka = make_user("baraka")
    page = new_page()
    sign_in(page, "amani")
    write(page, f"baraka@{DOMAIN}", subject, body)
    return page, baraka


def test_a_double_click_on_send_sends_one_message(new_page, make_user, store):
    page, baraka = written_to_baraka(new_page, make_user, "Once only", "One copy, please.")
    page.get_by_role("button", name="Send").dblclick()
    page.wait_for_url("**/folder/sent")
    assert inbox_subjects(store, baraka) == ["Once only"]


def test_back_after_sending_does_not_send_again(new_page, make_user, store):
    page, baraka = written_to_baraka(new_page, make_user, "Sent once", "Hello.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/folder/sent")
    page.go_back()
    assert re.search(r"/compose\?form=[0-9a-f]{32}", page.url)
    if page.get_by_role("button", name="Send").count():  # a browser that kept the page as it was
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**/folder/sent")
    else:
        assert "This message was sent already." in page.locator("main").inner_text()
    assert inbox_subjects(store, baraka) == ["Sent once"]


def test_reloading_compose_brings_back_what_was_typed(new_page, make_user):
    make_user("amani")
    page = new_page()
    sign_in(page, "amani")
    write(page, "cousin@example.org", "Half written", "The first lines")
    page.get_by_text("Cc and Bcc").click()
    page.get_by_label("Cc", exact=True).fill("aunt@example.org")
    page.reload()  # before any autosave
    assert settled_value(page.get_by_label("To")) == "cousin@example.org"
    assert page.get_by_label("Subject").input_value() == "Half written"
    assert page.get_by_label("Cc", exact=True).input_value() == "aunt@example.org"
    assert "The first lines" in page.get_by_label("Message").inner_text()

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/compose?form=*")
    page.evaluate("window.sessionStorage.clear()")
    page.reload()  # now from the draft on the box
    assert page.get_by_label("Subject").input_value() == "Half written"
    assert "The first lines" in page.get_by_label("Message").inner_text()
    page.goto("/folder/drafts")
    assert page.locator(".list li").count() == 1  # saved twice, one draft


def test_the_attachment_marker_needs_no_emoji_font(new_page, make_user, store):
    amani = make_user("amani")
    with store.write() as conn:
        messages.save_draft(store, conn, amani, messages.Draft(
            subject="With a file", new_files=[messages.NewFile("a.txt", "text/plain", b"a")]))
    page = new_page()
    sign_in(page, "amani")
    page.goto("/folder/drafts")
    assert page.locator(".list svg.clip").count() == 1 and "\U0001f4ce" not in page.content()
    favicon = page.request.get(page.locator("link[rel=icon]").get_attribute("href"))
    assert favicon.ok and favicon.headers["content-type"] == "image/svg+xml"
    assert "default-src" in favicon.headers["content-security-policy"]
