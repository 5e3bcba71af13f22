import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.serializers import UserSerializer
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.auth import login
from tests.support.concurrency import require_postgresql, run_concurrently
from tests.support.envelope import assert_error, codes_for

ME = "/api/v1/auth/me/"
LOGIN = "/api/v1/auth/login/"

pytestmark = pytest.mark.django_db


def test_me_returns_exactly_the_callers_user_fields(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": user.email,
        "email_verified": True,
        "name": user.name,
        "timezone": "UTC",
        "date_joined": user.date_joined.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def test_me_returns_json(auth_client):
    response = auth_client.get(ME)

    assert response["Content-Type"] == "application/json"


def test_me_without_a_token_is_401(api_client, db):
    response = api_client.get(ME)

    assert_error(response, 401, attr=None)


def test_patch_me_without_a_token_is_401(api_client, user):
    response = api_client.patch(ME, {"name": "Mallory"})

    assert_error(response, 401, attr=None)
    user.refresh_from_db()
    assert user.name != "Mallory"


def test_patch_me_changes_the_name(auth_client, user):
    response = auth_client.patch(ME, {"name": "Grace Hopper"})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Grace Hopper"
    user.refresh_from_db()
    assert user.name == "Grace Hopper"


def test_patch_me_trims_the_name(auth_client, user):
    response = auth_client.patch(ME, {"name": "  Grace  "})

    assert response.json()["name"] == "Grace"


def test_patch_me_may_clear_the_name(auth_client, user):
    response = auth_client.patch(ME, {"name": ""})

    assert response.status_code == 200
    assert response.json()["name"] == ""


def test_patch_me_changes_only_the_fields_it_names(auth_client, user):
    before = auth_client.get(ME).json()

    response = auth_client.patch(ME, {"timezone": "Asia/Tokyo"})

    assert response.json() == before | {"timezone": "Asia/Tokyo"}


def test_patch_me_with_an_empty_body_changes_nothing(auth_client, user):
    before = auth_client.get(ME).json()

    response = auth_client.patch(ME, {})

    assert response.status_code == 200
    assert response.json() == before


def test_patch_me_changes_the_timezone(auth_client, user):
    response = auth_client.patch(ME, {"timezone": "America/New_York"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.timezone == "America/New_York"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "localtime", "Factory", "", "utc+2"])
def test_patch_me_refuses_a_timezone_that_is_not_an_iana_zone(auth_client, user, timezone):
    response = auth_client.patch(ME, {"timezone": timezone})

    assert_error(response, 400, attr="timezone")
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_patch_me_changes_the_email_lower_cased_and_trimmed(auth_client, user):
    response = auth_client.patch(ME, {"email": "  Grace.Hopper@Navy.MIL "})

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "grace.hopper@navy.mil"
    user.refresh_from_db()
    assert user.email == "grace.hopper@navy.mil"


def test_changed_email_is_the_one_that_logs_in(auth_client, user):
    old_email = user.email
    auth_client.patch(ME, {"email": "new-address@example.com"})

    client = APIClient()
    assert (
        client.post(
            LOGIN, {"email": "New-Address@example.com", "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
    assert client.post(LOGIN, {"email": old_email, "password": DEFAULT_PASSWORD}).status_code == 401


def test_patch_me_refuses_another_users_email_in_another_case(auth_client, user):
    UserFactory(email="taken@example.com")

    response = auth_client.patch(ME, {"email": "TAKEN@Example.com"})

    errors = assert_error(response, 400, attr="email")
    assert codes_for(errors, "email") == {"unique"}
    user.refresh_from_db()
    assert user.email != "taken@example.com"


def test_patch_me_losing_a_race_for_an_email_is_a_400_not_a_500(auth_client, user, monkeypatch):
    validate_email = UserSerializer.validate_email

    def another_request_wins_after_validation(self, value):
        email = validate_email(self, value)
        UserFactory(email=email)
        return email

    monkeypatch.setattr(UserSerializer, "validate_email", another_request_wins_after_validation)

    response = auth_client.patch(ME, {"email": "wanted@example.com", "name": "Changed"})

    errors = assert_error(response, 400, attr="email")
    assert codes_for(errors, "email") == {"unique"}
    user.refresh_from_db()
    assert user.email != "wanted@example.com"
    assert user.name != "Changed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_one_email_let_exactly_one_user_have_it():
    require_postgresql()
    clients = [
        APIClient(
            raise_request_exception=False,
            HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), UserFactory())['access']}",
        )
        for _ in range(4)
    ]
    turn = iter(clients)  # each thread takes its own user's client

    answers = run_concurrently(
        lambda: next(turn).patch(ME, {"email": "wanted@example.com"}).status_code, 4
    )

    assert sorted(answers) == [200, 400, 400, 400]
    assert User.objects.filter(email="wanted@example.com").count() == 1


def test_patch_me_may_keep_its_own_email(auth_client, user):
    response = auth_client.patch(ME, {"email": user.email, "name": "Same Me"})

    assert response.status_code == 200, response.content
    assert response.json()["email"] == user.email


def test_patch_me_may_resend_its_own_email_in_another_case(auth_client, user):
    response = auth_client.patch(ME, {"email": user.email.upper()})

    assert response.status_code == 200, response.content
    assert response.json()["email"] == user.email


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b@example.com"])
def test_patch_me_refuses_an_invalid_email(auth_client, user, email):
    response = auth_client.patch(ME, {"email": email})

    assert_error(response, 400, attr="email")


@pytest.mark.parametrize("field", ["name", "email", "timezone"])
def test_patch_me_refuses_a_nul_character_on_its_field(auth_client, user, field):
    value = {"name": "Gr\x00ace", "email": "gr\x00ace@example.com", "timezone": "Europe/\x00"}

    response = auth_client.patch(ME, {field: value[field]})

    assert_error(response, 400, attr=field)


def test_patch_me_reports_every_invalid_field(auth_client):
    response = auth_client.patch(ME, {"email": "nope", "timezone": "Nowhere/Land"})

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"email", "timezone"}


def test_patch_me_ignores_unknown_and_read_only_fields(auth_client, user):
    before = auth_client.get(ME).json()

    response = auth_client.patch(
        ME,
        {
            "id": 9999,
            "date_joined": "2000-01-01T00:00:00Z",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "password": "sneaky-new-password-1",
            "unknown": "field",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json() == before
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert user.check_password(DEFAULT_PASSWORD)
    assert User.objects.filter(pk=9999).count() == 0


def test_put_me_is_405(auth_client, user):
    response = auth_client.put(
        ME, {"email": user.email, "name": "Put", "timezone": "UTC"}, format="json"
    )

    assert_error(response, 405, attr=None)
    user.refresh_from_db()
    assert user.name != "Put"


@pytest.mark.parametrize("method", ["post", "delete"])
def test_other_write_methods_on_me_are_405(auth_client, user, method):
    response = getattr(auth_client, method)(ME, {}, format="json")

    assert_error(response, 405, attr=None)
    assert User.objects.filter(pk=user.pk).exists()


def test_me_advertises_its_methods_in_allow(auth_client):
    response = auth_client.put(ME, {}, format="json")

    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert not {"PUT", "POST", "DELETE"} & allowed
