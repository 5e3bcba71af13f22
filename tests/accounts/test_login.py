import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.envelope import assert_error, codes_for

LOGIN = "/api/v1/auth/login/"
ME = "/api/v1/auth/me/"

pytestmark = pytest.mark.django_db


def test_login_returns_exactly_an_access_and_a_refresh_token(api_client, user):
    response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["access"] != body["refresh"]


def test_login_access_token_authenticates_me(api_client, user):
    tokens = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).json()

    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == user.id


def test_login_refresh_token_can_be_refreshed(api_client, user):
    tokens = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).json()

    response = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]})

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("typed", ["ADA@EXAMPLE.COM", "Ada@Example.com", "  ada@example.com  "])
def test_login_is_case_insensitive_on_email(api_client, typed):
    UserFactory(email="ada@example.com")

    response = api_client.post(LOGIN, {"email": typed, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200, response.content


def test_login_with_wrong_password_is_401(api_client, user):
    response = api_client.post(LOGIN, {"email": user.email, "password": "not-the-password"})

    assert_error(response, 401, attr=None)


def test_login_password_is_case_sensitive(api_client, user):
    response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD.upper()})

    assert_error(response, 401, attr=None)


def test_login_with_unknown_email_is_401(api_client, db):
    response = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "whatever-1"})

    assert_error(response, 401, attr=None)


def test_login_gives_the_same_answer_for_unknown_email_and_wrong_password(api_client, user):
    wrong_password = api_client.post(LOGIN, {"email": user.email, "password": "not-it-at-all"})
    unknown_email = api_client.post(
        LOGIN, {"email": "nobody@example.com", "password": "not-it-at-all"}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.content == unknown_email.content
    assert wrong_password.get("WWW-Authenticate") == unknown_email.get("WWW-Authenticate")


def test_login_of_an_inactive_user_is_401(api_client):
    UserFactory(email="gone@example.com", is_active=False)

    response = api_client.post(LOGIN, {"email": "gone@example.com", "password": DEFAULT_PASSWORD})

    assert_error(response, 401, attr=None)


def test_login_of_an_inactive_user_looks_like_wrong_credentials(api_client):
    UserFactory(email="gone@example.com", is_active=False)

    inactive = api_client.post(LOGIN, {"email": "gone@example.com", "password": DEFAULT_PASSWORD})
    unknown = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "x-y-z-1-2-3"})

    assert inactive.content == unknown.content


@pytest.mark.parametrize("missing", ["email", "password"])
def test_login_requires_email_and_password(api_client, user, missing):
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    del body[missing]

    response = api_client.post(LOGIN, body)

    errors = assert_error(response, 400, attr=missing)
    assert codes_for(errors, missing) == {"required"}


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_a_blank_field(api_client, user, field):
    body = {"email": user.email, "password": DEFAULT_PASSWORD, field: ""}

    response = api_client.post(LOGIN, body)

    errors = assert_error(response, 400, attr=field)
    assert codes_for(errors, field) == {"blank"}


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_a_nul_character_as_a_400_not_a_500(api_client, user, field):
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    body[field] = body[field][:3] + "\x00" + body[field][3:]

    response = api_client.post(LOGIN, body)

    assert_error(response, 400, attr=field)


def test_login_ignores_a_garbage_authorization_header(user):
    client = APIClient(HTTP_AUTHORIZATION="Bearer garbage")

    response = client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200, response.content


def test_login_tokens_are_fresh_on_every_login(api_client, user):
    body = {"email": user.email, "password": DEFAULT_PASSWORD}

    first = api_client.post(LOGIN, body).json()
    second = api_client.post(LOGIN, body).json()

    assert first["refresh"] != second["refresh"]
