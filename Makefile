# Two entry points a fresh machine needs (see README.md):
#   make atlas   install into .venv, then reports → geodata/atlas.gpkg + maps/
#   make test    install into .venv (and Debian's chromium for the browser tests), run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
REPORTS ?=

.PHONY: install atlas test chromium bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# Debian's chromium for the headless browser tests (never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

atlas: install
	$(BIN)/reportatlas build $(REPORTS)

test: install chromium
	$(BIN)/python -m pytest -q

bench: install chromium
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
