# Mailpouch: `make run` starts a relay and a box locally; `make test` installs
# what the tests need and runs them.  Both work on a fresh Debian machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint test-deps system-deps bench clean catalogues

run: $(VENV)/.installed catalogues
	$(BIN)/python scripts/run-local

test: test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The rules in pyproject.toml: pyflakes, syntax and the few checks the code's noqa comments name.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test-deps: system-deps $(VENV)/.installed-test node_modules/.installed catalogues

# The box's translations: .po sources compiled to the .mo files gettext loads.
catalogues: $(VENV)/.installed
	$(BIN)/python -m appliance.i18n

bench: $(VENV)/.installed-test
	./scripts/install-system-deps plasma-workspace-wallpapers spamassassin spamd spamc
	for script in bench/*.py; do $(BIN)/python $$script --quick || exit 1; done

system-deps:
	./scripts/install-system-deps

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV) || { ./scripts/install-system-deps && $(PYTHON) -m venv $(VENV); }
	# pytest-tornado still imports pkg_resources, which setuptools 81 dropped.
	$(BIN)/python -m pip install -q --upgrade pip 'setuptools>=66,<81'
	touch $@

$(VENV)/.installed: $(VENV)/.created setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q -e '.[relay]'
	touch $@

# The test extra builds dbus-python, which needs the Debian headers first.
$(VENV)/.installed-test: $(VENV)/.installed | system-deps
	$(BIN)/python -m pip install -q -e '.[relay,test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages (mailpouch-appliance, mailpouch-relay) in var/deb/.
.PHONY: deb deb-test test-system-python
deb:
	./scripts/build-deb

# Slow, needs root: the packages in a debootstrapped bookworm root (cached in
# var/debootstrap/), systemd-analyze verify and lintian.
deb-test: deb $(VENV)/.installed-test
	MAILPOUCH_DEB_TEST=1 $(BIN)/python -m pytest tests/debian $(PYTEST_ARGS)

# The suite on Debian's python3 packages, as the box runs it (no venv).
test-system-python:
	./scripts/test-system-python $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules var build *.egg-info
