"""Translations: gettext catalogues in appliance/locale, compiled to .mo at build time.

``python -m appliance.i18n`` compiles every catalogue (``make catalogues`` runs it).
"""

import logging
import re
import sys
from pathlib import Path

import tornado.locale
from babel.messages import mofile, pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python

log = logging.getLogger(__name__)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "appliance"
PACKAGE_DIR = LOCALE_DIR.parent
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
LANGUAGES = {"en": "English", "fr": "Français", "ln": "Lingála", "sw": "Kiswahili"}


def messages_in_sources(package_dir=PACKAGE_DIR):
    """Every translatable string: ``_("...")`` in templates, ``_``/``N_`` in Python modules."""
    found = set()
    for path in sorted(package_dir.rglob("*.html")):
        found.update(a or b for a, b in TEMPLATE_CALL.findall(path.read_text(encoding="utf-8")))
    for path in sorted(package_dir.rglob("*.py")):
        with path.open("rb") as source:
            for _line, _function, message, _comments in extract_python(
                    source, ("_", "N_"), [], {}):
                if isinstance(message, str):
                    found.add(message)
    return sorted(found)


def write_template(path=LOCALE_DIR / f"{DOMAIN}.pot"):
    """The .pot that translators start from (``python -m appliance.i18n extract``)."""
    catalogue = Catalog(project="Mailpouch", domain=DOMAIN)
    for message in messages_in_sources():
        catalogue.add(message)
    with open(path, "wb") as target:
        pofile.write_po(target, catalogue, omit_header=False, sort_output=True)
    return path


def catalogue_paths(locale_dir=LOCALE_DIR):
    return sorted(Path(locale_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogues(locale_dir=LOCALE_DIR):
    """Write each .po as a .mo beside it; returns the paths written."""
    written = []
    for po_path in catalogue_paths(locale_dir):
        with po_path.open("rb") as source:
            catalogue = pofile.read_po(source, locale=po_path.parent.parent.name, domain=DOMAIN)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as target:
            mofile.write_mo(target, catalogue)
        written.append(mo_path)
    return written


def load(locale_dir=LOCALE_DIR):
    """Load the compiled catalogues into Tornado; English is the source language."""
    if not list(Path(locale_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
        log.warning("no compiled translations in %s: pages will be in English only "
                    "(run `make catalogues`)", locale_dir)
    tornado.locale.load_gettext_translations(str(locale_dir), DOMAIN)
    tornado.locale.set_default_locale("en_US")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["extract"]:
        print(f"wrote {write_template()}")
        return 0
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
