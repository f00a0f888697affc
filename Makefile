# AURA: `make run` starts everything, `make test` runs every test. Nothing but Python 3.11 needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export DEBUG ?= true
export PORT ?= 8000
# honcho hands each process its own $$PORT (base + 100 per process); the web port travels as AURA_PORT.
export AURA_PORT = $(PORT)
SIM_PORT ?= 8765
SIM := http://127.0.0.1:$(SIM_PORT)
# Tests get embedded services of their own, so a running `make run` never sees their data, pushes or tasks.
TEST_DATA_DIR ?= $(CURDIR)/.data/test

.PHONY: run test install lint services-stop bench bench-pnl bench-live bench-api bench-signals bench-alerts need-wrk clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Without a Helius key, `make run` is the demo: the market simulator plays Helius, Birdeye,
# DexScreener and Jupiter, and its whales are tracked.
ifeq ($(strip $(HELIUS_API_KEY)),)
run: export HELIUS_API_KEY = sim
run: export HELIUS_BASE_URL = $(SIM)
run: export HELIUS_WEBHOOK_SECRET ?= demo-webhook-secret
run: export HELIUS_WEBHOOK_URL ?= http://127.0.0.1:$(PORT)/hooks/helius/
run: export HELIUS_RATE_PER_SECOND ?= 25
run: export BIRDEYE_API_KEY = sim
run: export BIRDEYE_BASE_URL = $(SIM)
run: export BIRDEYE_RATE_PER_SECOND ?= 25
run: export DEXSCREENER_BASE_URL = $(SIM)
run: export JUPITER_BASE_URL = $(SIM)
run: export TELEGRAM_BOT_TOKEN ?= 100200300:aura-demo-bot
run: export TELEGRAM_API_URL = $(SIM)
run: export DISCORD_API_URL = $(SIM)
run: export SIM_PORT := $(SIM_PORT)
run: PROCFILE = Procfile.demo
run: LOAD_DEMO = python manage.py load_demo && python manage.py load_demo_alerts &&
else
run: PROCFILE = Procfile.dev
run: LOAD_DEMO =
endif

# honcho runs every Procfile process but the Telegram bot without TELEGRAM_BOT_TOKEN (aura/procfile.py).
run: $(INSTALLED)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m aura.embedded run -- sh -c '\
	  python manage.py migrate --noinput && \
	  python manage.py bootstrap && \
	  $(LOAD_DEMO) \
	  echo "AURA is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)" && \
	  exec python -m aura.procfile $(PROCFILE)'

test: $(INSTALLED)
	AURA_DATA_DIR=$(TEST_DATA_DIR) CHANNELS_PREFIX=aura-test-$$$$ $(PY) -m aura.embedded run -- $(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks print figures (bench/README.md); those with a database make one of their own and drop it at the end.
bench: bench-pnl bench-live bench-api bench-signals bench-alerts

bench-pnl: $(INSTALLED)
	$(PY) -m aura.embedded run -- $(PY) bench/pnl.py $(PNL_ARGS)

bench-live: $(INSTALLED)
	CHANNELS_PREFIX=aura-bench $(PY) -m aura.embedded run -- $(PY) bench/live.py $(LIVE_ARGS)

# Pages and API under load from wrk (the Debian package; installed here when missing), against bench-pnl's database.
bench-api: $(INSTALLED) need-wrk
	$(PY) -m aura.embedded run -- $(PY) bench/api.py $(API_ARGS)

need-wrk:
	@command -v wrk >/dev/null || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || { echo "bench-api needs wrk: install the Debian package wrk (apt-get install wrk)"; exit 1; }; \
	  echo "installing wrk (Debian package) for bench-api"; \
	  apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }

# Swap webhook → Telegram sendMessage at the simulator's stand-in, 100 users' rules (bench/alerts.py).
bench-alerts: $(INSTALLED)
	$(PY) -m aura.embedded run -- $(PY) bench/alerts.py $(ALERTS_ARGS)

# The pure signal detector (no database, no services), then webhook → DOM with signals on (bench/live's machinery).
bench-signals: $(INSTALLED)
	$(PY) bench/signals.py $(SIGNALS_ARGS)
	$(PY) -m aura.embedded run -- $(PY) bench/signals_live.py $(SIGNALS_LIVE_ARGS)

# Restarts PostgreSQL and Redis on purpose: runs its own embedded ones in .data/bench-faults.
.PHONY: bench-faults
bench-faults: $(INSTALLED)
	AURA_DATA_DIR=$(CURDIR)/.data/bench-faults $(PY) bench/faults.py $(FAULTS_ARGS)

# Style (ruff) and the import rules of pyproject.toml's [tool.importlinter] (lint-imports).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

services-stop:
	$(PY) -m aura.embedded stop
	AURA_DATA_DIR=$(TEST_DATA_DIR) $(PY) -m aura.embedded stop
	AURA_DATA_DIR=$(CURDIR)/.data/bench-faults $(PY) -m aura.embedded stop

clean: services-stop
	rm -rf $(VENV) staticfiles
