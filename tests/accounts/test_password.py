import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD
from tests.support.envelope import assert_error, codes_for

PASSWORD = "/api/v1/auth/password/"
LOGIN = "/api/v1/auth/login/"
NEW_PASSWORD = "a-brand-new-passphrase-77"

pytestmark = pytest.mark.django_db


def change(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    return client.post(PASSWORD, {"current_password": current, "new_password": new})


def test_password_change_is_204_with_no_body(auth_client):
    response = change(auth_client)

    assert response.status_code == 204, response.content
    assert response.content == b""


def test_new_password_logs_in_and_old_does_not(auth_client, user):
    change(auth_client)

    client = APIClient()
    assert client.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD}).status_code == 200
    old = client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert_error(old, 401, attr=None)


def test_password_change_needs_the_correct_current_password(auth_client, user):
    response = change(auth_client, current="not-my-password")

    errors = assert_error(response, 400, attr="current_password")
    assert codes_for(errors, "current_password") == {"wrong_password"}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_wrong_current_password_does_not_revoke_tokens(auth_client):
    change(auth_client, current="not-my-password")

    assert auth_client.get("/api/v1/auth/me/").status_code == 200


@pytest.mark.parametrize(
    ("new", "expected_codes"),
    [
        ("short1x", {"password_too_short"}),
        ("password123", {"password_too_common"}),
        ("48213975310462", {"password_entirely_numeric"}),
    ],
)
def test_password_change_refuses_a_weak_new_password(auth_client, user, new, expected_codes):
    response = change(auth_client, new=new)

    errors = assert_error(response, 400, attr="new_password")
    assert codes_for(errors, "new_password") == expected_codes
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_refuses_a_new_password_similar_to_the_email(auth_client, user):
    response = change(auth_client, new=user.email)

    errors = assert_error(response, 400, attr="new_password")
    assert "password_too_similar" in codes_for(errors, "new_password")


def test_a_new_password_equal_to_the_current_one_is_refused(auth_client, user):
    response = change(auth_client, new=DEFAULT_PASSWORD)

    errors = assert_error(response, 400, attr="new_password")
    assert codes_for(errors, "new_password") == {"password_unchanged"}
    assert auth_client.get("/api/v1/auth/me/").status_code == 200  # nothing was revoked


@pytest.mark.parametrize("missing", ["current_password", "new_password"])
def test_password_change_requires_both_fields(auth_client, user, missing):
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    del body[missing]

    response = auth_client.post(PASSWORD, body)

    errors = assert_error(response, 400, attr=missing)
    assert codes_for(errors, missing) == {"required"}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_does_not_trim_passwords(auth_client, user):
    response = change(auth_client, new=f"  {NEW_PASSWORD}  ")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(f"  {NEW_PASSWORD}  ")


def test_password_change_without_a_token_is_401(api_client, user):
    response = change(api_client)

    assert_error(response, 401, attr=None)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_response_carries_no_password(auth_client):
    response = change(auth_client, new="password123")

    assert "password123" not in response.content.decode()
