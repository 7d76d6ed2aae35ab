# Mailpouch: `make run` starts a relay and a box locally; `make test` installs
# what the tests need and runs them.  Both work on a fresh Debian machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-deps system-deps bench clean

run: $(VENV)/.installed
	$(BIN)/python scripts/run-local

test: test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-deps: system-deps $(VENV)/.installed-test node_modules/.installed

bench: $(VENV)/.installed-test
	for script in bench/*.py; do $(BIN)/python $$script --quick || exit 1; done

system-deps:
	./scripts/install-system-deps

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV) || { ./scripts/install-system-deps && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip setuptools
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

clean:
	rm -rf $(VENV) node_modules var build *.egg-info
