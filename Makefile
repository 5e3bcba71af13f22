# Tasklane: `make run` serves the API, `make test` runs the suite. Nothing else is needed
# but Python 3.11+ and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run superuser test lint format schema install clean bench postman

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt requirements/prod.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

# `make run` is for development: its settings live in a git-ignored `.env`, written on the
# first run (DEBUG on; the secret key is then made on first start in .development-secret-key).
# config/settings.py reads `.env` for every command, so `manage.py createsuperuser` and the
# like work after `make run` too. A variable set in the environment wins over the file.
.env:
	printf '%s\n' \
		'# Development settings for `make run` and manage.py, written by the first `make run`' \
		'# (git-ignored). A variable set in the environment wins over this file. Every' \
		'# setting, with its default: .env.example.' \
		'DJANGO_DEBUG=1' > $@

run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --if-empty
	@# The webhook worker (the Procfile's `worker:` line) runs beside the server and stops
	@# with it; without REDIS_URL its broker is a folder (.celery-broker/).
	$(BIN)/celery -A config worker --beat --concurrency 1 --loglevel WARNING & \
	trap 'kill $$! 2>/dev/null' EXIT; \
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) \
		--ws websockets-sansio --ws-per-message-deflate false --ws-max-size 65536 --lifespan off --timeout-graceful-shutdown 5 --http config.server:HttpProtocol --no-proxy-headers --no-server-header --no-access-log

# Asks for an email and a password; with DJANGO_SUPERUSER_EMAIL (and DJANGO_SUPERUSER_PASSWORD)
# set it asks nothing (--noinput), for scripts and shells without a terminal.
superuser: install .env
	$(BIN)/python manage.py createsuperuser $(if $(DJANGO_SUPERUSER_EMAIL),--noinput)

# In parallel (pytest-xdist): a worker process per CPU, at most 2 (each worker's servers and
# threads hold up to ~20 PostgreSQL connections at once; PostgreSQL's default limit is 100),
# each test file whole on one worker (a file's module-wide servers start once). Each worker has
# its own test database and Redis database (REDIS_URL's and the next: conftest.py).
# TEST_WORKERS=0: one process.
TEST_WORKERS ?= logical

test: install
	DJANGO_DEBUG=0 $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 2 --dist loadfile \
		$(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=schema-check-only-not-a-secret-0123456789abcdefghijklmnop $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file /dev/null

# The Postman collection (docs/postman/) under newman against a local `make run` (a throwaway
# SQLite database unless DATABASE_URL is set). newman comes from npm, pinned as in .ci/run.
postman: install
	$(BIN)/python docs/postman/run.py

# Seeds PostgreSQL at scale and measures the production server against a hand-written-SQL
# floor; writes bench/RESULTS.md. BENCH_SCALE=tiny|medium|full and the rest: bench/README.md.
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
