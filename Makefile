# Two commands set up everything on a fresh Linux machine (Python 3.11+, Node.js/npm):
#   make demo   - the service with searchable demo courses on http://127.0.0.1:8000
#   make test   - the whole test suite against real Meilisearch, SeaweedFS S3, SQLite, PostgreSQL

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coursefed-installed

.PHONY: demo test install browser nginx lint bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/coursefed demo

# Browser tests drive the distribution's Chromium; a test tool never downloads its own.  A CJK
# font, so that Chinese pages render (and their screenshots show) text rather than boxes.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q . ; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

# The X-Accel-Redirect tests run deploy/nginx.conf in the distribution's nginx (unprivileged,
# from a temporary directory); nothing is started as a system service.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && { $$SUDO apt-get install -y -qq nginx-light >/dev/null \
	    || $$SUDO apt-get install -y -qq nginx >/dev/null; }; }

test: install browser nginx
	$(BIN)/coursefed services install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.search_api
	$(BIN)/python -m bench.search_page
	$(BIN)/python -m bench.normalize
	$(BIN)/python -m bench.harvest
	$(BIN)/python -m bench.mirror
	$(BIN)/python -m bench.objects
	$(BIN)/python -m bench.sitemap
	$(BIN)/python -m bench.stats
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.relevance
	$(BIN)/python -m bench.observability

# After changing the pages' text: extract it (babel.cfg) and update both catalogues, then
# translate the new entries of app/web/locale/zh_CN (tests/web/test_i18n.py names any missing).
# The catalogues carry no header (plural rules come from Babel's locale data), so branches
# that each add messages merge without conflicts over dates.
messages: install
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --no-location --no-wrap --sort-output --omit-header \
	  -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d app/web/locale -D messages \
	  --no-wrap --omit-header --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
