"""A write's side effects go through one `publish`, to the sinks that settings.EVENT_SINKS
lists; the only signal receivers left are the safety nets named beside that list."""

import weakref
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext

from core.events import event, publish
from tests.support.urls import TASKS
from webhooks.models import Delivery, Webhook
from webhooks.sender import new_secret

pytestmark = pytest.mark.django_db

PROJECT_PACKAGES = ("core", "accounts", "projects", "tasks", "webhooks")
SETTINGS_FILE = Path(settings.BASE_DIR) / "config" / "settings.py"

seen: list[tuple[str, list[str], bool]] = []


def first_sink(events):
    seen.append(("first", [e.type for e in events], connection.in_atomic_block))


def second_sink(events):
    seen.append(("second", [e.type for e in events], connection.in_atomic_block))


def test_publish_hands_a_writes_events_to_every_sink_in_order_inside_the_transaction(
    settings, team
):
    settings.EVENT_SINKS = [f"{__name__}.first_sink", f"{__name__}.second_sink"]
    seen.clear()
    one = event("task.deleted", project_id=team.project.pk, actor_id=None, data={"id": 1})
    two = event("task.deleted", project_id=team.project.pk, actor_id=None, data={"id": 2})
    with transaction.atomic():
        publish(one, two)
    assert seen == [
        ("first", ["task.deleted", "task.deleted"], True),
        ("second", ["task.deleted", "task.deleted"], True),
    ]


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused(team):
    with pytest.raises(RuntimeError):
        publish(event("task.deleted", project_id=team.project.pk, actor_id=None, data={"id": 1}))


def test_the_sinks_are_the_outbox_the_counts_and_the_sockets():
    assert settings.EVENT_SINKS == [
        "webhooks.outbox.record",
        "tasks.counts.expire",
        "core.realtime.send",
    ]


def test_a_write_with_several_events_looks_up_webhooks_once(client_for, team):
    """A create with an assignee publishes `task.created` and `task.assigned`: one query
    finds the webhooks for both, and each wanting webhook gets its delivery."""
    Webhook.objects.create(
        project=team.project,
        url="https://example.com/hook",
        events=["task.created", "task.assigned"],
        secret=new_secret(),
        created_by=team.owner,
    )
    with CaptureQueriesContext(connection) as queries:
        response = client_for(team.member).post(
            TASKS,
            {"project_id": team.project.pk, "title": "Two events", "assignee_id": team.admin.pk},
        )
    assert response.status_code == 201, response.content
    lookups = [q["sql"] for q in queries if 'FROM "webhooks_webhook"' in q["sql"]]
    assert len(lookups) == 1, lookups
    assert sorted(Delivery.objects.values_list("event__type", flat=True)) == [
        "task.assigned",
        "task.created",
    ]


def project_receivers() -> set[str]:
    """`module.function` of every model-signal receiver that the project's own code connects."""
    found = set()
    for signal in (
        signals.pre_save,
        signals.post_save,
        signals.pre_delete,
        signals.post_delete,
        signals.m2m_changed,
    ):
        for _key, reference, *_ in signal.receivers:
            function = reference() if isinstance(reference, weakref.ReferenceType) else reference
            module = getattr(function, "__module__", None) or ""
            if module.split(".")[0] in PROJECT_PACKAGES:
                found.add(f"{module}.{function.__qualname__}")
    return found


def test_the_only_signal_receivers_are_the_safety_nets_named_beside_the_sinks():
    receivers = project_receivers()
    assert receivers == {
        "projects.socket_access.user_saved",
        "projects.socket_access.user_deleted",
        "projects.socket_access.membership_saved",
        "projects.socket_access.membership_deleted",
        "tasks.counts.task_saved",
        "tasks.counts.project_saved",
    }
    text = SETTINGS_FILE.read_text()
    named = text[text.index("EVENT_SINKS = [") : text.index("# --- Database")]
    for module in {receiver.rsplit(".", 1)[0] for receiver in receivers}:
        assert module.replace(".", "/") + ".py" in named or module in named
