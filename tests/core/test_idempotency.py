"""Idempotent creates: the `Idempotency-Key` header on authenticated POSTs
(docs/api.md, "Idempotent creates")."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from core.idempotency import fingerprint
from core.models import IdempotencyRecord
from projects.models import Activity, Membership, Project, Role
from tasks import services as task_services
from tasks.models import Task
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from tests.support.auth import logged_in, login
from tests.support.concurrency import run_concurrently
from tests.support.envelope import assert_error
from tests.support.urls import PROJECTS, TASKS, members_url

AUTH = "/api/v1/auth/"
REPLAYED = "Idempotent-Replayed"
KEY = "5f0c1d2e-retry-me"
START = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)

TASK_BODY = '{"title": "Buy milk", "description": "Two litres", "due_date": "2026-04-01"}'
# The same request: keys in another order, no spaces, a character escaped differently.
TASK_BODY_AGAIN = '{"due_date":"2026-04-01","description":"Two litres","title":"Buy milk"}'


def post(client, path: str, body, key: str | None = KEY, **extra):
    """POST a JSON body (a string is sent byte for byte) with an optional Idempotency-Key."""
    raw = body if isinstance(body, str) else json.dumps(body)
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, raw, content_type="application/json", **extra)


def client_with_token(user, **kwargs) -> APIClient:
    return logged_in(user, **kwargs)


def assert_replay_of(replay, original) -> None:
    assert replay.status_code == original.status_code
    assert replay.content == original.content
    assert replay[REPLAYED] == "true"
    assert replay["Content-Type"] == original["Content-Type"]


# --- Replays --------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_request_replays_the_first_response(auth_client, user):
    first = post(auth_client, TASKS, TASK_BODY)
    tasks, activity = Task.objects.count(), Activity.objects.count()

    again = post(auth_client, TASKS, TASK_BODY_AGAIN)
    third = post(auth_client, TASKS, TASK_BODY)

    assert first.status_code == 201, first.content
    assert REPLAYED not in first
    assert_replay_of(again, first)
    assert_replay_of(third, first)
    assert again["ETag"] == first["ETag"]
    assert Task.objects.count() == tasks
    assert Activity.objects.count() == activity
    assert IdempotencyRecord.objects.filter(user=user).count() == 1


def test_a_replay_is_the_first_response_even_after_the_object_changed(auth_client):
    first = post(auth_client, TASKS, TASK_BODY)
    task_id = first.json()["id"]
    assert auth_client.patch(f"{TASKS}{task_id}/", {"title": "Buy oat milk"}).status_code == 200

    again = post(auth_client, TASKS, TASK_BODY)

    assert_replay_of(again, first)
    assert again.json()["title"] == "Buy milk"


def test_non_ascii_bodies_match_however_they_are_escaped(auth_client):
    first = post(auth_client, TASKS, '{"title": "Caf\\u00e9 \\u2615"}')

    again = post(auth_client, TASKS, '{ "title" : "Café ☕" }')

    assert first.status_code == 201, first.content
    assert first.json()["title"] == "Café ☕"
    assert_replay_of(again, first)
    assert Task.objects.filter(title="Café ☕").count() == 1


def test_a_project_create_is_replayed(auth_client, user):
    first = post(auth_client, PROJECTS, {"name": "Launch"})

    again = post(auth_client, PROJECTS, {"name": "Launch"})

    assert first.status_code == 201, first.content
    assert_replay_of(again, first)
    assert Project.objects.filter(owner=user, name="Launch").count() == 1


def test_a_transfer_is_replayed_although_the_caller_is_no_longer_the_owner(client_for, db):
    project = ProjectFactory()
    heir = MembershipFactory(project=project).user
    owner = client_for(project.owner)
    url = f"{PROJECTS}{project.id}/transfer/"

    first = post(owner, url, {"user_id": heir.id})
    again = post(owner, url, {"user_id": heir.id})
    fresh = post(owner, url, {"user_id": heir.id}, key="another-key")

    assert first.status_code == 200, first.content
    assert_replay_of(again, first)
    assert_error(fresh, 403)  # run again, the view would refuse: the replay did not run it
    assert Activity.objects.filter(project=project, verb="ownership_transferred").count() == 1


def test_a_400_is_kept_and_replayed(auth_client, user):
    first = post(auth_client, TASKS, {"title": "  ", "status": "done"})

    again = post(auth_client, TASKS, {"status": "done", "title": "  "})

    assert_error(first, 400, attr="title")
    assert REPLAYED not in first
    assert_replay_of(again, first)
    record = IdempotencyRecord.objects.get(user=user, key=KEY)
    assert record.response_status == 400


def test_a_404_is_kept_and_replayed_after_the_caller_joins(client_for, db):
    project = ProjectFactory()
    outsider, newcomer = UserFactory(), UserFactory()
    client = client_for(outsider)
    body = {"email": newcomer.email, "role": "member"}

    first = post(client, members_url(project.id), body)
    MembershipFactory(project=project, user=outsider, role=Role.ADMIN)
    again = post(client, members_url(project.id), body)

    assert_error(first, 404)
    assert_replay_of(again, first)
    assert not Membership.objects.filter(project=project, user=newcomer).exists()
    assert post(client, members_url(project.id), body, key="new-key").status_code == 201


def test_a_403_is_kept_and_replayed_after_the_caller_is_promoted(client_for, db):
    project = ProjectFactory()
    membership = MembershipFactory(project=project)
    newcomer = UserFactory()
    client = client_for(membership.user)
    body = {"email": newcomer.email, "role": "member"}

    first = post(client, members_url(project.id), body)
    Membership.objects.filter(pk=membership.pk).update(role=Role.ADMIN)
    again = post(client, members_url(project.id), body)

    assert_error(first, 403)
    assert_replay_of(again, first)
    assert not Membership.objects.filter(project=project, user=newcomer).exists()


def test_a_409_from_the_view_is_not_kept_and_the_retry_runs_again(client_for, db):
    project = ProjectFactory()
    membership = MembershipFactory(project=project)
    owner = client_for(project.owner)
    body = {"email": membership.user.email, "role": "admin"}

    first = post(owner, members_url(project.id), body)
    second = post(owner, members_url(project.id), body)

    assert_error(first, 409, code="already_member")
    assert_error(second, 409, code="already_member")
    assert REPLAYED not in second
    assert not IdempotencyRecord.objects.exists()

    membership.delete()
    third = post(owner, members_url(project.id), body)
    fourth = post(owner, members_url(project.id), body)

    assert third.status_code == 201, third.content
    assert REPLAYED not in third
    assert_replay_of(fourth, third)
    assert Membership.objects.get(project=project, user=membership.user).role == Role.ADMIN


# --- Mismatches and scope -------------------------------------------------------------------


def test_the_same_key_with_another_body_is_a_422(auth_client, user):
    first = post(auth_client, TASKS, TASK_BODY)
    tasks = Task.objects.count()

    response = post(auth_client, TASKS, {"title": "Buy bread"})

    assert_error(response, 422, code="idempotency_key_reused")
    assert REPLAYED not in response
    assert Task.objects.count() == tasks
    assert_replay_of(post(auth_client, TASKS, TASK_BODY), first)


def test_the_same_key_on_another_path_is_a_422(auth_client, user):
    assert post(auth_client, PROJECTS, {"name": "Launch"}).status_code == 201
    tasks = Task.objects.count()

    response = post(auth_client, TASKS, {"name": "Launch"})

    assert_error(response, 422, code="idempotency_key_reused")
    assert Task.objects.count() == tasks


def test_keys_are_scoped_to_the_user(client_for, db):
    alice, bob = UserFactory(), UserFactory()

    first = post(client_for(alice), TASKS, TASK_BODY)
    second = post(client_for(bob), TASKS, TASK_BODY)

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert REPLAYED not in second
    assert second.json()["id"] != first.json()["id"]
    assert Task.objects.get(pk=second.json()["id"]).project == Project.objects.get(
        owner=bob, is_inbox=True
    )
    assert IdempotencyRecord.objects.filter(key=KEY).count() == 2


@pytest.mark.parametrize("key", ["", "k" * 256, "k" * 1000])
def test_an_empty_or_overlong_key_is_a_400_on_the_header(auth_client, key):
    tasks = Task.objects.count()

    response = post(auth_client, TASKS, TASK_BODY, key=key)

    assert_error(response, 400, attr="Idempotency-Key")
    assert Task.objects.count() == tasks
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["k", "k" * 255])
def test_keys_of_1_to_255_characters_are_accepted(auth_client, key):
    first = post(auth_client, TASKS, TASK_BODY, key=key)

    again = post(auth_client, TASKS, TASK_BODY, key=key)

    assert first.status_code == 201, first.content
    assert_replay_of(again, first)


# --- Where the header does not apply --------------------------------------------------------


def test_the_header_is_ignored_on_register(auth_client):
    """Sent with a valid access token too, so the middleware could have scoped it."""
    body = {"password": DEFAULT_PASSWORD}

    first = post(auth_client, f"{AUTH}register/", {**body, "email": "one@example.com"})
    second = post(auth_client, f"{AUTH}register/", {**body, "email": "two@example.com"})

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert REPLAYED not in first and REPLAYED not in second
    assert second.json()["email"] == "two@example.com"
    assert not IdempotencyRecord.objects.exists()


def test_the_header_is_ignored_on_login_refresh_and_logout(auth_client, user):
    credentials = {"email": user.email, "password": DEFAULT_PASSWORD}

    first_login = post(auth_client, f"{AUTH}login/", credentials)
    second_login = post(auth_client, f"{AUTH}login/", credentials)
    refresh = first_login.json()["refresh"]
    rotated = post(auth_client, f"{AUTH}refresh/", {"refresh": refresh})
    reused = post(auth_client, f"{AUTH}refresh/", {"refresh": refresh})  # revoked by rotation
    logout = post(auth_client, f"{AUTH}logout/", {"refresh": second_login.json()["refresh"]})
    logout_again = post(auth_client, f"{AUTH}logout/", {"refresh": second_login.json()["refresh"]})

    assert first_login.status_code == second_login.status_code == 200
    assert second_login.content != first_login.content
    assert rotated.status_code == 200, rotated.content
    assert_error(reused, 401)
    assert logout.status_code == 204
    assert_error(logout_again, 401)
    for response in (first_login, second_login, rotated, reused, logout, logout_again):
        assert REPLAYED not in response
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_an_unauthenticated_post_with_a_key_is_a_401_and_not_kept(api_client, db, authorization):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    first = post(api_client, TASKS, TASK_BODY, **extra)
    again = post(api_client, TASKS, TASK_BODY, **extra)

    assert_error(first, 401)
    assert_error(again, 401)
    assert REPLAYED not in again
    assert not IdempotencyRecord.objects.exists()


def test_a_get_with_a_key_is_unaffected(auth_client):
    first = auth_client.get(TASKS, HTTP_IDEMPOTENCY_KEY=KEY)
    post(auth_client, TASKS, TASK_BODY, key=None)
    second = auth_client.get(TASKS, HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == second.status_code == 200
    assert REPLAYED not in second
    assert first.json()["count"] == 0
    assert second.json()["count"] == 1
    assert not IdempotencyRecord.objects.exists()


def test_a_delete_with_a_key_is_unaffected(auth_client):
    task_id = post(auth_client, TASKS, TASK_BODY, key=None).json()["id"]

    first = auth_client.delete(f"{TASKS}{task_id}/", HTTP_IDEMPOTENCY_KEY=KEY)
    second = auth_client.delete(f"{TASKS}{task_id}/", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == 204
    assert_error(second, 404)
    assert not IdempotencyRecord.objects.exists()


# --- Expiry and requests still running ------------------------------------------------------


def test_a_key_expires_after_24_hours(db):
    user = UserFactory()
    with time_machine.travel(START, tick=False) as clock:
        first = post(client_with_token(user), TASKS, TASK_BODY)
        clock.shift(timedelta(hours=23, minutes=59))
        within = post(client_with_token(user), TASKS, TASK_BODY)
        clock.shift(timedelta(minutes=1, seconds=1))
        after = post(client_with_token(user), TASKS, TASK_BODY)
        after_again = post(client_with_token(user), TASKS, TASK_BODY)

    assert first.status_code == 201, first.content
    assert_replay_of(within, first)
    assert after.status_code == 201, after.content
    assert REPLAYED not in after
    assert after.json()["id"] != first.json()["id"]
    assert Task.objects.filter(title="Buy milk").count() == 2
    assert_replay_of(after_again, after)
    assert IdempotencyRecord.objects.filter(user=user).count() == 1


def record_in_progress(user, *, body: str, started: timedelta, path: str = TASKS):
    """The row a first request still running would have left: claimed, no response yet."""
    request = RequestFactory().post(path, data=body, content_type="application/json")
    at = timezone.now() - started
    return IdempotencyRecord.objects.create(
        user=user, key=KEY, fingerprint=fingerprint(request), created_at=at, started_at=at
    )


@pytest.mark.parametrize("age", [timedelta(seconds=0), timedelta(seconds=55)])
def test_a_duplicate_of_a_request_still_running_is_a_409(auth_client, user, age):
    record_in_progress(user, body=TASK_BODY, started=age)
    tasks = Task.objects.count()

    response = post(auth_client, TASKS, TASK_BODY_AGAIN)

    assert_error(response, 409, code="idempotency_key_in_use")
    assert Task.objects.count() == tasks
    record = IdempotencyRecord.objects.get(user=user, key=KEY)
    assert record.completed_at is None  # the first request's claim is left alone


def test_another_request_under_a_running_key_is_a_422_not_a_409(auth_client, user):
    record_in_progress(user, body=TASK_BODY, started=timedelta(seconds=1))

    response = post(auth_client, TASKS, {"title": "Something else"})

    assert_error(response, 422, code="idempotency_key_reused")


def test_a_request_unfinished_after_60_seconds_no_longer_blocks_its_key(auth_client, user):
    record_in_progress(user, body=TASK_BODY, started=timedelta(seconds=61))
    tasks = Task.objects.count()

    response = post(auth_client, TASKS, TASK_BODY)
    again = post(auth_client, TASKS, TASK_BODY)

    assert response.status_code == 201, response.content
    assert REPLAYED not in response
    assert Task.objects.count() == tasks + 1
    record = IdempotencyRecord.objects.get(user=user, key=KEY)
    assert record.completed_at is not None and record.response_status == 201
    assert_replay_of(again, response)


def test_a_5xx_is_not_kept_and_the_key_can_be_retried(monkeypatch, user):
    client = client_with_token(user, raise_request_exception=False)

    def broken(**kwargs):
        raise RuntimeError("the database went away mid-write")

    monkeypatch.setattr(task_services, "task_create", broken)
    failed = post(client, TASKS, TASK_BODY)
    assert_error(failed, 500)
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.undo()
    retried = post(client, TASKS, TASK_BODY)
    again = post(client, TASKS, TASK_BODY)

    assert retried.status_code == 201, retried.content
    assert REPLAYED not in retried
    assert_replay_of(again, retried)
    assert Task.objects.filter(title="Buy milk").count() == 1


# --- Purging --------------------------------------------------------------------------------


def test_purge_deletes_records_older_than_24_hours_and_keeps_newer_ones(db):
    user = UserFactory()
    with time_machine.travel(START, tick=False):
        ages = {
            "week": timedelta(days=7),
            "day-and-a-second": timedelta(hours=24, seconds=1),
            "almost-a-day": timedelta(hours=23, minutes=59),
            "hour": timedelta(hours=1),
            "now": timedelta(0),
        }
        for key, age in ages.items():
            at = timezone.now() - age
            IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint="0" * 64, created_at=at, started_at=at
            )
        output = StringIO()

        call_command("purge_idempotency_keys", stdout=output)

    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == [
        "almost-a-day",
        "hour",
        "now",
    ]
    assert "Deleted 2 " in output.getvalue()


# --- Concurrency ----------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real concurrent connections and row locks (PostgreSQL, as on CI)",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_duplicates_create_exactly_one_task():
    user = UserFactory()
    access = login(APIClient(), user)["access"]

    def attempt():
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        response = post(client, TASKS, TASK_BODY)
        return response.status_code, response.content, response.get(REPLAYED)

    answers = run_concurrently(attempt, 10)

    assert {status for status, _, _ in answers} <= {201, 409}, answers
    originals = [content for status, content, replayed in answers if status == 201 and not replayed]
    assert len(originals) == 1, answers
    for status, content, replayed in answers:
        if status == 201 and replayed:
            assert replayed == "true"
            assert content == originals[0]
        elif status == 409:
            body = json.loads(content)
            assert body["type"] == "client_error"
            assert [error["code"] for error in body["errors"]] == ["idempotency_key_in_use"]
    assert Task.objects.filter(title="Buy milk").count() == 1
    assert Activity.objects.filter(verb="created", task_id__isnull=False).count() == 1
    record = IdempotencyRecord.objects.get(user=user, key=KEY)
    assert record.response_status == 201


# --- Documentation --------------------------------------------------------------------------


def test_the_schema_documents_the_header_on_every_post_outside_auth(api_client, db):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200, response.content[:500]
    paths = json.loads(response.content)["paths"]
    documented, undocumented = set(), set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            headers = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "header"
            }
            if "Idempotency-Key" in headers:
                documented.add((method, path))
                assert "422" in operation["responses"], (method, path)
            else:
                undocumented.add((method, path))

    posts = {(method, path) for method, path in documented | undocumented if method == "post"}
    auth_posts = {(method, path) for method, path in posts if path.startswith(AUTH)}
    assert documented == posts - auth_posts
    assert {path for _, path in auth_posts} >= {
        f"{AUTH}register/",
        f"{AUTH}login/",
        f"{AUTH}refresh/",
        f"{AUTH}logout/",
    }
    assert {path for _, path in documented} >= {
        TASKS,
        PROJECTS,
        f"{PROJECTS}{{id}}/transfer/",
        f"{PROJECTS}{{project_pk}}/members/",
    }
