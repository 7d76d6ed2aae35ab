"""Languages: every string translated to each language offered, the user's choice over the browser's."""

import re

import pytest
from babel.messages import pofile

from appliance import i18n

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TRANSLATED = [code for code in i18n.LANGUAGES if code != "en"]  # English is the source


def catalogue(code):
    with (i18n.LOCALE_DIR / code / "LC_MESSAGES" / "appliance.po").open("rb") as source:
        return pofile.read_po(source)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_offered_language_translates_every_string_of_the_client(code):
    found = catalogue(code)
    sources = i18n.messages_in_sources()
    untranslated = [m for m in sources if not (found.get(m) and found.get(m).string)]
    assert untranslated == [], f"translate these in appliance/locale/{code}/LC_MESSAGES/appliance.po"
    # A placeholder lost or misspelt in a translation is a KeyError on the page that shows it.
    broken = [m for m in sources if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(found.get(m).string))]
    assert broken == []
    assert "Send" in sources


# Lingala's words for the box's own things, one each wherever the English names them.
LINGALA_TERMS = {r"\bsync": "kokanis", r"\brelay": "relais", r"\bbox\b": "sanduku", r"\bpassword": "ya sekele",
                 r"\battachment": "bikangami", r"\bdraft": "ebandeli", r"\badmin": "mokambi",
                 r"\busers?\b": "mosaleli|basaleli"}


def test_lingala_names_each_thing_of_the_box_with_one_word():
    found = catalogue("ln")
    astray = [(message, found.get(message).string) for message in i18n.messages_in_sources()
              for english, lingala in LINGALA_TERMS.items()
              if re.search(english, message, re.I) and not re.search(lingala, found.get(message).string, re.I)]
    assert astray == []


def test_the_languages_offered_are_the_catalogues_there_are():
    assert sorted(TRANSLATED) == sorted(path.parent.parent.name for path in i18n.catalogue_paths())
    assert catalogue("fr").get("Inbox").string == "Boîte de réception"
    assert catalogue("ln").get("Sync now").string == "Kokanisa sikoyo"


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
