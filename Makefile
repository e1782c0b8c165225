# ModelPulse: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install test-install chromium fonts postgres seed demo lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed chromium fonts postgres

# Debian's chromium drives the browser tests (never `playwright install`: it downloads a browser).
chromium:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# Debian's DejaVu Sans prints every character of the board report's PDF (without it the PDF spells
# what latin-1 cannot print); the tests read both back.
fonts:
	@[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q fonts-dejavu-core; }

# Debian's PostgreSQL server: the shared-store tests start a throwaway one on loopback for the DuckLake catalog
# (tests/pg_server.py); nothing is started here.
postgres:
	@[ -x /usr/lib/postgresql/15/bin/initdb ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q postgresql; }

# Seed the demo store only when there is none: real data, trained models, a replayed year.
seed: install
	$(PY) -m core demo --if-missing

run: seed
	$(PY) -m streamlit run serve.py --server.port $(PORT)

demo: install
	$(PY) -m core demo --fresh

test: test-install
	$(PY) -m pytest

lint: test-install
	$(PY) -m ruff check .

bench: test-install
	$(PY) bench/quality.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
