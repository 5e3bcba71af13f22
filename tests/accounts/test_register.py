import json

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.serializers import RegisterSerializer
from projects.models import Membership, Project, Role
from tests.factories import UserFactory
from tests.support.concurrency import require_postgresql, run_concurrently
from tests.support.envelope import assert_error, codes_for

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.django_db


def register(client, **body):
    body.setdefault("email", "ada@example.com")
    body.setdefault("password", PASSWORD)
    return client.post(REGISTER, body, format="json")


def test_register_returns_201_with_exactly_the_user_fields(api_client):
    response = register(api_client, name="Ada Lovelace", timezone="Europe/London")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "email", "email_verified", "name", "timezone", "date_joined"}
    assert body["email_verified"] is False
    user = User.objects.get()
    assert body["id"] == user.id
    assert body["email"] == "ada@example.com"
    assert body["name"] == "Ada Lovelace"
    assert body["timezone"] == "Europe/London"
    assert body["date_joined"].endswith("Z")


def test_register_never_returns_the_password_or_its_hash(api_client):
    response = register(api_client)

    assert response.status_code == 201
    user = User.objects.get()
    text = response.content.decode()
    assert PASSWORD not in text
    assert user.password not in text
    assert "password" not in text


def test_register_trims_and_lower_cases_the_email(api_client):
    response = register(api_client, email="  Ada.Lovelace@Example.COM  ")

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "ada.lovelace@example.com"
    assert User.objects.get().email == "ada.lovelace@example.com"


def test_register_trims_the_name(api_client):
    response = register(api_client, name="  Ada  ")

    assert response.status_code == 201
    assert response.json()["name"] == "Ada"


def test_register_stores_a_usable_password(api_client):
    register(api_client)

    assert User.objects.get().check_password(PASSWORD)
    response = api_client.post(LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200


def test_register_creates_the_users_inbox_with_an_owner_membership(api_client):
    response = register(api_client)

    user = User.objects.get(pk=response.json()["id"])
    inbox = Project.objects.get(owner=user)
    assert inbox.is_inbox is True
    membership = Membership.objects.get(project=inbox)
    assert membership.user == user
    assert membership.role == Role.OWNER


def test_register_defaults_timezone_to_utc(api_client):
    response = register(api_client)

    assert response.json()["timezone"] == "UTC"
    assert User.objects.get().timezone == "UTC"


def test_register_accepts_an_iana_timezone(api_client):
    response = register(api_client, timezone="America/Argentina/Buenos_Aires")

    assert response.status_code == 201
    assert response.json()["timezone"] == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "localtime", "Factory", "posixrules", ""])
def test_register_refuses_a_timezone_that_is_not_an_iana_zone(api_client, timezone):
    response = register(api_client, timezone=timezone)

    assert_error(response, 400, attr="timezone")
    assert not User.objects.exists()


@pytest.mark.parametrize("email", ["ADA@example.com", " Ada@Example.Com "])
def test_register_refuses_an_email_taken_in_another_case(api_client, email):
    UserFactory(email="ada@example.com")

    response = register(api_client, email=email)

    errors = assert_error(response, 400, attr="email")
    assert codes_for(errors, "email") == {"unique"}
    assert User.objects.count() == 1


def test_register_losing_a_race_for_the_email_is_a_400_not_a_500(api_client, monkeypatch):
    validate_email = RegisterSerializer.validate_email

    def another_request_wins_after_validation(self, value):
        email = validate_email(self, value)
        UserFactory(email=email)
        return email

    monkeypatch.setattr(RegisterSerializer, "validate_email", another_request_wins_after_validation)

    response = register(api_client, email="Race@Example.com")

    errors = assert_error(response, 400, attr="email")
    assert codes_for(errors, "email") == {"unique"}
    assert User.objects.filter(email="race@example.com").count() == 1
    assert Project.objects.filter(owner__email="race@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_with_one_email_create_one_user():
    require_postgresql()

    def register_race():
        response = register(APIClient(raise_request_exception=False), email="race@example.com")
        return response.status_code, response.json()

    answers = run_concurrently(register_race, 4)

    assert sorted(status for status, _ in answers) == [201, 400, 400, 400]
    for status, body in answers:
        if status == 400:
            assert body["errors"] == [
                {"code": "unique", "detail": body["errors"][0]["detail"], "attr": "email"}
            ]
    assert User.objects.filter(email="race@example.com").count() == 1
    assert Project.objects.filter(owner__email="race@example.com", is_inbox=True).count() == 1


def test_register_refuses_an_invalid_email(api_client):
    response = register(api_client, email="not-an-email")

    assert_error(response, 400, attr="email")


@pytest.mark.parametrize(
    ("password", "expected_codes"),
    [
        ("short1x", {"password_too_short"}),
        ("password123", {"password_too_common"}),
        ("48213975310462", {"password_entirely_numeric"}),
        ("1234", {"password_too_short", "password_too_common", "password_entirely_numeric"}),
    ],
)
def test_register_refuses_a_weak_password_with_the_validator_codes(
    api_client, password, expected_codes
):
    response = register(api_client, password=password)

    errors = assert_error(response, 400, attr="password")
    assert codes_for(errors, "password") == expected_codes
    assert {error["attr"] for error in errors} == {"password"}
    assert not User.objects.exists()


def test_register_refuses_a_password_too_similar_to_the_email(api_client):
    response = register(
        api_client, email="grace.hopper@example.com", password="grace.hopper@example"
    )

    errors = assert_error(response, 400, attr="password")
    assert "password_too_similar" in codes_for(errors, "password")


@pytest.mark.parametrize("missing", ["email", "password"])
def test_register_requires_email_and_password(api_client, missing):
    body = {"email": "ada@example.com", "password": PASSWORD}
    del body[missing]

    response = api_client.post(REGISTER, body, format="json")

    errors = assert_error(response, 400, attr=missing)
    assert codes_for(errors, missing) == {"required"}
    assert not User.objects.exists()


def test_register_reports_every_missing_field_at_once(api_client):
    response = api_client.post(REGISTER, {}, format="json")

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"email", "password"}


def test_register_ignores_unknown_and_read_only_fields(api_client):
    response = register(
        api_client,
        id=9999,
        is_staff=True,
        is_superuser=True,
        is_active=False,
        date_joined="2000-01-01T00:00:00Z",
        favourite_colour="teal",
    )

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert user.id != 9999
    assert response.json()["id"] == user.id
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.is_active is True
    assert user.date_joined.year != 2000
    assert not response.json()["date_joined"].startswith("2000-")


@pytest.mark.parametrize("field", ["name", "email"])
def test_register_refuses_a_nul_character_on_its_field(api_client, field):
    value = {"name": "Ada\x00Lovelace", "email": "ada\x00@example.com"}[field]

    response = register(api_client, **{field: value})

    assert_error(response, 400, attr=field)
    assert not User.objects.exists()


@pytest.mark.parametrize("field", ["name", "email", "password", "timezone"])
def test_register_refuses_a_lone_surrogate_on_its_field(api_client, field):
    """A lone UTF-16 surrogate cannot be encoded as UTF-8 for the database."""
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada", "timezone": "UTC"}
    raw = json.dumps(body).replace(body[field], body[field][:2] + "\\ud800" + body[field][2:])

    response = api_client.generic("POST", REGISTER, raw, content_type="application/json")

    assert_error(response, 400, attr=field)
    assert not User.objects.exists()


def test_register_refuses_a_nul_character_in_the_password(api_client):
    response = register(api_client, password="correct\x00horse-battery")

    assert_error(response, 400, attr="password")
    assert not User.objects.exists()


def test_register_ignores_a_garbage_authorization_header():
    client = APIClient(HTTP_AUTHORIZATION="Bearer not.a.token")

    response = register(client)

    assert response.status_code == 201, response.content


def test_register_ignores_another_users_valid_access_token(auth_client):
    response = register(auth_client, email="someone-else@example.com")

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "someone-else@example.com"


@pytest.mark.parametrize("body", [[], "a string", 42, None])
def test_register_refuses_a_body_that_is_not_an_object(api_client, body):
    response = api_client.post(REGISTER, body, format="json")

    assert_error(response, 400)
    assert not User.objects.exists()


@pytest.mark.parametrize("field", ["email", "password", "name", "timezone"])
def test_register_refuses_a_non_string_field(api_client, field):
    response = register(api_client, **{field: {"nested": "object"}})

    assert_error(response, 400, attr=field)
    assert not User.objects.exists()


def test_every_field_error_is_reported_at_once(api_client, db):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "not-an-email", "password": "123", "timezone": "Mars/Olympus"},
        format="json",
    )

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {
        "email",
        "password",
        "timezone",
    }


def test_a_password_like_the_email_is_still_refused(api_client, db):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "grace.hopper@example.com", "password": "grace.hopper@example.com"},
        format="json",
    )

    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == ["password"]
