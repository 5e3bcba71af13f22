"""`manage.py seed_demo` (what the first `make run` shows): the demo project has labels,
priorities, subtasks and a manual order of its own, all made through the services."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from projects.models import Activity, Project, Verb
from tasks.management.commands.seed_demo import (
    DEMO_LABELS,
    DEMO_PASSWORD,
    DEMO_TASKS,
    DEMO_THREAD,
    DISCUSSED,
    FIRST_IN_ORDER,
)
from tests.support.auth import login
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    """Alice's client, logged in with the demo password, and the demo project."""
    call_command("seed_demo", verbosity=0)
    alice = User.objects.get(email="alice@example.com")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), alice, DEMO_PASSWORD)['access']}"
    )
    return client, Project.objects.get(name="Website launch")


def listed(client, **params) -> list[dict]:
    response = client.get(TASKS, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_demo_project_has_its_labels_on_its_tasks(demo):
    client, project = demo

    labels = client.get(f"/api/v1/projects/{project.id}/labels/").json()["results"]
    tasks = listed(client, project=project.id)

    assert sorted(label["name"] for label in labels) == sorted(name for name, _ in DEMO_LABELS)
    by_title = {task["title"]: task for task in tasks}
    for demo_task in DEMO_TASKS:
        shown = [label["name"] for label in by_title[demo_task.title]["labels"]]
        assert shown == sorted(demo_task.labels)
    bug = next(label for label in labels if label["name"] == "bug")
    assert [t["title"] for t in listed(client, label=bug["id"])] == ["Fix the signup email typo"]


def test_the_demo_tasks_have_priorities_and_subtasks(demo):
    client, project = demo

    tasks = {task["title"]: task for task in listed(client, project=project.id)}

    assert {task["priority"] for task in tasks.values()} == {
        "none",
        "low",
        "medium",
        "high",
        "urgent",
    }
    announcement = tasks["Write the launch announcement"]
    assert announcement["subtask_count"] == 2
    assert announcement["completed_subtask_count"] == 1
    subtasks = listed(client, parent=announcement["id"])
    assert {task["title"] for task in subtasks} == {
        "Draft the announcement",
        "Get the announcement reviewed",
    }


def test_the_manual_order_is_not_the_creation_order(demo):
    client, project = demo

    ordered = [task["title"] for task in listed(client, project=project.id, ordering="position")]

    assert ordered[0] == FIRST_IN_ORDER
    assert ordered[1:] == [task.title for task in DEMO_TASKS if task.title != FIRST_IN_ORDER]


def test_the_demo_history_shows_the_labels_being_made(demo):
    _, project = demo

    verbs = Activity.objects.filter(project=project).values_list("verb", flat=True)

    assert list(verbs).count(Verb.LABEL_CREATED) == len(DEMO_LABELS)


def test_a_demo_task_has_a_thread_with_a_mention(demo):
    client, project = demo
    task = next(t for t in listed(client, project=project.id) if t["title"] == DISCUSSED)

    comments = client.get(f"{TASKS}{task['id']}/comments/").json()["results"]

    assert [c["body"] for c in comments] == [body for _, body, _ in DEMO_THREAD]
    assert [m["email"] for m in comments[0]["mentions"]] == ["bob@example.com"]
    assert task["comment_count"] == len(DEMO_THREAD)


def test_bob_has_unread_notifications_after_the_seed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    bob = User.objects.get(email="bob@example.com")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), bob, DEMO_PASSWORD)['access']}"
    )

    unread = client.get("/api/v1/notifications/", {"unread": "true", "page_size": 100}).json()

    verbs = {n["verb"] for n in unread["results"]}
    assert {"added_to_project", "assigned", "mentioned", "commented"} <= verbs
    assert client.get("/api/v1/notifications/unread-count/").json() == {"count": unread["count"]}
