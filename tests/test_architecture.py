"""The import rules (README, docs/decisions.md): appliance -> pouch, hardware; relay -> pouch;
pouch and hardware import no other project package; the box's two front doors, the web pages
and the JSON API, do not import each other; nothing imports appliance from relay or back.
Imports are read with `ast`, so one inside a function counts too."""

import ast
import sys

import pytest

from tests.conftest import ROOT

PACKAGES = ("appliance", "relay", "pouch", "hardware", "migrations")


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path):
    """The modules the file at ``path`` imports, relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            # `from package import module` imports that module too.
            yield from (f"{module}.{alias.name}" for alias in node.names)


def imports_of(package):
    """{module: modules it imports} for every module of ``package``."""
    return {module_name(path): set(imported(path)) for path in sorted((ROOT / package).rglob("*.py"))}


def within(name, package):
    return name == package or name.startswith(package + ".")


def breaking(importer, forbidden):
    """"module imports name" for each import of a module of ``importer`` from a ``forbidden`` one."""
    return sorted(f"{module} imports {name}" for module, names in imports_of(importer).items()
                  for name in names if any(within(name, package) for package in forbidden))


@pytest.mark.parametrize("package", ["pouch", "hardware"])
def test_the_shared_packages_import_no_other_project_package(package):
    assert breaking(package, [other for other in PACKAGES if other != package]) == []


@pytest.mark.parametrize("importer, forbidden", [("relay", "appliance"), ("appliance", "relay")])
def test_the_relay_and_the_box_never_import_each_other(importer, forbidden):
    assert breaking(importer, [forbidden]) == []


# Both are mounted by the composition root above them, appliance.server.
@pytest.mark.parametrize("importer, forbidden", [("appliance.web", "appliance.api"),
                                                 ("appliance.api", "appliance.web")])
def test_the_web_pages_and_the_api_do_not_import_each_other(importer, forbidden):
    assert breaking(importer.replace(".", "/"), [forbidden]) == []


def test_the_rules_see_an_import_that_breaks_them(tmp_path, monkeypatch):
    """The check itself can fail: a relative and a late import are both found."""
    package = tmp_path / "pouch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "late.py").write_text("def f():\n    from relay import boxes\n")
    (package / "near.py").write_text("from . import late\nfrom .late import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert breaking("pouch", ["relay"]) == ["pouch.late imports relay", "pouch.late imports relay.boxes"]
    assert {"pouch.late", "pouch.late.f"} <= imports_of("pouch")["pouch.near"]
