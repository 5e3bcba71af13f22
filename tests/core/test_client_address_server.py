"""Which address the throttles see, against a real server process.

`X-Forwarded-For` names the client only when the connection comes from a proxy listed in
FORWARDED_ALLOW_IPS (default: none). Otherwise anyone could rotate the header and get a fresh
throttle bucket with every request.
"""

import http.client
import os
import uuid

import pytest
import redis

from tests.server import request, require_services, start_server

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


def test_a_client_cannot_claim_https_itself(server_with):
    server = server_with(SECURE_SSL_REDIRECT="1")

    status, hsts = https_status_and_hsts(server, **{"X-Forwarded-Proto": "https"})

    assert status == 301
    assert hsts is None
