"""Throttles, with rates overridden per test.

CI runs these against Redis, whose counters outlive a test (and a test run), so every test
gets its own cache key prefix, its own client addresses and its own emails instead of
clearing a cache that other processes may share.
"""

import hashlib
import ipaddress
import uuid
from unittest import mock

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from accounts.backends import EmailBackend
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.auth import login
from tests.support.envelope import assert_error

LOGIN = "/api/v1/auth/login/"
REGISTER = "/api/v1/auth/register/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Set throttle rates for one test, with counters no other test (or run) can share."""
    caches = {name: dict(config) for name, config in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = caches

    def set_rates(**overrides):
        rest_framework = dict(django_settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {
            **django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **overrides,
        }
        settings.REST_FRAMEWORK = rest_framework

    return set_rates


def unique_address() -> str:
    return str(ipaddress.IPv4Address(0x0A000000 | uuid.uuid4().int & 0x00FFFFFF))


def client_at(address: str | None = None) -> APIClient:
    return APIClient(REMOTE_ADDR=address or unique_address())


def unique_email() -> str:
    return f"throttle-{uuid.uuid4().hex[:12]}@example.com"


def assert_throttled(response) -> None:
    assert_error(response, 429, attr=None, code="throttled")
    retry_after = response["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 60


def bad_login(client, email=None):
    return client.post(LOGIN, {"email": email or unique_email(), "password": "wrong-password-1"})


def test_login_is_throttled_per_address_with_retry_after_and_the_error_envelope(rates):
    rates(login="3/min")
    client = client_at()

    answers = [bad_login(client).status_code for _ in range(3)]
    throttled = bad_login(client)

    assert answers == [401, 401, 401]
    assert_throttled(throttled)


def test_login_throttle_blocks_correct_credentials_too(rates):
    rates(login="2/min")
    user = UserFactory(email=unique_email())
    client = client_at()
    bad_login(client)
    bad_login(client)

    response = client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert_throttled(response)


def test_login_throttle_per_address_does_not_affect_other_addresses(rates):
    rates(login="2/min")
    client = client_at()
    bad_login(client)
    bad_login(client)
    assert_throttled(bad_login(client))

    user = UserFactory(email=unique_email())
    response = client_at().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"email": ', "application/json", 400),
        (b'["a@example.com"]', "application/json", 400),
        (b'{"email": ["a@example.com"], "password": "x"}', "application/json", 400),
        (b"email=a@example.com", "text/plain", 415),
    ],
)
def test_login_throttles_read_a_malformed_body_without_a_500(rates, body, content_type, status):
    rates(login="100/min")

    response = client_at().generic("POST", LOGIN, body, content_type=content_type)

    assert_error(response, status, attr=...)


def test_login_counts_failures_only(rates):
    rates(login="2/min")
    user = UserFactory(email=unique_email())
    client = client_at()

    logins = [
        client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}) for _ in range(4)
    ]

    assert [response.status_code for response in logins] == [200] * 4
    assert [bad_login(client).status_code for _ in range(2)] == [401, 401]
    assert_throttled(bad_login(client))


def spray(email: str, times: int) -> list[int]:
    """Wrong passwords for one account, each from a new address."""
    return [bad_login(client_at(), email).status_code for _ in range(times)]


def test_failures_from_elsewhere_never_stop_the_owner(rates):
    """Issue 20, point 3: anyone could keep a known account locked out."""
    rates(login="3/min")
    owner = UserFactory(email=unique_email())

    assert spray(owner.email, 10) == [401] * 10
    response = client_at().post(LOGIN, {"email": owner.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


def test_an_address_that_failed_for_an_account_over_its_limit_is_refused(rates):
    rates(login="3/min")
    email = unique_email()
    first = client_at()
    assert bad_login(first, email).status_code == 401
    assert spray(email, 2) == [401, 401]  # the account has 3 failures now

    assert_throttled(bad_login(first, email))
    # A new address gets one answer, then is refused like the others.
    fresh = client_at()
    assert bad_login(fresh, email).status_code == 401
    assert_throttled(bad_login(fresh, email))
    # The address's other accounts are not affected.
    assert bad_login(fresh).status_code == 401


def test_login_account_throttle_matches_the_email_case_insensitively(rates):
    rates(login="3/min")
    email = unique_email()
    client = client_at()

    assert bad_login(client, email).status_code == 401
    for variant in (email.upper(), f"  {email.title()} "):
        assert bad_login(client_at(), variant).status_code == 401

    assert_throttled(bad_login(client, email.upper()))


def test_login_account_throttle_does_not_lock_out_other_accounts(rates):
    rates(login="2/min")
    email = unique_email()
    client = client_at()
    bad_login(client, email)
    bad_login(client_at(), email)
    assert_throttled(bad_login(client, email))

    user = UserFactory(email=unique_email())
    response = client_at().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


def test_login_throttle_ignores_x_forwarded_for_without_trusted_proxies(rates):
    rates(login="2/min")
    address = unique_address()

    for _ in range(2):
        client = client_at(address)
        bad_login(client)

    spoofing = APIClient(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=unique_address())
    assert_throttled(bad_login(spoofing))


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_refresh_and_logout_are_throttled_per_address_at_the_login_rate(rates, url):
    rates(login="2/min")
    client = client_at()

    answers = [client.post(url, {"refresh": "garbage"}).status_code for _ in range(2)]
    throttled = client.post(url, {"refresh": "garbage"})

    assert answers == [401, 401]
    assert_throttled(throttled)
    assert client_at().post(url, {"refresh": "garbage"}).status_code == 401


def test_register_is_throttled_per_address(rates):
    rates(register="2/min")
    client = client_at()

    def register(c):
        return c.post(REGISTER, {"email": unique_email(), "password": "correct-horse-battery"})

    answers = [register(client).status_code for _ in range(2)]
    throttled = register(client)

    assert answers == [201, 201]
    assert_throttled(throttled)
    assert register(client_at()).status_code == 201


def test_register_throttle_is_separate_from_the_login_throttle(rates):
    rates(register="1/min", login="1/min")
    client = client_at()

    assert (
        client.post(
            REGISTER, {"email": unique_email(), "password": "correct-horse-battery"}
        ).status_code
        == 201
    )
    assert bad_login(client).status_code == 401


def test_user_throttle_applies_per_authenticated_user(rates):
    rates(user="3/min")
    first, second = UserFactory(email=unique_email()), UserFactory(email=unique_email())
    access = login(APIClient(), first)["access"]

    answers = [
        client_at().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code for _ in range(3)
    ]
    throttled = client_at().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")

    assert answers == [200, 200, 200]
    assert_throttled(throttled)
    other = APIClient(HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), second)['access']}")
    assert other.get(ME).status_code == 200


def test_user_throttle_does_not_apply_to_anonymous_requests(rates):
    rates(user="1/min")
    client = client_at()

    answers = [client.get(ME).status_code for _ in range(3)]

    assert answers == [401, 401, 401]


@pytest.mark.parametrize("scope", ["login", "register", "user"])
def test_a_rate_of_off_never_throttles(rates, scope):
    rates(**{scope: None})
    user = UserFactory(email=unique_email())
    client = client_at()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), user)['access']}")

    for _ in range(30):
        if scope == "login":
            response = bad_login(client, user.email)
            assert response.status_code == 401
        elif scope == "register":
            response = client.post(REGISTER, {"email": "x"})
            assert response.status_code == 400
        else:
            response = client.get(ME)
            assert response.status_code == 200


def test_throttles_are_off_in_the_test_settings():
    rates = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert rates == {"login": None, "register": None, "user": None}


# --- Throttle keys stay bounded (issue 9, point 2) ---------------------------------------------


def throttle_keys() -> list[str]:
    """The keys this test wrote: its cache has a key prefix of its own (see `rates`)."""
    backend = caches["default"]
    prefix = f"{backend.key_prefix}:"
    if isinstance(getattr(backend, "_cache", None), dict):  # locmem (Django's own store)
        keys = list(backend._cache)
    else:  # Redis, asked directly
        client = redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
        try:
            keys = [key.decode() for key in client.scan_iter(match=f"{prefix}*")]
        finally:
            client.close()
    return [key for key in keys if key.startswith(prefix)]


def test_30_logins_with_100_kb_emails_write_only_bounded_keys(rates):
    rates(login="1000/min")
    client = client_at()

    answers = [
        bad_login(client, f"{uuid.uuid4().hex}{'a' * 100_000}@example.com") for _ in range(30)
    ]

    for response in answers:
        assert_error(response, 400, attr="email", code="max_length")
    keys = throttle_keys()
    assert sum(len(key) for key in keys) <= 30 * 200, [key[:80] for key in keys]
    assert all(len(key) <= 200 for key in keys)


def test_an_email_longer_than_an_email_can_be_writes_no_throttle_key(rates):
    rates(login="1000/min")

    response = bad_login(client_at(), f"{'a' * 250}@example.com")

    assert_error(response, 400, attr="email", code="max_length")
    assert throttle_keys() == []


def test_account_throttle_keys_on_a_hash_of_the_normalized_email(rates):
    rates(login="1000/min")
    email = f"{'a' * 240}@example.com"  # 252 characters: a valid length

    assert bad_login(client_at(), f"  {email.upper()} ").status_code == 401

    account_keys = [key for key in throttle_keys() if "login-account" in key]
    assert len(account_keys) == 1
    assert email not in account_keys[0]
    assert account_keys[0].endswith(hashlib.sha256(email.encode()).hexdigest())


def test_once_the_address_throttle_refuses_the_account_throttle_writes_nothing(rates):
    rates(login="2/min")
    client = client_at()

    answers = [bad_login(client).status_code for _ in range(2)]
    for _ in range(5):
        assert_throttled(bad_login(client))

    assert answers == [401, 401]
    assert len([key for key in throttle_keys() if "login-account" in key]) == 2


# --- The Django admin's login (issue 9, point 8) ----------------------------------------------

ADMIN_LOGIN = "/admin/login/"


def admin_login(address: str, email: str, password: str = "wrong-password-1"):
    return Client(REMOTE_ADDR=address).post(
        ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"}
    )


def assert_admin_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.fixture
def superuser():
    return UserFactory(email=unique_email(), is_staff=True, is_superuser=True)


def test_admin_login_is_throttled_per_address(rates, superuser):
    rates(login="3/min")
    address = unique_address()

    answers = [admin_login(address, unique_email()).status_code for _ in range(3)]
    throttled = admin_login(address, superuser.email, DEFAULT_PASSWORD)

    assert answers == [200, 200, 200]  # the form again, with its error
    assert_admin_throttled(throttled)
    assert admin_login(unique_address(), superuser.email, DEFAULT_PASSWORD).status_code == 302


def test_admin_login_is_throttled_per_account_for_addresses_that_failed(rates, superuser):
    rates(login="3/min")
    address = unique_address()

    answers = [admin_login(address, superuser.email).status_code]
    answers += [admin_login(unique_address(), superuser.email).status_code for _ in range(5)]
    throttled = admin_login(address, superuser.email.upper(), DEFAULT_PASSWORD)

    assert answers == [200] * 6  # the form again, with its error
    assert_admin_throttled(throttled)
    # The owner, from an address that has not failed, is let in.
    assert admin_login(unique_address(), superuser.email, DEFAULT_PASSWORD).status_code == 302


def test_admin_and_api_logins_share_the_counts(rates, superuser):
    rates(login="3/min")
    address = unique_address()
    assert bad_login(client_at(address), superuser.email).status_code == 401
    for _ in range(2):
        assert bad_login(client_at(), superuser.email).status_code == 401

    assert_admin_throttled(admin_login(address, superuser.email, DEFAULT_PASSWORD))
    assert admin_login(unique_address(), superuser.email, DEFAULT_PASSWORD).status_code == 302
    # One count per address, whichever door: 1 API failure + 2 admin ones, then refused.
    assert [admin_login(address, unique_email()).status_code for _ in range(3)] == [200, 200, 429]


def test_a_throttled_admin_login_never_checks_the_password(rates, superuser):
    rates(login="1/min")
    address = unique_address()
    admin_login(address, superuser.email)

    with mock.patch.object(EmailBackend, "authenticate", return_value=None) as authenticate:
        response = admin_login(address, superuser.email, DEFAULT_PASSWORD)

    assert_admin_throttled(response)
    authenticate.assert_not_called()


def test_admin_logins_with_100_kb_emails_write_only_bounded_keys(rates):
    rates(login="1000/min")
    address = unique_address()

    answers = [admin_login(address, f"{'a' * 100_000}@example.com") for _ in range(30)]

    assert {response.status_code for response in answers} == {200}
    assert all(len(key) <= 200 for key in throttle_keys())
    assert not [key for key in throttle_keys() if "login-account" in key]


def test_showing_the_admin_login_page_is_not_throttled(rates):
    rates(login="1/min")
    client = Client(REMOTE_ADDR=unique_address())

    assert [client.get(ADMIN_LOGIN).status_code for _ in range(3)] == [200, 200, 200]


# --- Wrong current passwords at password/ (issue 9, point 9) ----------------------------------

PASSWORD = "/api/v1/auth/password/"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def change_password(client, current):
    return client.post(PASSWORD, {"current_password": current, "new_password": NEW_PASSWORD})


def test_wrong_current_passwords_are_throttled_per_account_at_the_login_rate(rates):
    rates(login="3/min")
    user = UserFactory(email=unique_email())
    first = client_at()
    first.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), user)['access']}")
    second = client_at()  # another session of the same account, from another address
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), user)['access']}")

    answers = [change_password(first, f"guess-{n}").status_code for n in range(3)]
    throttled = change_password(second, DEFAULT_PASSWORD)

    assert answers == [400, 400, 400]
    assert_throttled(throttled)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_throttled_password_change_never_checks_the_password(rates):
    rates(login="1/min")
    user = UserFactory(email=unique_email())
    client = client_at()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), user)['access']}")
    change_password(client, "guess-1")

    with mock.patch.object(User, "check_password") as check_password:
        response = change_password(client, DEFAULT_PASSWORD)

    assert_throttled(response)
    check_password.assert_not_called()


def test_only_wrong_current_passwords_count_towards_the_password_throttle(rates):
    rates(login="2/min")
    user = UserFactory(email=unique_email())
    client = client_at()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), user)['access']}")

    weak = [
        client.post(PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": "short"})
        for _ in range(3)
    ]

    assert [response.status_code for response in weak] == [400, 400, 400]
    assert change_password(client, DEFAULT_PASSWORD).status_code == 204


def test_the_password_throttle_does_not_lock_out_other_accounts(rates):
    rates(login="1/min")
    guesser, other = UserFactory(email=unique_email()), UserFactory(email=unique_email())
    address = unique_address()
    client = client_at(address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), guesser)['access']}")
    change_password(client, "guess-1")
    assert_throttled(change_password(client, "guess-2"))

    other_client = client_at(address)
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client_at(), other)['access']}")

    assert change_password(other_client, DEFAULT_PASSWORD).status_code == 204
