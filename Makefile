# The two quick-start commands are `make run` and `make test`; both work on a fresh machine
# with Python 3.11+ and make. uv is installed with pip when it is missing.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
DATA_DIR ?= $(if $(CRIMEPREV_DATA_DIR),$(CRIMEPREV_DATA_DIR),data)
PORT ?= 8501
# Trust the machine's certificate store, so installs work behind a proxy with its own root.
export UV_SYSTEM_CERTS ?= 1

.PHONY: run test lint demo sync sync-dev uv browser office bench

uv:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet uv || \
		$(PYTHON) -m pip install --quiet --user --break-system-packages uv

sync: uv
	$(UV) sync --locked --no-dev --inexact

sync-dev: uv
	$(UV) sync --locked

## run: serve the dashboard on the demo data (written first when the data folder is empty)
run: sync
	@if ! ls "$(DATA_DIR)"/records/month=*/*.parquet >/dev/null 2>&1; then \
		echo "No records in $(DATA_DIR): writing the demo extract first."; \
		$(UV) run --no-dev crimeprev demo; \
	fi
	$(UV) run --no-dev streamlit run app.py --server.port $(PORT)

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

## lint: ruff, mypy (strict on crimeprev/) and the import-linter contracts
lint: sync-dev
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

## test: everything CI runs
test: sync-dev browser office lint
	$(UV) run pytest

## bench: figures for the closing notes; never part of `make test`
bench: sync-dev
	$(UV) run python benchmarks/serve_pages.py
	$(UV) run python benchmarks/build_report.py
	$(UV) run python benchmarks/import_police_uk.py
	$(UV) run python benchmarks/scale.py
