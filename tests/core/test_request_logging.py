"""Operations: one structured line per request on stdout, errors with tracebacks, Sentry.

In-process tests read what the configured stdout handler writes; one test reads a real
server's stdout. Sentry is checked in fresh interpreters, against a receiver on loopback.
"""

import asyncio
import gzip
import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import structlog
from django.conf import settings as django_settings
from django.db import OperationalError
from rest_framework.test import APIClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.envelope import assert_error
from tests.support.server import EVENT_TIMEOUT, Server, api, receive, require_services, server_env
from tests.support.startup import SAFE_PRODUCTION, assert_refused, refused, start
from tests.support.urls import LOGIN, ME, REGISTER, TASKS

SECRET = "abc.def.ghi"  # stands for a token in a query string


class LogOutput:
    """What the configured stdout handler wrote: `log_output()` parses it, line by line."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    def __call__(self) -> list[dict]:
        return [json.loads(line) for line in self.text().splitlines()]

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def log_output():
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    assert len(handlers) == 1, logging.getLogger().handlers
    stream = io.StringIO()
    previous = handlers[0].setStream(stream)
    try:
        yield LogOutput(stream)
    finally:
        handlers[0].setStream(previous)


@pytest.fixture
def broken_urls(settings):
    """A client of config.urls plus views that fail (tests/support/error_urls.py)."""
    settings.ROOT_URLCONF = "tests.support.error_urls"
    return APIClient(raise_request_exception=False)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["event"] in ("request_finished", "request_failed")]


def only_request_line(log_output) -> dict:
    (line,) = request_lines(log_output())
    return line


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


# --- The line ---------------------------------------------------------------------------------


def test_a_request_is_one_json_line_with_method_path_status_duration_user_and_id(
    auth_client, log_output
):
    response = auth_client.get(f"{ME}?page=2")

    assert response.status_code == 200
    line = only_request_line(log_output)
    assert line["event"] == "request_finished"
    assert line["level"] == "info"
    assert line["method"] == "GET"
    assert line["path"] == f"{ME}?page=2"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] == auth_client.user.pk
    assert line["request_id"] == response["X-Request-ID"]
    assert is_uuid(line["request_id"])
    assert line["ip"] == "127.0.0.1"
    assert "timestamp" in line


def test_the_user_is_the_one_the_view_authenticated_and_null_without_a_token(
    auth_client, api_client, db, log_output
):
    auth_client.get(TASKS)
    api_client.get(TASKS)

    authenticated, anonymous = request_lines(log_output())
    assert (authenticated["status"], authenticated["user_id"]) == (200, auth_client.user.pk)
    assert (anonymous["status"], anonymous["user_id"]) == (401, None)
    assert anonymous["level"] == "warning"


def test_a_token_in_the_query_string_is_redacted(auth_client, log_output):
    auth_client.get(f"{ME}?a=1&token={SECRET}&b=2")

    assert only_request_line(log_output)["path"] == f"{ME}?a=1&token=[redacted]&b=2"
    assert SECRET not in log_output.text()


def test_other_lines_logged_during_the_request_carry_its_id(broken_urls, log_output):
    broken_urls.get("/api/test/broken-django/", HTTP_X_REQUEST_ID="trace-me-42")

    traceback, request = log_output()
    assert (traceback["logger"], traceback["request_id"]) == ("tasklane.errors", "trace-me-42")
    assert "RuntimeError: a bug in a plain Django view" in traceback["exception"]
    assert (request["event"], request["status"]) == ("request_finished", 500)
    assert request["request_id"] == "trace-me-42"


# --- X-Request-ID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id",
    ["0b6f3b0e-3c1a-4f0e-9b8a-5d2c1e0f7a91", "req_42", "a.b:c+d/e=f-g", "x" * 200],
)
def test_a_sane_client_request_id_is_kept_and_returned(auth_client, log_output, request_id):
    response = auth_client.get(ME, HTTP_X_REQUEST_ID=request_id)

    assert response["X-Request-ID"] == request_id
    assert only_request_line(log_output)["request_id"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["x" * 201, "has space", 'quote"d', "semi;colon", "new\\nline", "<script>", "ümlaut", "a,b"],
)
def test_an_unsafe_client_request_id_is_replaced_by_a_new_one(auth_client, log_output, request_id):
    response = auth_client.get(ME, HTTP_X_REQUEST_ID=request_id)

    assert response.status_code == 200
    assert is_uuid(response["X-Request-ID"])
    assert only_request_line(log_output)["request_id"] == response["X-Request-ID"]
    assert request_id not in log_output.text()


def test_each_request_without_an_id_gets_its_own(api_client, db):
    first, second = api_client.get("/health/live/"), api_client.get("/health/live/")

    assert is_uuid(first["X-Request-ID"]) and is_uuid(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    ("method", "url", "extra", "status"),
    [
        ("get", "/api/v1/no-such-thing/", {}, 404),  # the Django-level JSON 404
        ("get", ME, {}, 401),
        ("post", LOGIN, {"data": {"email": "x" * 200}, "format": "json"}, 413),  # a middleware's
        ("get", "/api/test/broken-drf/", {}, 500),
        ("get", "/api/test/broken-django/", {}, 500),
        ("get", ME, {"HTTP_X_EXPLODE": "1"}, 500),
    ],
    ids=["404", "401", "413", "500-drf-view", "500-django-view", "500-middleware"],
)
def test_error_responses_carry_the_request_id(
    broken_urls, settings, db, log_output, method, url, extra, status
):
    settings.MAX_BODY_BYTES = 100
    settings.MIDDLEWARE = [
        *django_settings.MIDDLEWARE,
        "tests.support.error_urls.ExplodingMiddleware",
    ]

    response = getattr(broken_urls, method)(url, HTTP_X_REQUEST_ID="err-1", **extra)

    assert_error(response, status, attr=None)
    assert response["X-Request-ID"] == "err-1"
    line = only_request_line(log_output)
    assert (line["request_id"], line["status"]) == ("err-1", status)


# --- Errors -----------------------------------------------------------------------------------


def test_an_unhandled_exception_in_a_view_is_logged_with_its_traceback(broken_urls, log_output):
    response = broken_urls.get("/api/test/broken-drf/", HTTP_X_REQUEST_ID="boom-1")

    assert_error(response, 500, attr=None)
    assert response.json()["type"] == "server_error"
    assert "a bug in" not in response.content.decode()
    assert response["X-Request-ID"] == "boom-1"
    line = only_request_line(log_output)
    assert line["event"] == "request_failed"
    assert (line["level"], line["status"], line["request_id"]) == ("error", 500, "boom-1")
    assert (line["method"], line["path"]) == ("GET", "/api/test/broken-drf/")
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError("a bug in a DRF view")' in line["exception"]
    assert line["exception"].endswith("RuntimeError: a bug in a DRF view")
    # Django's own "Internal Server Error" line would repeat the traceback.
    assert log_output.text().count("Traceback") == 1


def test_an_exception_in_a_middleware_is_logged_with_its_traceback(
    broken_urls, settings, log_output
):
    settings.MIDDLEWARE = [
        *django_settings.MIDDLEWARE,
        "tests.support.error_urls.ExplodingMiddleware",
    ]

    response = broken_urls.get(ME, HTTP_X_EXPLODE="1")

    assert_error(response, 500, attr=None)
    line = only_request_line(log_output)
    assert (line["event"], line["status"]) == ("request_failed", 500)
    assert "RuntimeError: a bug in a middleware" in line["exception"]
    assert line["request_id"] == response["X-Request-ID"]


def test_a_database_outage_is_logged_with_the_503_it_becomes(broken_urls, log_output, monkeypatch):
    class ConnectionLost(Exception):
        sqlstate = None  # psycopg's mark of a client-side failure (core/errors.py)

    def fail(self, request):
        raise OperationalError("connection lost") from ConnectionLost()

    monkeypatch.setattr("tests.support.error_urls.BrokenApiView.get", fail)

    response = broken_urls.get("/api/test/broken-drf/")

    assert_error(response, 503, attr=None)
    line = only_request_line(log_output)
    assert (line["event"], line["status"]) == ("request_failed", 503)
    assert "OperationalError: connection lost" in line["exception"]


def test_a_traceback_is_redacted_too(broken_urls, log_output, monkeypatch):
    def fail(self, request):
        raise RuntimeError(f"could not open /ws/v1/events/?token={SECRET}")

    monkeypatch.setattr("tests.support.error_urls.BrokenApiView.get", fail)

    broken_urls.get("/api/test/broken-drf/")

    assert "token=[redacted]" in only_request_line(log_output)["exception"]
    assert SECRET not in log_output.text()


# --- LOG_FORMAT -------------------------------------------------------------------------------

LOG_FORMAT_AND_A_LINE = (
    "import django, logging; django.setup(); from django.conf import settings; "
    "print(settings.LOG_FORMAT); logging.getLogger('tasklane.check').warning('hello %s', 'there')"
)


def test_logs_are_json_lines_by_default_outside_debug():
    result = start(LOG_FORMAT_AND_A_LINE, **SAFE_PRODUCTION)

    assert result.returncode == 0, result.stderr
    log_format, line = result.stdout.splitlines()
    assert log_format == "json"
    record = json.loads(line)
    assert (record["event"], record["level"], record["logger"]) == (
        "hello there",
        "warning",
        "tasklane.check",
    )


def test_logs_are_for_people_in_debug_and_json_on_request():
    console = start(LOG_FORMAT_AND_A_LINE, DJANGO_DEBUG="1")
    json_in_debug = start(LOG_FORMAT_AND_A_LINE, DJANGO_DEBUG="1", LOG_FORMAT="JSON")

    assert console.returncode == 0, console.stderr
    log_format, line = console.stdout.splitlines()
    assert log_format == "console"
    assert "hello there" in line and "tasklane.check" in line and not line.startswith("{")
    assert json.loads(json_in_debug.stdout.splitlines()[1])["event"] == "hello there"


def test_console_tracebacks_are_redacted_and_show_no_local_variables():
    code = (
        "import django, logging; django.setup()\n"
        "def fail(password='hunter2-local'):\n"
        f"    raise RuntimeError('could not open /ws/?token={SECRET}')\n"
        "try:\n    fail()\n"
        "except RuntimeError:\n    logging.getLogger('tasklane.check').exception('failed')"
    )

    result = start(code, DJANGO_DEBUG="1", LOG_FORMAT="console")

    assert result.returncode == 0, result.stderr
    assert "Traceback (most recent call last):" in result.stdout
    assert "RuntimeError: could not open /ws/?token=[redacted]" in result.stdout
    assert SECRET not in result.stdout and "hunter2-local" not in result.stdout


def test_an_unknown_log_format_is_refused():
    assert_refused(refused(**SAFE_PRODUCTION, LOG_FORMAT="xml"), "LOG_FORMAT", "'xml'")


# --- Sentry -----------------------------------------------------------------------------------

SENTRY_IMPORTED = "import django, sys; django.setup(); print('sentry_sdk' in sys.modules)"
SENTRY_OPTIONS = (
    "import django, json; django.setup(); import sentry_sdk; client = sentry_sdk.get_client(); "
    "print(json.dumps({'active': client.is_active(), 'integrations': sorted(client.integrations),"
    " **{k: client.options[k] for k in ('dsn', 'environment', 'release', 'send_default_pii',"
    " 'max_request_body_size', 'include_local_variables')}}))"
)
# A request that fails in a DRF view, through the WSGI handler the server runs (where Sentry
# reads the request's URL and headers), in a fresh interpreter; the event is flushed before it
# exits.
SENTRY_ERROR = (
    "import django, sentry_sdk, wsgiref.util; django.setup()\n"
    "from django.core.wsgi import get_wsgi_application\n"
    "from django.test.utils import override_settings\n"
    "environ = {}; wsgiref.util.setup_testing_defaults(environ)\n"
    "environ.update(PATH_INFO='/api/test/broken-drf/', QUERY_STRING='token=" + SECRET + "', "
    "HTTP_HOST='testserver', HTTP_AUTHORIZATION='Bearer sekrit.jwt.value', "
    "HTTP_COOKIE='sessionid=sekritcookie', HTTP_X_REQUEST_ID='sentry-check-1')\n"
    "statuses = []; application = get_wsgi_application()\n"
    "with override_settings(ROOT_URLCONF='tests.support.error_urls'):\n"
    "    b''.join(application(environ, lambda status, headers: statuses.append(status)))\n"
    "sentry_sdk.flush(10); print(statuses[0])"
)


def test_without_sentry_dsn_sentry_is_not_even_imported():
    result = start(SENTRY_IMPORTED, **SAFE_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_sentry_dsn_switches_reporting_on_with_environment_and_release():
    dsn = "http://publickey@127.0.0.1:9/1"  # never contacted: nothing is reported here
    result = start(
        SENTRY_OPTIONS,
        **SAFE_PRODUCTION,
        SENTRY_DSN=dsn,
        SENTRY_ENVIRONMENT="staging",
        SENTRY_RELEASE="tasklane@1.2.3",
    )

    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.splitlines()[-1])
    assert options["active"] is True
    assert "django" in options["integrations"]
    assert (options["dsn"], options["environment"], options["release"]) == (
        dsn,
        "staging",
        "tasklane@1.2.3",
    )
    assert options["send_default_pii"] is False
    assert options["max_request_body_size"] == "never"
    assert options["include_local_variables"] is False


def test_the_sentry_environment_defaults_to_production():
    result = start(SENTRY_OPTIONS, **SAFE_PRODUCTION, SENTRY_DSN="http://k@127.0.0.1:9/1")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["environment"] == "production"


def test_a_malformed_sentry_dsn_is_refused_in_one_sentence():
    assert_refused(refused(**SAFE_PRODUCTION, SENTRY_DSN="not-a-dsn"), "SENTRY_DSN")


class SentryReceiver(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_receiver():
    received: list[bytes] = []
    handler = type("Receiver", (SentryReceiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_an_unhandled_exception_is_reported_to_sentry_without_secrets(sentry_receiver):
    port, received = sentry_receiver

    result = start(
        SENTRY_ERROR,
        **{**SAFE_PRODUCTION, "ALLOWED_HOSTS": "testserver"},
        SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "500 Internal Server Error"
    reported = b"\n".join(received).decode()
    # An envelope: JSON lines, a header, then each item's header and payload.
    items = [json.loads(line) for line in reported.splitlines() if line.startswith("{")]
    (event,) = [item for item in items if "exception" in item]
    (error,) = event["exception"]["values"]
    assert (error["type"], error["value"]) == ("RuntimeError", "a bug in a DRF view")
    assert event["tags"]["request_id"] == "sentry-check-1"
    assert event["request"]["query_string"] == "token=[redacted]"
    for secret in (SECRET, "sekrit.jwt.value", "sekritcookie"):
        assert secret not in reported


# --- A real server's stdout -------------------------------------------------------------------

PASSWORD = "a-long-test-passphrase-42"


def http_get(url: str, headers: dict) -> tuple[int, str | None]:
    """(status, X-Request-ID of the response)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("X-Request-ID")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("X-Request-ID")


async def server_scenario(server: Server) -> list[str]:
    """Requests with known ids and two sockets; returns the credentials issued."""
    status, _ = await api(
        "POST",
        f"{server.http}{REGISTER}",
        {"email": "logs@example.com", "password": PASSWORD, "name": "Logs"},
    )
    assert status == 201
    status, tokens = await api(
        "POST", f"{server.http}{LOGIN}", {"email": "logs@example.com", "password": PASSWORD}
    )
    assert status == 200
    access = tokens["access"]
    calls = {
        "me": (ME, {"Authorization": f"Bearer {access}"}, 200),
        "missing": ("/api/v1/no-such-thing/", {}, 404),
        "query-token": (f"{ME}?token={access}", {"Authorization": f"Bearer {access}"}, 200),
    }
    for request_id, (path, headers, expected) in calls.items():
        status, returned_id = await asyncio.to_thread(
            http_get, f"{server.http}{path}", {**headers, "X-Request-ID": request_id}
        )
        assert (status, returned_id) == (expected, request_id)

    async with connect(server.events_url(access), open_timeout=5) as ws:
        assert (await receive(ws))["type"] == "connection.ready"
    async with connect(server.events_url("not.a.token"), open_timeout=5) as bad:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(bad.recv(), EVENT_TIMEOUT)
    return [access, tokens["refresh"]]


def wait_for_lines(server: Server, event: str, count: int, timeout: float = 10) -> list[dict]:
    """Every line of the server's stdout, parsed, once `count` lines of `event` are there."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
        if sum(line["event"] == event for line in lines) >= count:
            return lines
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than {count} {event} lines:\n{server.logs()}")
        time.sleep(0.1)


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_real_server_writes_one_json_line_per_request_to_stdout_without_tokens(tmp_path):
    require_services()
    server = Server("logs", tmp_path, server_env(), separate_stderr=True)
    try:
        server.wait_until_live()
        credentials = asyncio.run(server_scenario(server))
        # Every stdout line is JSON (a line that is not fails here).
        lines = wait_for_lines(server, "websocket_closed", 2)
        stdout = server.logs()
    finally:
        server.stop()
    stderr = server.stderr_path.read_text(errors="replace")

    by_id = {}
    for line in request_lines(lines):
        by_id.setdefault(line["request_id"], []).append(line)
    me, missing, query_token = by_id["me"], by_id["missing"], by_id["query-token"]
    assert [len(me), len(missing), len(query_token)] == [1, 1, 1]
    (me,), (missing,), (query_token,) = me, missing, query_token
    user_id = me["user_id"]
    assert isinstance(user_id, int)
    assert (me["method"], me["path"], me["status"]) == ("GET", ME, 200)
    assert me["duration_ms"] > 0
    assert (missing["status"], missing["user_id"], missing["level"]) == (404, None, "warning")
    assert query_token["path"] == f"{ME}?token=[redacted]"
    assert query_token["user_id"] == user_id
    # Register, login, the liveness probes: one line each too, under a generated id.
    assert all(len(requests) == 1 for requests in by_id.values()), by_id
    others = set(by_id) - {"me", "missing", "query-token"}
    assert len(others) >= 3 and all(is_uuid(request_id) for request_id in others)
    # And no second line: uvicorn's access log stays off as the server's --no-access-log says.
    assert [line for line in lines if line.get("logger") == "uvicorn.access"] == []

    sockets = [line for line in lines if line["event"].startswith("websocket_")]
    connected = [line for line in sockets if line["event"] == "websocket_connected"]
    closed = [line for line in sockets if line["event"] == "websocket_closed"]
    assert [(line["path"], line["user_id"]) for line in connected] == [("/ws/v1/events/", user_id)]
    assert sorted((line["user_id"] or 0, line["code"], line["closed_by"]) for line in closed) == [
        (0, 4401, "server"),
        (user_id, 1000, "client"),
    ]

    for credential in credentials:
        assert credential not in stdout and credential not in stderr
        assert credential.split(".")[2] not in stdout + stderr
    assert "token=[redacted]" in stdout
