from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from projects.models import Project
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.auth import login
from tests.support.concurrency import require_postgresql, run_concurrently
from tests.support.envelope import assert_error

REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
PASSWORD = "/api/v1/auth/password/"
NEW_PASSWORD = "a-brand-new-passphrase-77"

ACCESS_LIFETIME = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
REFRESH_LIFETIME = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_unauthorized(response) -> None:
    """Every 401 is the client_error envelope with one entry and no attr."""
    errors = assert_error(response, 401, attr=None)
    assert errors[0]["attr"] is None
    assert response.has_header("WWW-Authenticate")


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return ".".join([header, payload, signature[:middle] + replacement + signature[middle + 1 :]])


def change_password(user, access: str) -> None:
    response = bearer(access).post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.content


@pytest.fixture
def tokens(user, api_client):
    return login(api_client, user)


# --- Lifetimes --------------------------------------------------------------------------------


def test_token_lifetimes_follow_the_contract_defaults():
    assert timedelta(seconds=900) == ACCESS_LIFETIME
    assert timedelta(seconds=1209600) == REFRESH_LIFETIME


def test_access_token_claims_expire_after_access_token_lifetime(tokens):
    claims = claims_of(tokens["access"])

    assert claims["exp"] - claims["iat"] == ACCESS_LIFETIME.total_seconds()
    assert claims["token_type"] == "access"


def test_refresh_token_claims_expire_after_refresh_token_lifetime(tokens):
    claims = claims_of(tokens["refresh"])

    assert claims["exp"] - claims["iat"] == REFRESH_LIFETIME.total_seconds()
    assert claims["token_type"] == "refresh"


def test_access_token_still_works_just_before_it_expires(tokens):
    with time_machine.travel(timezone.now() + ACCESS_LIFETIME - timedelta(seconds=5)):
        response = bearer(tokens["access"]).get(ME)

    assert response.status_code == 200


def test_expired_access_token_is_401(tokens):
    with time_machine.travel(timezone.now() + ACCESS_LIFETIME + timedelta(seconds=5)):
        response = bearer(tokens["access"]).get(ME)

    assert_unauthorized(response)


def test_expired_refresh_token_is_401_at_refresh(api_client, tokens):
    with time_machine.travel(timezone.now() + REFRESH_LIFETIME + timedelta(seconds=5)):
        response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert_unauthorized(response)


def test_expired_refresh_token_is_401_at_logout(api_client, tokens):
    with time_machine.travel(timezone.now() + REFRESH_LIFETIME + timedelta(seconds=5)):
        response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert_unauthorized(response)


def test_refresh_after_the_access_token_expired_gives_a_working_access_token(api_client, tokens):
    with time_machine.travel(timezone.now() + ACCESS_LIFETIME + timedelta(seconds=60)):
        response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
        assert response.status_code == 200, response.content
        me = bearer(response.json()["access"]).get(ME)

    assert me.status_code == 200


# --- Expired is not invalid: `token_expired` tells a client that a refresh will help ---------


def after_access_lifetime():
    return time_machine.travel(timezone.now() + ACCESS_LIFETIME + timedelta(seconds=5))


def after_refresh_lifetime():
    return time_machine.travel(timezone.now() + REFRESH_LIFETIME + timedelta(seconds=5))


def assert_unauthorized_with(response, code: str) -> None:
    assert_unauthorized(response)
    assert response.json()["errors"][0]["code"] == code, response.json()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", ME),
        ("patch", ME),
        ("post", PASSWORD),
        ("get", "/api/v1/projects/"),
        ("post", "/api/v1/projects/"),
        ("get", "/api/v1/tasks/"),
    ],
)
def test_expired_access_token_is_token_expired_on_every_endpoint(tokens, method, url):
    with after_access_lifetime():
        response = getattr(bearer(tokens["access"]), method)(url, {})

    assert_unauthorized_with(response, "token_expired")


def test_expired_access_token_signed_with_another_key_is_token_not_valid(tokens):
    forged = jwt.encode(claims_of(tokens["access"]), "not-the-server-key" * 4, algorithm="HS256")

    with after_access_lifetime():
        response = bearer(forged).get(ME)

    assert_unauthorized_with(response, "token_not_valid")


def test_tampered_access_token_is_token_not_valid(tokens):
    assert_unauthorized_with(bearer(tamper_signature(tokens["access"])).get(ME), "token_not_valid")


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_expired_refresh_token_is_token_expired(api_client, tokens, url):
    with after_refresh_lifetime():
        response = api_client.post(url, {"refresh": tokens["refresh"]})

    assert_unauthorized_with(response, "token_expired")


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_tampered_refresh_token_is_token_not_valid(api_client, tokens, url):
    response = api_client.post(url, {"refresh": tamper_signature(tokens["refresh"])})

    assert_unauthorized_with(response, "token_not_valid")


def test_token_responses_are_never_stored(api_client, user, tokens):
    login_response = api_client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    refresh_response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    for response in (login_response, refresh_response):
        assert response.status_code == 200, response.content
        assert "no-store" in response["Cache-Control"], response["Cache-Control"]


# --- Refresh and rotation ---------------------------------------------------------------------


def test_refresh_returns_a_new_token_pair(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens["refresh"]
    assert body["access"] != tokens["access"]


def test_refreshed_access_token_authenticates_the_same_user(api_client, user, tokens):
    new = api_client.post(REFRESH, {"refresh": tokens["refresh"]}).json()

    response = bearer(new["access"]).get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == user.id


def test_refresh_token_rotates_and_the_old_one_is_revoked(api_client, tokens):
    first = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert first.status_code == 200

    replay = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert_unauthorized(replay)


def test_rotated_refresh_token_can_itself_be_refreshed(api_client, tokens):
    second = api_client.post(REFRESH, {"refresh": tokens["refresh"]}).json()

    third = api_client.post(REFRESH, {"refresh": second["refresh"]})

    assert third.status_code == 200, third.content


def test_rotated_out_refresh_token_cannot_log_out(api_client, tokens):
    api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert_unauthorized(response)


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_let_exactly_one_through():
    require_postgresql()
    tokens = login(APIClient(), UserFactory())

    answers = run_concurrently(
        lambda: APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).status_code, 4
    )

    assert sorted(answers) == [200, 401, 401, 401]


def test_refresh_requires_the_refresh_field(api_client, db):
    response = api_client.post(REFRESH, {})

    assert_error(response, 400, attr="refresh", code="required")


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "x" * 4000])
def test_refresh_with_a_garbage_token_is_rejected(api_client, db, garbage):
    response = api_client.post(REFRESH, {"refresh": garbage})

    if garbage == "":
        assert_error(response, 400, attr="refresh", code="blank")
    else:
        assert_unauthorized(response)


def test_access_token_sent_to_refresh_is_401(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tokens["access"]})

    assert_unauthorized(response)


def test_refresh_ignores_a_garbage_authorization_header(tokens):
    response = bearer("garbage").post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 200, response.content


# --- Logout -----------------------------------------------------------------------------------


def test_logout_is_204_without_an_access_token(api_client, tokens):
    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 204
    assert response.content == b""


def test_logged_out_refresh_token_cannot_be_refreshed(api_client, tokens):
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert_unauthorized(response)


def test_logging_out_twice_with_one_token_is_401(api_client, tokens):
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert_unauthorized(response)


def test_logout_revokes_only_that_session(api_client, user, tokens):
    other_session = login(APIClient(), user)

    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert api_client.post(REFRESH, {"refresh": other_session["refresh"]}).status_code == 200


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xxxx"])
def test_logout_with_an_invalid_token_is_401(api_client, db, garbage):
    response = api_client.post(LOGOUT, {"refresh": garbage})

    assert_unauthorized(response)


def test_logout_with_an_access_token_in_the_body_is_401(api_client, tokens):
    response = api_client.post(LOGOUT, {"refresh": tokens["access"]})

    assert_unauthorized(response)
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200


def test_logout_requires_the_refresh_field(api_client, db):
    response = api_client.post(LOGOUT, {})

    assert_error(response, 400, attr="refresh", code="required")


# --- Forged and misused tokens ----------------------------------------------------------------


def test_tampered_access_token_signature_is_401(tokens):
    response = bearer(tamper_signature(tokens["access"])).get(ME)

    assert_unauthorized(response)


def test_tampered_refresh_token_signature_is_401(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tamper_signature(tokens["refresh"])})

    assert_unauthorized(response)


def test_access_token_with_a_changed_payload_is_401(user, tokens):
    other = UserFactory()
    header, _, signature = tokens["access"].split(".")
    claims = claims_of(tokens["access"]) | {"user_id": str(other.id)}
    forged_payload = jwt.encode(claims, "irrelevant-key-" * 4, algorithm="HS256").split(".")[1]

    response = bearer(f"{header}.{forged_payload}.{signature}").get(ME)

    assert_unauthorized(response)


def test_access_token_with_alg_none_is_401(tokens):
    unsigned = jwt.encode(claims_of(tokens["access"]), None, algorithm="none")

    response = bearer(unsigned).get(ME)

    assert_unauthorized(response)


def test_refresh_token_with_alg_none_is_401(api_client, tokens):
    unsigned = jwt.encode(claims_of(tokens["refresh"]), None, algorithm="none")

    assert_unauthorized(api_client.post(REFRESH, {"refresh": unsigned}))
    assert_unauthorized(api_client.post(LOGOUT, {"refresh": unsigned}))


def test_access_token_signed_with_another_key_is_401(tokens):
    forged = jwt.encode(claims_of(tokens["access"]), "not-the-server-key" * 4, algorithm="HS256")

    response = bearer(forged).get(ME)

    assert_unauthorized(response)


def test_refresh_token_used_as_bearer_access_token_is_401(tokens):
    response = bearer(tokens["refresh"]).get(ME)

    assert_unauthorized(response)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "garbage",
        "Bearer \x00",
    ],
)
def test_malformed_authorization_header_is_401(db, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get(ME)

    assert_unauthorized(response)


# --- Users that changed --------------------------------------------------------------------


def delete_user(user) -> None:
    Project.objects.filter(owner=user).delete()
    user.delete()


def test_deleted_users_refresh_token_is_401_not_500(api_client, user, tokens):
    delete_user(user)

    assert_unauthorized(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


def test_deleted_users_refresh_token_cannot_log_out(api_client, user, tokens):
    delete_user(user)

    assert_unauthorized(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}))


def test_deleted_users_access_token_is_401(user, tokens):
    delete_user(user)

    assert_unauthorized(bearer(tokens["access"]).get(ME))


def test_deactivated_users_tokens_are_401(api_client, user, tokens):
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_unauthorized(bearer(tokens["access"]).get(ME))
    assert_unauthorized(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


def test_password_change_revokes_the_old_access_token(user, tokens):
    change_password(user, tokens["access"])

    assert_unauthorized(bearer(tokens["access"]).get(ME))


def test_password_change_revokes_the_old_refresh_token_at_refresh(api_client, user, tokens):
    change_password(user, tokens["access"])

    assert_unauthorized(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


def test_password_change_revokes_the_old_refresh_token_at_logout(api_client, user, tokens):
    change_password(user, tokens["access"])

    assert_unauthorized(api_client.post(LOGOUT, {"refresh": tokens["refresh"]}))


def test_password_change_revokes_every_other_session(api_client, user, tokens):
    other_session = login(APIClient(), user)

    change_password(user, tokens["access"])

    assert_unauthorized(bearer(other_session["access"]).get(ME))
    assert_unauthorized(api_client.post(REFRESH, {"refresh": other_session["refresh"]}))


def test_password_change_revokes_a_refresh_token_even_if_its_blacklist_row_is_missing(
    api_client, user, tokens
):
    """The refresh token's password-hash claim alone must be enough to refuse it."""

    change_password(user, tokens["access"])
    BlacklistedToken.objects.filter(token__user=user).delete()

    assert_unauthorized(api_client.post(REFRESH, {"refresh": tokens["refresh"]}))


def test_tokens_issued_after_a_password_change_work(api_client, user, tokens):
    change_password(user, tokens["access"])

    fresh = login(APIClient(), user, password=NEW_PASSWORD)

    assert bearer(fresh["access"]).get(ME).status_code == 200
    refreshed = api_client.post(REFRESH, {"refresh": fresh["refresh"]})
    assert refreshed.status_code == 200, refreshed.content
    assert bearer(refreshed.json()["access"]).get(ME).status_code == 200


@pytest.mark.parametrize("case", ["deactivated", "deleted", "password_changed", "malformed"])
def test_every_bad_token_but_an_expired_one_is_token_not_valid(api_client, user, tokens, case):
    """The contract has two codes for a bad token; simplejwt's own (`user_inactive`,
    `user_not_found`, `password_changed`, `bad_authorization_header`) never reach clients."""
    header = f"Bearer {tokens['access']}"
    if case == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif case == "deleted":
        delete_user(user)
    elif case == "password_changed":
        change_password(user, tokens["access"])
    else:
        header = f"Bearer {tokens['access']} extra"

    response = APIClient(HTTP_AUTHORIZATION=header).get(ME)

    assert_unauthorized_with(response, "token_not_valid")
