# The two quick-start commands are `make run` and `make test`; both work on a fresh machine
# with Python 3.11+ and make. uv is installed with pip when it is missing.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
DATA_DIR ?= $(if $(CRIMEPREV_DATA_DIR),$(CRIMEPREV_DATA_DIR),data)
PORT ?= 8501
WORKERS ?= 4
HOST ?= 127.0.0.1
# Without sign-in ([auth] in .streamlit/secrets.toml) the dashboard serves this computer alone.
AUTH_CONFIGURED := $(shell grep -qs '^\[auth' .streamlit/secrets.toml && echo yes)
ADDRESS ?= $(if $(AUTH_CONFIGURED),0.0.0.0,127.0.0.1)
# Trust the machine's certificate store, so installs work behind a proxy with its own root.
export UV_SYSTEM_CERTS ?= 1

.PHONY: run serve test lint demo demo-if-empty sync sync-dev uv browser office nginx postgres bench screenshots

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet uv || \
		$(PYTHON) -m pip install --quiet --user --break-system-packages uv

sync: uv
	$(UV) sync --locked --no-dev --inexact

sync-dev: uv
	$(UV) sync --locked

demo-if-empty: sync
	@if ! ls "$(DATA_DIR)"/records/month=*/*.parquet >/dev/null 2>&1; then \
		echo "No records in $(DATA_DIR): writing the demo extract first."; \
		$(UV) run --no-dev crimeprev demo; \
	fi

## run: serve the dashboard on the demo data (written first when the data folder is empty);
## ui.serve imports the pages' modules and opens the data before the server listens
run: demo-if-empty
	$(UV) run --no-dev python -m ui.serve --server.port $(PORT) --server.address $(ADDRESS)

## serve: WORKERS dashboard processes (4) behind nginx with sticky sessions, on HOST:PORT
## (127.0.0.1:8501; another address only with sign-in configured); see deploy/serve.py
serve: demo-if-empty nginx
	$(UV) run --no-dev python -m deploy.serve --workers $(WORKERS) --port $(PORT) --host $(HOST)

## demo: (re)write the demo extract into the data folder
demo: sync
	$(UV) run --no-dev crimeprev demo

## browser: Debian's Chromium for the end-to-end tests, where this machine lets us install it,
## and a colour emoji font so the variation icons draw as they do on users' machines
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@if [ -x /usr/bin/chromium ] && [ -f $(EMOJI_FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium and fonts-noto-color-emoji for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-color-emoji >/dev/null; \
	else \
		echo "Chromium is not installed and cannot be installed here (needs root and apt-get):"; \
		echo "the browser tests will be skipped."; \
	fi

## office: LibreOffice Impress and poppler, to check the slide deck renders (slow tests)
office:
	@if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's libreoffice-impress and poppler-utils for the slide checks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends libreoffice-impress poppler-utils >/dev/null; \
	else \
		echo "LibreOffice or pdftoppm is not installed and cannot be installed here (needs root"; \
		echo "and apt-get): the slide rendering test will be skipped."; \
	fi

## nginx: Debian's nginx for `make serve` and its test, where this machine lets us install it.
## Debian starts its own default site when it can; that one is stopped, as `make serve` runs
## nginx with a configuration of its own.
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's nginx for make serve"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends nginx >/dev/null; \
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx; then \
			systemctl disable --now nginx; \
		fi; \
	else \
		echo "nginx is not installed and cannot be installed here (needs root and apt-get):"; \
		echo "make serve cannot run, and its test will be skipped."; \
	fi

## postgres: Debian's PostgreSQL server binaries, which the update store's tests start a
## throwaway server from (the store also runs on SQLite, which needs nothing)
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's postgresql for the update store's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends postgresql >/dev/null; \
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql; then \
			systemctl disable --now postgresql; \
		fi; \
	else \
		echo "PostgreSQL is not installed and cannot be installed here (needs root and apt-get):"; \
		echo "the PostgreSQL tests will be skipped."; \
	fi

## lint: ruff, mypy (strict on crimeprev/) and the import-linter contracts
lint: sync-dev
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

## test: everything CI runs
test: sync-dev browser office nginx postgres lint
	$(UV) run pytest

## screenshots: the overview at 1280x720 and chosen slides as PNG files in screenshots/
screenshots: sync-dev browser office
	rm -rf screenshots && mkdir -p screenshots
	CRIMEPREV_SCREENSHOTS_DIR=$(CURDIR)/screenshots $(UV) run pytest -q -m screenshots
	@ls -1 screenshots

## bench: figures for the closing notes; never part of `make test`
bench: sync-dev browser nginx
	$(UV) run python benchmarks/serve_pages.py
	$(UV) run python benchmarks/cold_start.py
	$(UV) run python benchmarks/build_report.py
	$(UV) run python benchmarks/import_police_uk.py
	$(UV) run python benchmarks/scale.py
	$(UV) run python benchmarks/sessions.py --sessions 30 --seconds 120 --workers 4
	$(UV) run python benchmarks/update_store.py
	$(UV) run python benchmarks/simulate_statistics.py
