# `make run` serves the API on SQLite; `make test` runs the whole suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench system-deps browser-deps clean

run: $(STAMP)
	$(BIN)/invoicing serve

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check invoicing tests bench
	$(BIN)/mypy

bench: $(STAMP)
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

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(MAKE) --no-print-directory system-deps
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) invoicing.db invoicing.db-wal invoicing.db-shm outbox
