"""Languages: every string translated to French, the user's choice over the browser's."""

from babel.messages import pofile

from appliance import i18n


def test_french_catalogue_translates_every_string_of_the_client():
    with (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "appliance.po").open("rb") as source:
        catalogue = pofile.read_po(source)
    untranslated = [m for m in i18n.messages_in_sources() if not (catalogue.get(m) and catalogue.get(m).string)]
    assert untranslated == [], "translate these in appliance/locale/fr/LC_MESSAGES/appliance.po"
    assert "Send" in i18n.messages_in_sources() and "Boîte de réception" == catalogue.get("Inbox").string


def test_the_users_choice_wins_over_the_browser(client, make_user):
    make_user("amani")
    amani = client("amani")
    amani.headers["Accept-Language"] = "sw,en;q=0.5"
    assert "Kikasha" in amani.get("/").text  # the browser asks for Swahili
    amani.post("/settings", data={"action": "language", "language": "fr"})
    page = amani.get("/").text
    assert "Boîte de réception" in page and '<html lang="fr">' in page
    assert 'Rechercher' in page and "Inbox" not in page


def test_people_not_signed_in_can_choose_a_language(client):
    visitor = client()
    visitor.post("/language", data={"language": "fr"})
    page = visitor.get("/login").text
    assert "Se connecter" in page and "Mot de passe" in page
