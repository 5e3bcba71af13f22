"""A token without the `read` scope reads nothing, not even through a write's answer: its
successful writes are answered with the resource's `id` alone (or `{}` for one without an
id), whatever the endpoint, so an empty `PATCH {}` cannot be used to read a task, a project,
a webhook or the profile. A caller that may read gets the contract's full representation, for
an empty PATCH too (it changes nothing)."""

import pytest

from projects.models import Activity, Project
from tasks.models import Comment, Task
from tests.factories import TaskFactory, UserFactory
from tests.support.personal_tokens import READ, READ_WRITE, WRITE, token_client
from tests.support.urls import (
    ME,
    PROJECTS,
    TASKS,
    comment_url,
    comments_url,
    member_url,
    members_url,
    project_url,
    task_url,
    transfer_url,
)

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Acquisition of Initech"
WEBHOOK = {"url": "https://hooks.example.invalid/tasklane", "events": ["task.created"]}


@pytest.fixture
def world(team, client_for):
    task = TaskFactory(project=team.project, title=SECRET_TITLE, description="Confidential")
    comment = Comment.objects.create(task=task, author=team.owner, body=SECRET_TITLE)
    webhooks = f"{project_url(team.project.id)}webhooks/"
    hook = client_for(team.owner).post(webhooks, WEBHOOK, format="json")
    assert hook.status_code == 201, hook.content
    return {
        "project": team.project.id,
        "task": task.id,
        "comment": comment.id,
        "admin": team.admin.id,
        "member": team.member.id,
        "newcomer": UserFactory().email,
        "webhook_url": f"{webhooks}{hook.json()['id']}/",
        "webhook": hook.json()["id"],
    }


def empty_patches(w) -> list[tuple[str, int]]:
    """(url, the id of what it names) of every resource a PATCH {} could read."""
    return [
        (task_url(w["task"]), w["task"]),
        (project_url(w["project"]), w["project"]),
        (w["webhook_url"], w["webhook"]),
        (comment_url(w["task"], w["comment"]), w["comment"]),
    ]


@pytest.mark.parametrize("index", range(4))
def test_an_empty_patch_by_a_write_only_token_answers_only_the_id(team, world, index):
    url, resource_id = empty_patches(world)[index]

    response = token_client(team.owner, scopes=WRITE).patch(url, {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"id": resource_id}


@pytest.mark.parametrize("index", range(4))
def test_an_empty_patch_by_a_caller_who_may_read_is_the_full_representation(
    team, world, index, client_for
):
    url, resource_id = empty_patches(world)[index]
    read_write = token_client(team.owner, scopes=READ_WRITE)

    for client in (read_write, client_for(team.owner)):
        before = client.get(url).json()
        entries = Activity.objects.count()
        response = client.patch(url, {}, format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["id"] == resource_id
        assert body == before  # nothing changed, everything shown
        assert Activity.objects.count() == entries


def test_me_patch_by_a_write_only_token_answers_only_the_id(team):
    response = token_client(team.member, scopes=WRITE).patch(ME, {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"id": team.member.id}


def test_unknown_fields_only_change_nothing_and_show_nothing(team, world):
    response = token_client(team.owner, scopes=WRITE).patch(
        task_url(world["task"]), {"nonsense": 1, "id": 5}, format="json"
    )

    assert response.json() == {"id": world["task"]}
    assert Task.objects.get(pk=world["task"]).title == SECRET_TITLE


def writes(w) -> list[tuple[str, str, dict, int]]:
    return [
        ("post", PROJECTS, {"name": "New"}, 201),
        ("patch", project_url(w["project"]), {"name": "Renamed"}, 200),
        ("put", project_url(w["project"]), {"name": "Replaced"}, 200),
        ("post", transfer_url(w["project"]), {"user_id": w["admin"]}, 200),
        ("post", members_url(w["project"]), {"email": w["newcomer"]}, 201),
        ("patch", member_url(w["project"], w["member"]), {"role": "admin"}, 200),
        ("post", TASKS, {"title": "New", "project_id": w["project"]}, 201),
        ("patch", task_url(w["task"]), {"status": "completed"}, 200),
        ("put", task_url(w["task"]), {"title": "Replaced"}, 200),
        ("patch", w["webhook_url"], {"is_active": False}, 200),
        ("post", comments_url(w["task"]), {"body": "New"}, 201),
        ("patch", comment_url(w["task"], w["comment"]), {"body": "Edited"}, 200),
        ("patch", ME, {"name": "New name"}, 200),
    ]


@pytest.mark.parametrize("index", range(13))
def test_every_write_of_a_write_only_token_is_made_and_answered_without_the_resource(
    team, world, index
):
    method, url, body, success = writes(world)[index]

    response = getattr(token_client(team.owner, scopes=WRITE), method)(url, body, format="json")

    assert response.status_code == success, response.content
    shown = response.json()
    assert set(shown) <= {"id"}, shown
    assert SECRET_TITLE not in response.content.decode()


def test_the_write_is_made_and_its_id_is_the_resources(team, world):
    response = token_client(team.owner, scopes=WRITE).post(
        PROJECTS, {"name": "Made by a script"}, format="json"
    )

    assert response.json() == {"id": Project.objects.get(name="Made by a script").id}


def test_errors_are_shown_in_full_to_a_write_only_token(team, world):
    response = token_client(team.owner, scopes=WRITE).patch(
        task_url(world["task"]), {"status": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "status"


def test_a_webhook_made_by_a_write_only_token_shows_its_secret_once(team, world):
    """The secret exists only in this answer: withholding it would leave a webhook whose
    signatures nobody can verify. Nothing else of the webhook is shown."""
    client = token_client(team.owner, scopes=WRITE)
    webhooks = f"{project_url(team.project.id)}webhooks/"

    created = client.post(webhooks, WEBHOOK, format="json")
    rotated = client.post(f"{webhooks}{created.json()['id']}/rotate-secret/", format="json")

    assert created.status_code == 201, created.content
    assert set(created.json()) == {"id", "secret"}
    assert created.json()["secret"].startswith("whsec_")
    assert rotated.status_code == 200, rotated.content
    assert set(rotated.json()) == {"id", "secret"}
    assert rotated.json()["secret"] != created.json()["secret"]


def test_a_replay_to_a_write_only_token_shows_only_the_id(team, client_for):
    """The same user's JWT made the task under a key; a write-only token retrying it with the
    same key and body gets the replay as its own write would have been answered."""
    body = {"title": SECRET_TITLE, "project_id": team.project.id}
    first = client_for(team.owner).post(TASKS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content

    replay = token_client(team.owner, scopes=WRITE).post(
        TASKS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert replay.status_code == 201, replay.content
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {"id": first.json()["id"]}
    assert Task.objects.filter(title=SECRET_TITLE, project=team.project).count() == 1


def test_a_read_only_token_gets_a_403_not_a_replay_of_a_write(team, client_for):
    body = {"title": "Made once", "project_id": team.project.id}
    first = client_for(team.owner).post(TASKS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == 201, first.content

    refused = token_client(team.owner, scopes=READ).post(
        TASKS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert refused.status_code == 403, refused.content
    assert "Idempotent-Replayed" not in refused
    assert Task.objects.filter(title="Made once").count() == 1
