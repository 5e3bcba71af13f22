"""Which address the throttles and the log see, against a real server process.

`X-Forwarded-For` names the client only when the connection comes from a proxy listed in
FORWARDED_ALLOW_IPS (default: none). Otherwise anyone could rotate the header and get a fresh
throttle bucket with every request. Even from a trusted proxy, only what the proxies added
counts: the client is the rightmost entry that no trusted proxy added, and with `*` (a
platform's router, which appends the address it saw) the rightmost entry.
"""

import http.client
import json
import os
import time
import uuid

import pytest
import redis

from tests.support.server import request, require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

ATTEMPTS = 5


def failed_logins(server, forwarded_for) -> list[int]:
    """Statuses of failed logins, each for another account (so only the address counts)."""
    statuses = []
    for _ in range(ATTEMPTS):
        status, _ = request(
            "POST",
            f"{server.http}/api/v1/auth/login/",
            {"email": f"{uuid.uuid4().hex}@example.com", "password": "wrong"},
            headers={"X-Forwarded-For": forwarded_for(len(statuses))},
        )
        statuses.append(status)
    return statuses


@pytest.fixture
def server_with(tmp_path):
    started = []

    def start(**env):
        require_services()
        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no bucket from another test
        server = start_server(tmp_path, f"s{len(started)}", THROTTLE_LOGIN="3/min", **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_rotated_forwarded_for_does_not_dodge_the_address_throttle(server_with):
    server = server_with()

    statuses = failed_logins(server, lambda attempt: f"203.0.113.{attempt}")

    assert statuses == [401, 401, 401, 429, 429]


def test_forwarded_for_from_an_untrusted_peer_is_ignored(server_with):
    server = server_with(FORWARDED_ALLOW_IPS="192.0.2.1")

    statuses = failed_logins(server, lambda attempt: f"203.0.113.{attempt}")

    assert statuses == [401, 401, 401, 429, 429]


def test_a_trusted_proxy_names_the_client(server_with):
    server = server_with(FORWARDED_ALLOW_IPS="127.0.0.1")

    # Each client has its own bucket...
    assert failed_logins(server, lambda attempt: f"203.0.113.{attempt}") == [401] * ATTEMPTS
    # ... and one client is throttled whatever the proxy's own address.
    assert failed_logins(server, lambda attempt: "198.51.100.7") == [401, 401, 401, 429, 429]


def test_the_client_is_the_last_address_the_trusted_proxy_did_not_add(server_with):
    """A client may send its own X-Forwarded-For; the proxy appends the real address."""
    server = server_with(FORWARDED_ALLOW_IPS="127.0.0.1")

    statuses = failed_logins(server, lambda attempt: f"10.9.9.{attempt}, 198.51.100.8")

    assert statuses == [401, 401, 401, 429, 429]


def test_every_proxy_trusted_the_client_is_the_entry_the_router_appended(server_with):
    """FORWARDED_ALLOW_IPS=*, as the Render and Heroku blueprints set it: the client writes
    whatever it likes on the left, the platform's router appends the real address."""
    server = server_with(FORWARDED_ALLOW_IPS="*")

    statuses = failed_logins(server, lambda attempt: f"10.9.9.{attempt}, 198.51.100.8")

    assert statuses == [401, 401, 401, 429, 429]


def test_every_proxy_trusted_each_client_the_router_saw_has_its_own_bucket(server_with):
    server = server_with(FORWARDED_ALLOW_IPS="*")

    statuses = failed_logins(server, lambda attempt: f"198.51.100.8, 203.0.113.{attempt}")

    assert statuses == [401] * ATTEMPTS


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(server_with):
    server = server_with(FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.0/8")

    # The client's own entry, the client, then an inner proxy of the trusted network.
    statuses = failed_logins(
        server, lambda attempt: f"192.0.2.{attempt}, 198.51.100.9, 10.1.2.{attempt}"
    )

    assert statuses == [401, 401, 401, 429, 429]


def logged_addresses(server, request_id: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
        found = [line["ip"] for line in lines if line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("trusted", ["*", "127.0.0.1"])
def test_the_log_names_the_address_the_throttles_see(server_with, trusted):
    server = server_with(FORWARDED_ALLOW_IPS=trusted)

    status, _ = request(
        "GET",
        f"{server.http}/api/v1/auth/me/",
        headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.8", "X-Request-ID": "whose-address"},
    )

    assert status == 401
    assert logged_addresses(server, "whose-address") == ["198.51.100.8"]


def https_status_and_hsts(server, **headers) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/api/v1/auth/me/", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Strict-Transport-Security")
    finally:
        connection.close()


def test_a_trusted_proxy_says_the_request_was_https(server_with):
    server = server_with(FORWARDED_ALLOW_IPS="127.0.0.1", SECURE_SSL_REDIRECT="1")

    status, hsts = https_status_and_hsts(server, **{"X-Forwarded-Proto": "https"})

    assert status == 401  # not redirected: the proxy terminated TLS
    assert hsts == "max-age=31536000; includeSubDomains"
    assert https_status_and_hsts(server)[0] == 301  # plain HTTP through the proxy
    # The proxy's own word is the last one: a client's "https" before it does not count.
    assert https_status_and_hsts(server, **{"X-Forwarded-Proto": "https, http"})[0] == 301


def test_a_client_cannot_claim_https_itself(server_with):
    server = server_with(SECURE_SSL_REDIRECT="1")

    status, hsts = https_status_and_hsts(server, **{"X-Forwarded-Proto": "https"})

    assert status == 301
    assert hsts is None
