"""Tasklane settings: the one place that reads the environment.

Every variable is described in docs/operations.md ("Settings") and shown with its default in
`.env.example`. Production behaviour is switched on by environment variables (DJANGO_DEBUG
off, a real secret, explicit hosts), never by a separate settings module. A `.env` file beside
manage.py (git-ignored; `make run` writes one for development) fills in what the environment
leaves unset; the environment always wins.
"""

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from config.logging import configure_structlog

BASE_DIR = Path(__file__).resolve().parent.parent


def read_env_file() -> None:
    """Variables from `.env` (or the file DJANGO_ENV_FILE names; none when it is empty), for
    those the environment does not set: a variable set in the environment always wins.

    Without it, a command run by hand after `make run` (`manage.py createsuperuser`) would
    start without the development settings that `make run` had, and fail. The test suite
    reads no file (pyproject.toml), so a developer's `.env` never changes what it checks.
    """
    named = os.environ.get("DJANGO_ENV_FILE")
    if named is None:
        environ.Env.read_env(BASE_DIR / ".env")  # absent is fine: nothing to fill in
    elif named.strip():
        path = Path(named.strip())
        if not path.is_file():
            raise ImproperlyConfigured(f"DJANGO_ENV_FILE names {named!r}, which is not a file.")
        environ.Env.read_env(path)


read_env_file()


environment = environ.Env()


def env(name: str, default: str = "") -> str:
    """The variable, trimmed; empty or unset means the default."""
    return environment.str(name, default="").strip() or default


def parsed(name: str, cast, description: str):
    """`cast` applied by django-environ; a value it cannot read stops start-up in one
    sentence instead of a traceback."""
    try:
        return environment.get_value(name, cast=cast)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} must be {description}, not {env(name)!r}.") from None


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name).lower()
    if not value:
        return default
    # django-environ reads anything it does not know as false; a typo must not switch a
    # security setting off silently.
    if value not in {*environment.BOOLEAN_TRUE_STRINGS, "0", "false", "no", "off", "n", "f"}:
        raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")
    return parsed(name, bool, "a boolean (1/0, true/false)")


def env_int(name: str, default: int, minimum: int = 1) -> int:
    if not env(name):
        return default
    description = f"a whole number of at least {minimum}"
    number = parsed(name, int, description)
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be {description}, not {env(name)!r}.")
    return number


def env_seconds(name: str, default: float) -> float:
    """A positive duration in seconds; fractions allowed (`0.5`)."""
    if not env(name):
        return float(default)
    description = "a positive number of seconds"
    number = parsed(name, float, description)
    if not number > 0 or number == float("inf"):
        raise ImproperlyConfigured(f"{name} must be {description}, not {env(name)!r}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    if not env(name):
        return [item.strip() for item in default.split(",") if item.strip()]
    return [item.strip() for item in environment.list(name) if item.strip()]


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as `10/min`; `off` disables the throttle (None)."""
    value = env(name, default)
    if value.lower() == "off":
        return None
    number, _, period = value.partition("/")
    if not number.isdigit() or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name} must be a rate such as 10/min or 'off', not {value!r}.")
    return value


def with_query(url: str, **parameters: str) -> str:
    """The URL with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key not in parameters]
    return urlunsplit(parts._replace(query=urlencode([*query, *parameters.items()])))


def development_secret_key(path: Path) -> str:
    """A random key made on the first DEBUG start and kept in a git-ignored file.

    A key written in the repository would be the same in every checkout, and `make run` is
    also how people run on PostgreSQL or on 0.0.0.0: anyone could sign tokens for them.
    """
    if not path.exists():
        # Written whole under a name of its own, then linked into place (atomic, and refused
        # if the file exists): a concurrent start never reads a key file still being written,
        # and the first start's key is the one every start keeps.
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # made meanwhile by a concurrent start
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it to get a new development key.")
    return key


DEBUG = env_bool("DJANGO_DEBUG")
DEVELOPMENT_KEY_FILE = ".development-secret-key"

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = development_secret_key(BASE_DIR / DEVELOPMENT_KEY_FILE)
elif not DEBUG and (
    # What `manage.py check --deploy` asks of a key (security.W009); it also signs the JWTs.
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters "
        f"(with at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, not starting "
        f"with {SECRET_KEY_INSECURE_PREFIX!r}) when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS may not contain '*' when DJANGO_DEBUG is off.")
# The host name the platform gives the app, which its health checks send as Host: Render always
# sets RENDER_EXTERNAL_HOSTNAME, Heroku sets HEROKU_APP_DEFAULT_DOMAIN_NAME once its dyno
# metadata is on. A deploy then needs no ALLOWED_HOSTS until it has a custom domain.
for platform_host in (env("RENDER_EXTERNAL_HOSTNAME"), env("HEROKU_APP_DEFAULT_DOMAIN_NAME")):
    if platform_host and platform_host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(platform_host)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
# Browsers may send the contract's request headers and read its response headers.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "if-match", "x-request-id")
CORS_EXPOSE_HEADERS = ["ETag", "Idempotent-Replayed", "Retry-After", "X-Request-ID"]
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

INSTALLED_APPS = [
    "accounts.apps.AdminConfig",  # django.contrib.admin, its login throttled like the API's
    # Before django.contrib.auth, so that its `changepassword` ends the user's sessions too.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_structlog",
    "core",
    "projects",
    "tasks",
    "webhooks",
    "notifications",
]

MIDDLEWARE = [
    # Outermost: the one log line of every request and its X-Request-ID (core/request_log.py),
    # whatever answered it.
    "django_structlog.middlewares.RequestMiddleware",
    "core.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # django-cors-headers, with the WebSocket's origin rule (core/origins.py).
    "core.middleware.CorsMiddleware",
    # After CORS and security, so their own answers (413, replays, 409/422) carry the headers.
    "core.middleware.BodySizeLimitMiddleware",
    "core.idempotency.IdempotencyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Side effects of a write ----------------------------------------------------------------

# Every side effect of a write, in one place. A service that changes data calls
# core.events.publish(*events) inside its transaction; publish hands the events to each sink
# below, in this order, still inside that transaction.
EVENT_SINKS = [
    # The webhook outbox: a pending delivery per subscribed webhook, in the same transaction.
    "webhooks.outbox.record",
    # The task-list count versions (tasks/counts.py): expired now and again after commit.
    "tasks.counts.expire",
    # The socket groups: each event sent to the channel layer after commit.
    "core.realtime.send",
]
# The notifications a write makes (core.events.Notice): stored after commit, each then sent
# to its recipient's sockets as `notification.created` (through publish again).
NOTICE_SINKS = ["notifications.services.notify"]
# Notifications, read or not, are deleted this many days after they were made (the worker's
# beat: notifications/tasks.py).
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 90)
# Safety nets for rows changed outside the services (the admin's cascades, the shell,
# `manage.py changepassword`), the only signal receivers that do work:
# - projects/socket_access.py: a user or membership changed by any path rechecks, moves or
#   closes that user's open sockets;
# - tasks/counts.py (connected in tasks/apps.py): a task or project saved by any path
#   expires its project's task counts.

# --- Database -------------------------------------------------------------------------------
# SQLite by default so `make run` works on a bare machine; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Requests run on a pool of threads, so persistent per-thread connections (CONN_MAX_AGE)
    # do not help and connecting per request costs most of a small request; psycopg's pool
    # does. With CONN_HEALTH_CHECKS the pool checks a connection before handing it out, so a
    # connection broken by a restart is never handed to a request.
    # While PostgreSQL is unreachable a request waits at most DB_POOL_TIMEOUT seconds for a
    # connection, then gets a 503 with Retry-After (core/errors.py). The pool retries a
    # failed connection with a growing back-off; giving up after `reconnect_timeout` lets the
    # next request start a fresh attempt, so service resumes within seconds of PostgreSQL's
    # return however long it was away (tests/core/test_database_outage.py).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20),
        "timeout": env_int("DB_POOL_TIMEOUT", 2),
        "reconnect_timeout": 4,
    }
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 2, minimum=2)
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time. Django's deferred transactions let two writers both
    # begin, then fail the second at its first write with `database is locked` (a 500; 40
    # parallel PATCHes under `make run` gave 17). BEGIN IMMEDIATE takes the write lock when
    # the transaction starts, so writers queue for up to `timeout` seconds (SQLite's busy
    # timeout) instead; WAL lets readers run beside the writer, and synchronous=NORMAL is
    # WAL's usual durability (a power cut may lose the last commits, never corrupt the file).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
REDIS_TLS_VERIFY = env_bool("REDIS_TLS_VERIFY", True)
if REDIS_URL.startswith("rediss://") and not REDIS_TLS_VERIFY:
    # Heroku's Redis serves TLS with a self-signed certificate: still encrypted, but not
    # verifiable. redis-py and Celery read the choice from the URL, so every client (cache,
    # channel layer, socket leases, health check, worker) makes the same one.
    REDIS_URL = with_query(REDIS_URL, ssl_cert_reqs="none")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tasklane",
            # Fail fast when Redis is unreachable or hangs: throttles then fail open, and the
            # process's breaker stops calling it for a few seconds (core/breaker.py).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's layer, read by one task per process (core/channel_layer.py).
            "BACKEND": "core.channel_layer.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults to a 5 s socket timeout while channels-redis blocks on
                # Redis for 5 s at a time, which silently kills idle sockets: give it room.
                # One immediate retry: after Redis restarts, each pooled connection fails once
                # before reconnecting. A short connect timeout: publishing after a commit
                # never holds a request for long while Redis is away.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 1,
                        "retry": Retry(NoBackoff(), 1),
                    }
                ],
                "prefix": "tasklane",
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # In-memory: a single server process only (docs/operations.md, Scaling out).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The task list's count is kept in the cache until a task of the caller's projects changes
# (tasks/counts.py). Off: every list request counts (the benchmark's cold figures).
TASK_COUNT_CACHE = env_bool("TASK_COUNT_CACHE", True)

# --- Background worker (Celery) and webhooks --------------------------------------------------
# The worker delivers webhooks (webhooks/worker.py). Its broker is Redis when REDIS_URL is set;
# without Redis (`make run` on a bare machine) a folder on disk stands in, which the server
# and the worker that `make run` starts beside it share. No eager mode: deliveries always go
# through a real worker process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env("CELERY_BROKER_DIR", str(BASE_DIR / ".celery-broker")))
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
else:
    # Waking a worker after a commit must never hold a request while Redis is away: the
    # sweep delivers anyway.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Beat keeps its schedule in memory (no file to share or corrupt when several workers run it).
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"

WEBHOOKS_ALLOW_INSECURE = env_bool("WEBHOOKS_ALLOW_INSECURE")  # plain http targets
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE")  # loopback/private targets
WEBHOOKS_TIMEOUT = env_seconds("WEBHOOKS_TIMEOUT", 10)
WEBHOOKS_RETRY_BASE = env_seconds("WEBHOOKS_RETRY_BASE", 10)
WEBHOOKS_RETRY_MAX = env_seconds("WEBHOOKS_RETRY_MAX", 6 * 3600)
WEBHOOKS_RETRY_WINDOW = env_seconds("WEBHOOKS_RETRY_WINDOW", 24 * 3600)
WEBHOOKS_DISABLE_AFTER = env_int("WEBHOOKS_DISABLE_AFTER", 20)
WEBHOOKS_SWEEP_INTERVAL = env_seconds("WEBHOOKS_SWEEP_INTERVAL", 5)
WEBHOOKS_RETENTION_DAYS = env_int("WEBHOOKS_RETENTION_DAYS", 30)
WEBHOOKS_MAX_PER_PROJECT = env_int("WEBHOOKS_MAX_PER_PROJECT", 20)
WEBHOOKS_MAX_PER_USER = env_int("WEBHOOKS_MAX_PER_USER", 50)  # created by one user, all projects
# Webhook queues each worker process delivers at once, a thread and a database connection
# each (keep DB_POOL_MAX_SIZE above it): a slow receiver holds one of them, not the process.
WEBHOOKS_CONCURRENCY = env_int("WEBHOOKS_CONCURRENCY", 8)
# Whether a commit wakes a worker at once (off in the in-process tests, which run the worker's
# functions themselves; the server tests start real workers).
WEBHOOKS_WAKE_WORKER = env_bool("WEBHOOKS_WAKE_WORKER", True)

# --- Email (core/mail.py, accounts/emails.py) -----------------------------------------------
# A real SMTP server named by EMAIL_URL (smtp://, smtp+tls:// or smtp+ssl://, user and password
# in the URL, percent-encoded). Without it, messages are written to the log, whole in DEBUG
# (the token too: that is how a developer gets it) and without their body otherwise, where
# `check --deploy` fails (core/checks.py). The URL is not kept as a setting: the debug page
# shows settings, and hides only EMAIL_HOST_PASSWORD.
EMAIL_SCHEMES = ("smtp", "smtp+tls", "smtp+ssl")
email_url = env("EMAIL_URL")
EMAIL_CONFIGURED = bool(email_url)
if email_url:
    if urlsplit(email_url).scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            "EMAIL_URL must start with smtp://, smtp+tls:// or smtp+ssl://, not "
            f"{urlsplit(email_url).scheme + '://'!r}."
        )
    try:
        _email = environ.Env.email_url_config(email_url)
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL is not a valid smtp:// URL.") from None
    if not _email["EMAIL_HOST"]:
        raise ImproperlyConfigured("EMAIL_URL names no host.")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"] or (465 if _email.get("EMAIL_USE_SSL") else 25)
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
else:
    EMAIL_BACKEND = "core.mail.LogEmailBackend"
# One SMTP conversation, all of it; a slow server holds a worker slot no longer than this.
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Tasklane <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The web front end's base URL: messages then carry a link (FRONTEND_URL/reset-password?token=)
# besides the `Token:` line. None: the token alone.
FRONTEND_URL = env("FRONTEND_URL").rstrip("/")
if FRONTEND_URL and urlsplit(FRONTEND_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(f"FRONTEND_URL must be an http(s) URL, not {FRONTEND_URL!r}.")
# Lifetime of emailed tokens (verification, later email change and invitations); a password
# reset token lives an hour whatever this says.
EMAIL_TOKEN_TTL = env_int("EMAIL_TOKEN_TTL", 86400)
# Retries of a message the SMTP server did not take: exponential from 10 s, capped at an hour,
# for about a day (EMAIL_RETRY_* are not environment variables).
EMAIL_RETRY_BASE = 10.0
EMAIL_RETRY_MAX = 3600.0
EMAIL_MAX_RETRIES = 30

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER"):
    # Only for test runs: the default PBKDF2 is slow by design, and tests log in constantly
    # (bench/README.md has the figure).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("ACCESS_TOKEN_LIFETIME", 900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("REFRESH_TOKEN_LIFETIME", 1209600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a hash of the password hash: changing the password revokes them all.
    "CHECK_REVOKE_TOKEN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
}

# --- REST framework -------------------------------------------------------------------------
THROTTLE_RATES = {
    "login": env_rate("THROTTLE_LOGIN", "20/min"),
    "register": env_rate("THROTTLE_REGISTER", "30/hour"),
    "user": env_rate("THROTTLE_USER", "1200/min"),
}

REST_FRAMEWORK = {
    # Personal access tokens (`tl_pat_...`) first: any other bearer token is a JWT.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.PersonalAccessTokenAuthentication",
        "accounts.authentication.JWTAuthentication",
    ],
    # A personal access token acts only within its scopes (`read`, `write`), on every view.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.TokenScopeAllows",
    ],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # Throttles see REMOTE_ADDR only: the ASGI app has already replaced it with the client's
    # address when, and only when, the request came through a proxy in FORWARDED_ALLOW_IPS.
    "NUM_PROXIES": 0,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    # The contract wants JSON errors from every /api/ URL, in DEBUG too; the traceback is
    # still logged.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_FORMATTER_CLASS": "core.errors.ErrorFormatter",
    # A database outage is a 503 with Retry-After, not a 500.
    "EXCEPTION_HANDLER_CLASS": "core.errors.ExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "413", "415", "429", "500"],
    "ERROR_SCHEMAS": {
        str(status): "core.schema.ClientErrorResponseSerializer"
        for status in (401, 403, 404, 405, 413, 415, 429)
    }
    | {"500": "core.schema.ServerErrorResponseSerializer"},
}

STANDARD_ERRORS = "drf_standardized_errors.openapi_serializers"
SPECTACULAR_SETTINGS = {
    "TITLE": "Tasklane API",
    "DESCRIPTION": (
        "Task management REST API: accounts with JWT, projects with roles, tasks with "
        "filters, real-time events over WebSocket. Authenticate with "
        "`Authorization: Bearer <access token>` from `POST /api/v1/auth/login/`, or with a "
        "personal access token (`tl_pat_...`) from `POST /api/v1/auth/tokens/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "AUTHENTICATION_WHITELIST": [
        "accounts.authentication.PersonalAccessTokenAuthentication",
        "accounts.authentication.JWTAuthentication",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Named here so that a generated client's class names do not change when another
        # component gains a `status` (drf-spectacular renames colliding enums).
        "TaskStatusEnum": "tasks.models.Status.choices",
        "RoleEnum": "projects.models.Role.choices",
        "MemberRoleEnum": "projects.serializers.MEMBER_ROLES",
        "NotificationVerbEnum": "notifications.models.Verb.choices",
        "MarkAllReadEnum": "notifications.serializers.MARK_ALL",
        "ValidationErrorEnum": f"{STANDARD_ERRORS}.ValidationErrorEnum.choices",
        "ClientErrorEnum": f"{STANDARD_ERRORS}.ClientErrorEnum.choices",
        "ServerErrorEnum": f"{STANDARD_ERRORS}.ServerErrorEnum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "core.schema.add_links",
        "core.schema.require_bodies_with_required_fields",
    ],
}

# --- Server ---------------------------------------------------------------------------------
# Threads per server process that run HTTP requests (config/asgi.py); keep DB_POOL_MAX_SIZE
# at least this large. One process runs Python on one core at a time: beyond a few threads,
# requests only take turns at the GIL, and the slowest wait longest (bench/README.md,
# Processes and threads: 4 against 8).
HTTP_THREADS = env_int("HTTP_THREADS", 4)
# HTTP requests one server process holds at a time (bodies being read, waiting for a thread,
# running); more are answered 503 with Retry-After at once (core/concurrency.py).
HTTP_MAX_CONCURRENCY = env_int("HTTP_MAX_CONCURRENCY", 100)

# --- WebSocket ------------------------------------------------------------------------------
WS_MAX_MESSAGE_BYTES = env_int("WS_MAX_MESSAGE_BYTES", 4096)
WS_RATE_MAX_MESSAGES = env_int("WS_RATE_MAX_MESSAGES", 30)
WS_RATE_WINDOW_SECONDS = env_int("WS_RATE_WINDOW_SECONDS", 10)
# Open event sockets per user, across all processes; extra ones are closed with 4429.
WS_MAX_SOCKETS_PER_USER = env_int("WS_MAX_SOCKETS_PER_USER", 20)
# How often an open socket checks its token's expiry (it closes with 4401 once expired).
WS_TOKEN_CHECK_SECONDS = float(env_int("WS_TOKEN_CHECK_SECONDS", 5))

# --- Limits ---------------------------------------------------------------------------------
MAX_BODY_BYTES = env_int("MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
# A request body that stops arriving for this many seconds is answered 408 (core/request_body.py);
# the whole body must arrive within REQUEST_BODY_TOTAL_TIMEOUT.
REQUEST_BODY_TIMEOUT = env_int("REQUEST_BODY_TIMEOUT", 5)
# A request head (request line and headers) must arrive within this many seconds of the
# connection opening or of its first byte, or the connection is closed (config/server.py).
REQUEST_HEADER_TIMEOUT = env_int("REQUEST_HEADER_TIMEOUT", 10)
REQUEST_BODY_TOTAL_TIMEOUT = env_int("REQUEST_BODY_TOTAL_TIMEOUT", 60)

# --- Internationalization -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
# whitenoise serves /static/ (the admin and the self-hosted Swagger UI / ReDoc assets) in
# development and production alike. Production runs `collectstatic` (make run and the Procfile
# do) and gets hashed, compressed, far-future-cached files; DEBUG serves from the apps.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
# Proxies (addresses or networks, comma-separated; "*" for any) whose X-Forwarded-For and
# X-Forwarded-Proto are believed: they set the client address the throttles and logs see, and
# the scheme (https). Default none: a client cannot pick its own address. The ASGI app applies
# it (config/asgi.py); the server's own proxy-header handling stays off.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Load balancers and platforms probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
# HSTS is sent on HTTPS responses only (a request is HTTPS when it arrived over TLS or through a
# proxy in FORWARDED_ALLOW_IPS that says so), whether or not plain HTTP is redirected.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
# includeSubDomains covers hosts under the API's own host name only (api.example.com and
# *.api.example.com), not its parent domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload the domain is its owner's decision (hard to undo), not a
    # default; check --deploy would otherwise flag its absence.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Logging --------------------------------------------------------------------------------
# Everything goes to stdout (config/logging.py): one JSON object per line by default, aligned
# `key=value` lines for people with LOG_FORMAT=console (the default in DEBUG).
LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env("LOG_FORMAT", "console" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "config.logging.RedactTokensFilter"}},
    "formatters": {
        "json": {"()": "config.logging.json_formatter"},
        "console": {"()": "config.logging.console_formatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # The per-request line (request_finished, or request_failed with the traceback)
        # replaces Django's "Not Found: /path" and "Internal Server Error: /path" lines.
        "django.request": {"handlers": ["stdout"], "level": "CRITICAL", "propagate": False},
        "uvicorn": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # The request log line (core/request_log.py) is each request's one line: uvicorn's
        # access log would repeat it with less detail. uvicorn logs access lines whenever
        # this logger has a handler, whatever --no-access-log said before Django configured
        # logging; so it has none.
        "uvicorn.access": {"handlers": [], "propagate": False},
    },
}
configure_structlog()
# django-structlog (core/request_log.py): "request_started" only at DEBUG, so a request is one
# line; the client address is REMOTE_ADDR (the library's own guess would believe any client's
# X-Forwarded-For).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False

# --- Error reporting ------------------------------------------------------------------------
# Sentry, only when SENTRY_DSN is set (sentry-sdk is not even imported otherwise). The release
# defaults to what sentry-sdk finds (the git commit, or the platform's: HEROKU_SLUG_COMMIT,
# RENDER_GIT_COMMIT).
sentry_dsn = env("SENTRY_DSN")  # not a setting: the debug page would show it
if sentry_dsn:
    from config.sentry import init_sentry

    init_sentry(
        dsn=sentry_dsn,
        environment=env("SENTRY_ENVIRONMENT", "production"),
        release=env("SENTRY_RELEASE") or None,
    )
