"""Personal access tokens: `/api/v1/auth/tokens/`, the secret, authentication with it,
expiry, revocation and what a token may never do."""

import hashlib
import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import personal_tokens
from accounts.models import PersonalAccessToken
from accounts.services import user_deactivate
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.personal_tokens import (
    READ,
    READ_WRITE,
    TOKENS,
    WRITE,
    bearer,
    make_token,
    token_client,
    token_url,
)
from tests.support.urls import ME, PASSWORD, PROJECTS

pytestmark = pytest.mark.django_db

TOKEN_FIELDS = {"id", "name", "scopes", "project_ids", "created_at", "expires_at", "last_used_at"}
SECRET = re.compile(r"tl_pat_[0-9A-Za-z]{38}")
NEW_PASSWORD = "a-brand-new-passphrase-77"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def create(client, **body):
    body.setdefault("name", "CI")
    body.setdefault("scopes", READ)
    return client.post(TOKENS, body, format="json")


def parse(stamp: str):
    return timezone.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# --- create, list, delete -------------------------------------------------------------------


def test_create_returns_the_secret_once_with_the_token(auth_client, user):
    response = create(auth_client, name="  Nightly report  ", scopes=["write", "read"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == TOKEN_FIELDS | {"token"}
    assert SECRET.fullmatch(body["token"]), body["token"]
    assert body["name"] == "Nightly report"
    assert body["scopes"] == ["read", "write"]
    assert body["project_ids"] is None
    assert body["last_used_at"] is None
    assert TIMESTAMP.fullmatch(body["created_at"]) and TIMESTAMP.fullmatch(body["expires_at"])
    assert "no-store" in response["Cache-Control"]
    listed = auth_client.get(TOKENS).json()["results"]
    assert [token["id"] for token in listed] == [body["id"]]
    assert set(listed[0]) == TOKEN_FIELDS  # never the secret again


def test_the_secret_is_stored_only_as_a_sha256_hash(auth_client):
    secret = create(auth_client).json()["token"]

    row = PersonalAccessToken.objects.values().get()
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())
    assert row["prefix"] == secret[: len("tl_pat_") + 4]  # enough to recognise, not to use


def test_secrets_are_random_and_carry_a_checksum():
    secrets = {personal_tokens.new_secret() for _ in range(50)}

    assert len(secrets) == 50
    assert all(personal_tokens.well_formed(secret) for secret in secrets)
    secret = secrets.pop()
    typo = secret[:10] + ("a" if secret[10] != "a" else "b") + secret[11:]
    assert not personal_tokens.well_formed(typo)


def test_expiry_defaults_to_90_days(auth_client):
    before = timezone.now()
    body = create(auth_client).json()

    expires_at = parse(body["expires_at"])
    assert before + timedelta(days=90) <= expires_at <= timezone.now() + timedelta(days=90)


def test_expiry_may_be_up_to_365_days_ahead(auth_client):
    wanted = timezone.now() + timedelta(days=365) - timedelta(seconds=5)
    body = create(auth_client, expires_at=wanted.isoformat()).json()

    assert parse(body["expires_at"]) == wanted


def test_a_scope_named_twice_counts_once(auth_client):
    assert create(auth_client, scopes=["read", "read"]).json()["scopes"] == ["read"]


def test_project_ids_are_kept_sorted_once_each(auth_client, user):
    first, second = ProjectFactory(owner=user), ProjectFactory(owner=user)

    body = create(auth_client, project_ids=[second.id, first.id, second.id]).json()

    assert body["project_ids"] == [first.id, second.id]


def test_list_shows_only_your_tokens_newest_first(auth_client, user):
    make_token(UserFactory())
    older = create(auth_client, name="older").json()["id"]
    newer = create(auth_client, name="newer").json()["id"]

    body = auth_client.get(TOKENS).json()

    assert body["count"] == 2
    assert [token["id"] for token in body["results"]] == [newer, older]


def test_delete_revokes_the_token_at_once(auth_client):
    body = create(auth_client).json()
    client = bearer(body["token"])
    assert client.get(ME).status_code == 200

    assert auth_client.delete(token_url(body["id"])).status_code == 204

    assert_error(client.get(ME), 401, code="token_not_valid")
    assert auth_client.get(TOKENS).json()["count"] == 0


def test_someone_elses_token_is_404_and_survives(auth_client):
    other = UserFactory()
    secret = make_token(other)
    token = PersonalAccessToken.objects.get(user=other)

    assert_error(auth_client.delete(token_url(token.id)), 404)
    assert bearer(secret).get(ME).status_code == 200


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"scopes": ["read"]}, "name"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "   ", "scopes": ["read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name"),
        ({"name": "a\x00b", "scopes": ["read"]}, "name"),
        ({"name": "CI"}, "scopes"),
        ({"name": "CI", "scopes": []}, "scopes"),
        ({"name": "CI", "scopes": "read"}, "scopes"),
        ({"name": "CI", "scopes": None}, "scopes"),
        ({"name": "CI", "scopes": ["admin"]}, "scopes.0"),
        ({"name": "CI", "scopes": ["read", "write", "read"]}, "scopes"),
        ({"name": "CI", "scopes": ["read"], "project_ids": []}, "project_ids"),
        ({"name": "CI", "scopes": ["read"], "project_ids": "1"}, "project_ids"),
        ({"name": "CI", "scopes": ["read"], "project_ids": ["x"]}, "project_ids.0"),
        ({"name": "CI", "scopes": ["read"], "project_ids": [0]}, "project_ids.0"),
        ({"name": "CI", "scopes": ["read"], "project_ids": [2**63]}, "project_ids.0"),
        ({"name": "CI", "scopes": ["read"], "expires_at": "soon"}, "expires_at"),
        ({"name": "CI", "scopes": ["read"], "expires_at": None}, "expires_at"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(auth_client, body, attr):
    response = auth_client.post(TOKENS, body, format="json")

    assert_error(response, 400, attr=attr)
    assert not PersonalAccessToken.objects.exists()


@pytest.mark.parametrize(
    "ahead", [timedelta(seconds=-1), timedelta(0), timedelta(days=365, seconds=60)]
)
def test_an_expiry_in_the_past_or_more_than_a_year_ahead_is_400(auth_client, ahead):
    response = create(auth_client, expires_at=(timezone.now() + ahead).isoformat())

    assert_error(response, 400, attr="expires_at")


def test_only_projects_you_belong_to_may_be_named(auth_client, user, team):
    mine = ProjectFactory(owner=user)
    MembershipFactory(project=team.project, user=user)
    missing = 10**12

    response = create(auth_client, project_ids=[mine.id, ProjectFactory().id, missing])

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"project_ids.1", "project_ids.2"}
    assert len({error["detail"] for error in errors}) == 1  # a stranger's = a missing one
    assert create(auth_client, project_ids=[mine.id, team.project.id]).status_code == 201


# --- authentication -------------------------------------------------------------------------


def test_a_token_authenticates_its_user(user):
    response = token_client(user).get(ME)

    assert response.status_code == 200, response.content
    assert response.json()["id"] == user.id


def test_an_expired_token_is_401_token_expired(user):
    secret = make_token(user, expires_at=timezone.now() + timedelta(days=1))

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = bearer(secret).get(ME)

    errors = assert_error(response, 401, attr=None, code="token_expired")
    assert errors[0]["code"] == "token_expired"
    assert response.has_header("WWW-Authenticate")


@pytest.mark.parametrize(
    "secret",
    [
        "tl_pat_",
        "tl_pat_short",
        "tl_pat_" + "A" * 38,  # the right shape, a wrong checksum
        "tl_pat_" + "é" * 38,
    ],
)
def test_a_malformed_token_is_401_token_not_valid_without_a_query(
    user, secret, django_assert_num_queries
):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    with django_assert_num_queries(0):
        response = client.get(ME)

    assert_error(response, 401, attr=None, code="token_not_valid")


def test_a_well_formed_unknown_token_is_401_token_not_valid(user):
    assert_error(
        bearer(personal_tokens.new_secret()).get(ME), 401, attr=None, code="token_not_valid"
    )


def test_a_token_of_a_deactivated_user_is_refused_however_it_was_deactivated(user):
    secret = make_token(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # behind the services' back

    assert_error(bearer(secret).get(ME), 401, code="token_not_valid")


# --- revocation by password change and deactivation ----------------------------------------


def test_a_password_change_revokes_every_token(auth_client, user):
    secrets = [make_token(user), make_token(user, scopes=READ)]
    kept = make_token(UserFactory())

    response = auth_client.post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204, response.content
    for secret in secrets:
        assert_error(bearer(secret).get(ME), 401, code="token_not_valid")
    assert not PersonalAccessToken.objects.filter(user=user).exists()
    assert bearer(kept).get(ME).status_code == 200


def test_deactivation_revokes_every_token(user):
    secret = make_token(user)

    user_deactivate(user=user)
    type(user).objects.filter(pk=user.pk).update(is_active=True)  # even if reactivated later

    assert_error(bearer(secret).get(ME), 401, code="token_not_valid")
    assert not PersonalAccessToken.objects.filter(user=user).exists()


def test_deactivation_in_the_admin_revokes_every_token(user, client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    secret = make_token(user)
    client.force_login(operator)

    response = client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [user.pk]}
    )

    assert response.status_code == 302, response.content
    assert_error(bearer(secret).get(ME), 401, code="token_not_valid")


# --- what a token may never do ------------------------------------------------------------


@pytest.mark.parametrize("scopes", [READ, WRITE, READ_WRITE])
def test_a_token_cannot_list_create_or_revoke_tokens(user, scopes):
    client = token_client(user, scopes=scopes)
    own = PersonalAccessToken.objects.get(user=user)

    assert_error(client.get(TOKENS), 403, code="permission_denied")
    assert_error(create(client), 403, code="permission_denied")
    assert_error(client.delete(token_url(own.id)), 403, code="permission_denied")
    assert_error(client.delete(token_url(10**12)), 403)  # before the lookup: nothing leaks
    assert PersonalAccessToken.objects.filter(user=user).count() == 1


def test_a_token_cannot_change_the_password(user):
    client = token_client(user, scopes=READ_WRITE)

    response = client.post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert_error(response, 403, code="permission_denied")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_token_cannot_change_the_email_but_may_edit_the_rest(user):
    client = token_client(user, scopes=READ_WRITE)

    refused = client.patch(ME, {"email": "someone.else@example.com", "name": "Changed"})
    assert_error(refused, 403, code="permission_denied")
    user.refresh_from_db()
    assert user.name != "Changed"

    same_email = client.patch(ME, {"email": user.email.upper(), "name": "Renamed"})
    assert same_email.status_code == 200, same_email.content
    assert same_email.json()["name"] == "Renamed"
    assert same_email.json()["email"] == user.email


def test_a_jwt_still_changes_the_email(auth_client, user):
    response = auth_client.patch(ME, {"email": "new.address@example.com"})

    assert response.status_code == 200, response.content


# --- last_used_at ---------------------------------------------------------------------------


def test_last_used_at_is_written_at_most_once_a_minute(user):
    client = token_client(user)
    token = PersonalAccessToken.objects.get(user=user)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        with CaptureQueriesContext(connection) as first:
            client.get(ME)
        token.refresh_from_db()
        assert token.last_used_at == start
        assert sum("UPDATE" in query["sql"] for query in first.captured_queries) == 1

    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        with CaptureQueriesContext(connection) as again:
            client.get(ME)
        assert not any("UPDATE" in query["sql"] for query in again.captured_queries)
        token.refresh_from_db()
        assert token.last_used_at == start

    later = start + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        client.get(ME)
    token.refresh_from_db()
    assert token.last_used_at == later
    listed = APIClient()
    listed.force_authenticate(user)
    assert parse(listed.get(TOKENS).json()["results"][0]["last_used_at"]) == later


def test_a_token_request_costs_one_query_for_token_and_user(user, django_assert_num_queries):
    """The token is looked up joined to its user: no more queries than a JWT request, plus
    the UPDATE of last_used_at at most once a minute."""
    client = token_client(user)
    client.get(ME)  # last_used_at is now recent

    with django_assert_num_queries(1):
        response = client.get(ME)
    assert response.status_code == 200


def test_tokens_have_their_own_openapi_scheme(auth_client):
    schema = APIClient().get("/api/schema/?format=json").json()

    scheme = schema["components"]["securitySchemes"]["personalAccessToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    tasks = schema["paths"]["/api/v1/tasks/"]["get"]["security"]
    assert {"personalAccessToken": []} in tasks and {"jwtAuth": []} in tasks
    for method in ("get", "post"):
        assert schema["paths"][TOKENS][method]["security"] == [{"jwtAuth": []}]
    assert schema["paths"][PASSWORD]["post"]["security"] == [{"jwtAuth": []}]


def test_projects_answer_to_a_token_like_to_a_jwt(user):
    response = token_client(user).get(PROJECTS)

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1  # the Inbox


# --- throttling, idempotency, the admin -----------------------------------------------------


@pytest.fixture
def user_rate(settings):
    """THROTTLE_USER for one test, with counters no other test (or run) shares."""
    caches = {name: dict(config) for name, config in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"pat-throttle-{uuid.uuid4().hex}"
    settings.CACHES = caches

    def set_rate(rate: str):
        rest_framework = dict(django_settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {
            **django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": rate,
        }
        settings.REST_FRAMEWORK = rest_framework

    return set_rate


def test_a_token_shares_its_users_throttle_with_their_jwt(user, auth_client, user_rate):
    """THROTTLE_USER counts the user's requests, whatever credential each one carries: more
    tokens do not buy more requests."""
    token_client_a, token_client_b = token_client(user), token_client(user)
    user_rate("4/min")

    answers = [
        auth_client.get(ME).status_code,
        token_client_a.get(ME).status_code,
        token_client_b.get(ME).status_code,
        auth_client.get(ME).status_code,
    ]
    throttled = [token_client_a.get(ME), auth_client.get(ME)]

    assert answers == [200, 200, 200, 200]
    for response in throttled:
        assert_error(response, 429, code="throttled")
        assert response.has_header("Retry-After")
    assert token_client(UserFactory()).get(ME).status_code == 200  # per user, not global


def test_an_idempotent_create_works_with_a_token(user):
    client = token_client(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-once"}

    first = client.post(PROJECTS, {"name": "Once"}, format="json", **headers)
    again = client.post(PROJECTS, {"name": "Once"}, format="json", **headers)

    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert user.owned_projects.filter(name="Once").count() == 1


def test_a_token_and_a_jwt_of_one_user_share_idempotency_keys(user, auth_client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}
    first = token_client(user).post(PROJECTS, {"name": "Once"}, format="json", **headers)

    again = auth_client.post(PROJECTS, {"name": "Once"}, format="json", **headers)

    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_the_admin_lists_tokens_without_their_secret_or_hash(user, admin_client):
    secret = make_token(user, name="Deploy bot")
    token = PersonalAccessToken.objects.get(user=user)

    listing = admin_client.get("/admin/accounts/personalaccesstoken/")
    detail = admin_client.get(f"/admin/accounts/personalaccesstoken/{token.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    for page in (listing.content.decode(), detail.content.decode()):
        assert token.prefix in page
        assert secret not in page and token.token_hash not in page
    assert "Deploy bot" in listing.content.decode()
    assert admin_client.get("/admin/accounts/personalaccesstoken/add/").status_code == 403


def test_deleting_a_token_in_the_admin_revokes_it(user, admin_client):
    secret = make_token(user)
    token = PersonalAccessToken.objects.get(user=user)

    response = admin_client.post(
        f"/admin/accounts/personalaccesstoken/{token.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert_error(bearer(secret).get(ME), 401, code="token_not_valid")


def test_a_read_with_an_email_in_its_body_is_not_an_email_change(user):
    response = token_client(user, scopes=READ).generic(
        "GET", ME, '{"email": "someone.else@example.com"}', content_type="application/json"
    )

    assert response.status_code == 200, response.content
