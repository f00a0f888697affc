# AURA: `make run` starts everything, `make test` runs every test. Nothing but Python 3.11 needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export DEBUG ?= true
export PORT ?= 8000

.PHONY: run test install lint services-stop bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

run: $(INSTALLED)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m aura.embedded run -- sh -c '\
	  python manage.py migrate --noinput && \
	  python manage.py bootstrap && \
	  echo "AURA is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)" && \
	  exec honcho -f Procfile.dev start'

test: $(INSTALLED)
	$(PY) -m aura.embedded run -- $(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

services-stop:
	$(PY) -m aura.embedded stop

clean: services-stop
	rm -rf $(VENV) staticfiles
