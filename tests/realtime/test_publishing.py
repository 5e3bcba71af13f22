"""Events leave only after the commit, and neither a broken channel layer nor a cache outage
fails a request. No sockets: these watch what reaches the channel layer."""

import json
import logging

import pytest
import redis.exceptions
from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.throttling import SimpleRateThrottle

from tasks import services as task_services
from tasks.models import Task
from tests.support.events import record_sent
from tests.support.realtime import person
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(settings):
    """Every message handed to the channel layer after a commit, as one-message batches."""
    return record_sent(settings)


def event_types(batches) -> list[tuple[str, str]]:
    return [
        (group, json.loads(message["text"])["type"])
        for batch in batches
        for group, message in batch
    ]


def test_a_rolled_back_write_sends_nothing(team, sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        task_services.task_create(
            actor=team.member.user,
            data={"title": "Never", "project": team.project, "assignee": team.member.user},
        )
        raise RuntimeError("something failed after the save")

    assert not Task.objects.exists()
    assert sent == []


def test_a_write_is_sent_once_and_only_after_the_commit(team, sent):
    with transaction.atomic():
        task = task_services.task_create(
            actor=team.member.user, data={"title": "Later", "project": team.project}
        )
        assert sent == []

    assert event_types(sent) == [(f"project.{team.project.pk}", "task.created")]
    assert json.loads(sent[0][0][1]["text"])["data"]["id"] == task.pk


def test_a_rejected_api_write_sends_nothing(team, sent):
    response = team.member.client.post(
        TASKS,
        {"title": "Bad", "project_id": team.project.pk, "assignee_id": team.stranger.id},
    )

    assert response.status_code == 400, response.content
    assert sent == []


def test_an_api_write_is_sent_once(team, sent):
    response = team.member.client.post(
        TASKS, {"title": "Ok", "project_id": team.project.pk, "assignee_id": team.owner.id}
    )

    assert response.status_code == 201, response.content
    assert event_types(sent) == [
        (f"project.{team.project.pk}", "task.created"),
        (f"user.{team.owner.id}", "task.assigned"),
        (f"user.{team.owner.id}", "notification.created"),  # its own transaction, after
    ]


@pytest.fixture
def broken_channel_layer(monkeypatch):

    layer = get_channel_layer()

    async def group_send(group, message):
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379.")

    monkeypatch.setattr(layer, "group_send", group_send)
    return layer


def test_a_failing_channel_layer_is_logged_and_the_write_still_succeeds(
    team, broken_channel_layer, caplog
):
    with caplog.at_level(logging.ERROR, logger="tasklane.events"):
        response = team.member.client.post(
            TASKS, {"title": "Still saved", "project_id": team.project.pk}
        )

    assert response.status_code == 201, response.content
    assert Task.objects.filter(pk=response.json()["id"], title="Still saved").exists()
    errors = [r for r in caplog.records if r.name == "tasklane.events"]
    assert len(errors) == 1
    assert errors[0].levelno == logging.ERROR
    assert errors[0].exc_info is not None
    assert "task.created" in errors[0].getMessage()


def test_an_unreachable_redis_channel_layer_does_not_fail_the_write(team, settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]
            },
        }
    }

    with caplog.at_level(logging.ERROR, logger="tasklane.events"):
        response = team.owner.client.patch(
            f"/api/v1/projects/{team.project.pk}/", {"name": "Renamed"}
        )

    assert response.status_code == 200, response.content
    team.project.refresh_from_db()
    assert team.project.name == "Renamed"
    assert [r.name for r in caplog.records if r.levelno >= logging.ERROR] == ["tasklane.events"]


# --- throttles fail open ---------------------------------------------------------------------


class UnreachableCache:
    """A cache whose every call fails as Redis does when it is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

        return fail


@pytest.fixture
def throttled(settings, monkeypatch):
    """Every throttle on (generous rates), on a cache that is down."""
    rest_framework = dict(settings.REST_FRAMEWORK)
    rest_framework["DEFAULT_THROTTLE_RATES"] = {
        "login": "1000/min",
        "register": "1000/min",
        "user": "1000/min",
    }
    settings.REST_FRAMEWORK = rest_framework

    monkeypatch.setattr(SimpleRateThrottle, "cache", UnreachableCache())


def test_a_cache_outage_does_not_fail_authenticated_requests(team, throttled, caplog):
    with caplog.at_level(logging.WARNING, logger="tasklane.throttling"):
        response = team.member.client.post(
            TASKS, {"title": "Throttle down", "project_id": team.project.pk}
        )

    assert response.status_code == 201, response.content
    assert any(r.name == "tasklane.throttling" for r in caplog.records)


def test_a_cache_outage_does_not_fail_login_or_registration(team, throttled):
    person(team.member.user)  # logs in through the API, asserting a 200

    response = team.member.client.post(
        "/api/v1/auth/register/",
        {"email": "fresh@example.com", "password": "a-long-test-passphrase-42"},
    )
    assert response.status_code == 201, response.content


def test_an_unreachable_redis_cache_does_not_fail_requests(team, settings):
    rest_framework = dict(settings.REST_FRAMEWORK)
    rest_framework["DEFAULT_THROTTLE_RATES"] = {"login": "1000/min", "user": "1000/min"}
    settings.REST_FRAMEWORK = rest_framework
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    response = team.member.client.get("/api/v1/auth/me/")

    assert response.status_code == 200, response.content
    person(team.owner.user)


def test_an_event_is_encoded_once_for_every_group_and_socket(team, sent):
    """The frame a socket sends is the text the publisher encoded: one encoding per event,
    not one per socket (two groups here: the project's and the new assignee's)."""
    with transaction.atomic():
        task_services.task_create(
            actor=team.owner.user,
            data={"title": "Once", "project": team.project, "assignee": team.member.user},
        )

    messages = [message for batch in sent for _, message in batch]
    created = [m for m in messages if m["route"]["type"] == "task.created"]
    assigned = [m for m in messages if m["route"]["type"] == "task.assigned"]
    assert len(created) == len(assigned) == 1
    frame = created[0]["text"]
    assert json.loads(frame)["data"]["title"] == "Once"
    assert frame == frame.strip() and ", " not in frame  # compact, ready to send
    assert created[0]["route"] == {
        "type": "task.created",
        "project_id": team.project.pk,
        "user_id": None,
    }
