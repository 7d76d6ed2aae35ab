"""`mailpouch-appliance user list|admin|password|suspend`: what an admin does from the shell,
seen by the users of a running box."""

from tests.appliance.conftest import DOMAIN, PASSWORD
from tests.appliance.test_cli import run_cli


def test_user_list_shows_addresses_roles_and_suspension(box_settings, make_user):
    assert "no users yet" in run_cli(box_settings, "user", "list").stdout
    make_user("mama", is_admin=True), make_user("kito")
    run_cli(box_settings, "user", "suspend", "kito")
    lines = run_cli(box_settings, "user", "list").stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        [f"kito@{DOMAIN}", "user", "suspended"], [f"mama@{DOMAIN}", "admin", "active"]]


def test_user_admin_makes_an_existing_user_admin_and_off_again(box_settings, make_user, client):
    make_user("mama", is_admin=True), make_user("amani")
    assert "already taken" in run_cli(box_settings, "user", "add", "amani", "--admin").stderr
    made = run_cli(box_settings, "user", "admin", "amani")
    assert made.returncode == 0 and f"amani@{DOMAIN} is now an admin" in made.stdout
    assert client("amani").get("/admin/users").status_code == 200
    run_cli(box_settings, "user", "admin", f"amani@{DOMAIN}", "--off")
    assert client("amani").get("/admin/users").status_code == 403
    last = run_cli(box_settings, "user", "admin", "mama", "--off")
    assert last.returncode != 0 and "at least one admin" in last.stderr
    unknown = run_cli(box_settings, "user", "admin", "nobody")
    assert unknown.returncode != 0 and f"no user nobody@{DOMAIN}" in unknown.stderr


def test_user_password_reads_stdin_and_ends_the_sessions(box_settings, make_user, client):
    make_user("kito")
    signed_in = client("kito")
    changed = run_cli(box_settings, "user", "password", "kito", password="a new long secret\n")
    assert changed.returncode == 0, changed.stderr
    assert signed_in.get("/").url.endswith("/login?next=%2F")
    assert "Wrong address or password" in client().post(
        "/login", data={"email": "kito", "password": PASSWORD}).text
    assert client().post("/login", data={"email": "kito", "password": "a new long secret"}).url.endswith("/")
    short = run_cli(box_settings, "user", "password", "kito", password="short\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr


def test_a_suspended_user_cannot_sign_in_and_keeps_their_mail(box_settings, make_user, client):
    make_user("mama", is_admin=True), make_user("kito")
    client("mama").post("/compose", data={"to": f"kito@{DOMAIN}", "subject": "Before the break",
                                          "body": "Kept.", "action": "send"})
    signed_in = client("kito")
    suspended = run_cli(box_settings, "user", "suspend", "kito")
    assert suspended.returncode == 0 and "is suspended" in suspended.stdout
    assert signed_in.get("/").url.endswith("/login?next=%2F")
    assert "suspended" in client().post("/login", data={"email": "kito", "password": PASSWORD}).text
    assert run_cli(box_settings, "user", "suspend", "kito", "--off").returncode == 0
    assert "Before the break" in client("kito").get("/").text
    last = run_cli(box_settings, "user", "suspend", "mama")
    assert last.returncode != 0 and "at least one admin" in last.stderr
