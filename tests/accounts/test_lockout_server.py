"""Nobody can lock a known account out, against a real server behind the platform setting.

FORWARDED_ALLOW_IPS=* (Render's and Heroku's router): each request's client address is the
rightmost X-Forwarded-For entry, so the test plays many clients from one machine.
"""

import http.client
import os
import secrets
import urllib.parse

import pytest
import redis

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.server import request, require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

RATE = 5
OWNER = "198.51.100.10"


@pytest.fixture
def server(tmp_path):
    require_services()
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no count from another test
    server = start_server(tmp_path, THROTTLE_LOGIN=f"{RATE}/min", FORWARDED_ALLOW_IPS="*")
    yield server
    server.stop()


def login(server, address: str, email: str, password: str) -> int:
    status, _ = request(
        "POST",
        f"{server.http}/api/v1/auth/login/",
        {"email": email, "password": password},
        headers={"X-Forwarded-For": f"10.9.9.9, {address}"},
    )
    return status


def admin_login(server, address: str, email: str, password: str) -> int:
    """Django's admin login form from `address`, with a CSRF cookie and the same secret as its
    token (what the form's page would give; rendering it needs collected static files)."""
    csrf = secrets.token_hex(16)  # 32 characters, Django's unmasked secret
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": email, "password": password}
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/admin/login/?next=/admin/",
            body=form,
            headers={
                "X-Forwarded-For": address,
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_password_spray_at_one_account_never_locks_its_owner_out(server):
    eve = UserFactory(email="eve@example.com", is_staff=True, is_superuser=True)

    # Four times the limit of wrong passwords for Eve, from 8 addresses; the first address
    # keeps trying after the account is over its limit.
    sprayed = [
        login(server, f"203.0.113.{n % 8}", eve.email, "wrong-password") for n in range(4 * RATE)
    ]

    assert sprayed[:RATE] == [401] * RATE
    assert 429 in sprayed[RATE:]  # addresses that failed for her are refused now
    assert login(server, "203.0.113.0", eve.email, DEFAULT_PASSWORD) == 429
    # Eve, from her own address, with her password: both doors let her in.
    assert login(server, OWNER, eve.email, DEFAULT_PASSWORD) == 200
    assert admin_login(server, OWNER, eve.email, DEFAULT_PASSWORD) == 302


def test_one_address_spraying_many_accounts_is_refused_whatever_the_account(server):
    statuses = [
        login(server, "203.0.113.50", f"user{n}@example.com", "guess") for n in range(RATE + 2)
    ]
    user = UserFactory(email="frank@example.com")

    assert statuses == [401] * RATE + [429, 429]
    assert login(server, "203.0.113.50", user.email, DEFAULT_PASSWORD) == 429
    assert admin_login(server, "203.0.113.50", user.email, DEFAULT_PASSWORD) == 429
    assert login(server, "203.0.113.51", user.email, DEFAULT_PASSWORD) == 200
