# Tasklane: `make run` serves the API, `make test` runs the suite. Nothing else is needed
# but Python 3.11+ and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is for development: DEBUG on (a development secret key) unless told otherwise.
DJANGO_DEBUG ?= 1
export DJANGO_DEBUG

.PHONY: run test lint format schema install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt requirements/prod.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --if-empty
	exec $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) \
		--ws websockets --ws-max-size 65536 --lifespan off --timeout-graceful-shutdown 5 --no-proxy-headers --no-server-header

test: install
	DJANGO_DEBUG=0 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=schema-check-only-not-a-secret-0123456789abcdefghijklmnop $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file /dev/null

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
