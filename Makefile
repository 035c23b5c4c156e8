# `make run` serves the API on SQLite; `make test` runs the whole suite. Both set everything up.
#   make run PORT=8080 HOST=0.0.0.0    listen elsewhere (default 127.0.0.1:8000)
#   make clean                         delete what the service and the tools wrote here (the
#                                      SQLite database and its key included); keeps .venv
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Set on make's command line only: some shells export HOST (the machine's name) to every program.
HOST := 127.0.0.1
PORT := 8000
# What is installed, each redone when pyproject.toml changes: the package alone to serve it, the
# package with its dev extras (pytest, mypy, ruff, Playwright...) to test, lint and bench it.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench system-deps browser-deps clean

run: $(RUN_STAMP)
	$(BIN)/invoicing serve --host '$(HOST)' --port '$(PORT)'

test: $(DEV_STAMP) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check invoicing tests bench
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m bench --soak 60

# WeasyPrint renders PDFs with Pango and HarfBuzz from the system; install them when missing.
system-deps:
	@if ! ldconfig -p | grep -q libharfbuzz-subset || ! ldconfig -p | grep -q libpangoft2 \
	   || ! fc-list 2>/dev/null | grep -qi dejavu; then \
	  echo "Installing WeasyPrint's system libraries (Pango, HarfBuzz, DejaVu fonts)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; \
	fi

# The console's browser tests drive Debian's Chromium (Playwright's own browser download is not
# used); only `make test` needs it.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Chromium for the console's browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium >/dev/null; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(MAKE) --no-print-directory system-deps
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The dev extras hold everything the package needs too, so `make run` after it installs nothing.
# The Python client (clients/python) is installed beside it, built with the venv's setuptools.
$(DEV_STAMP): pyproject.toml clients/python/pyproject.toml | $(VENV)/bin/python
	$(MAKE) --no-print-directory system-deps
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-build-isolation -e clients/python
	touch $(DEV_STAMP) $(RUN_STAMP)

# Everything `invoicing serve`, the tests, the linters and packaging write in this directory, and
# nothing else: the SQLite database (with its WAL, shared memory, key and migration lock files),
# the outbox of mails sent without SMTP, tool caches and build output. The virtualenv stays.
clean:
	rm -rf invoicing.db invoicing.db-wal invoicing.db-shm invoicing.db-journal \
	  invoicing.db.key invoicing.db.migrate-lock outbox \
	  .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info \
	  clients/python/build clients/python/dist clients/python/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
