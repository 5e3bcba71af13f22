"""A token limited to some projects reaches only those: other projects, their tasks, members
and feeds do not exist for it (404, filtered lists), and tasks cannot be created in or moved
to them (400 on `project_id`, worded as for a project the user is not a member of)."""

import pytest

from accounts.models import PersonalAccessToken
from projects.models import Membership, Project
from tasks.models import Comment, Task
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory
from tests.support.envelope import assert_error
from tests.support.personal_tokens import READ, token_client
from tests.support.urls import (
    PROJECTS,
    TASKS,
    comment_url,
    comments_url,
    members_url,
    project_feed_url,
    project_url,
    task_feed_url,
    task_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(team):
    """`team.member` belongs to the team's project (`allowed`), to `other` and to their Inbox;
    each has tasks. `stranger` is a project they are not in."""
    user = team.member
    other = ProjectFactory(name="Other")
    MembershipFactory(project=other, user=user)
    inbox = Project.objects.get(owner=user, is_inbox=True)
    return {
        "user": user,
        "allowed": team.project,
        "other": other,
        "inbox": inbox,
        "stranger": ProjectFactory(name="Not theirs"),
        "allowed_tasks": [TaskFactory(project=team.project, created_by=user) for _ in range(3)],
        "other_task": TaskFactory(project=other),
        "inbox_task": TaskFactory(project=inbox, created_by=user),
    }


@pytest.fixture
def limited(places):
    """A read-and-write token of the member, limited to the team's project."""
    return token_client(places["user"], project_ids=[places["allowed"].id])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["results"])


def test_the_project_list_shows_only_the_tokens_projects(places, limited):
    body = limited.get(PROJECTS).json()

    assert body["count"] == 1
    assert [project["id"] for project in body["results"]] == [places["allowed"].id]


@pytest.mark.parametrize("project", ["other", "inbox"])
@pytest.mark.parametrize("url", [project_url, members_url, project_feed_url])
def test_other_projects_of_the_user_are_404(places, limited, project, url):
    assert_error(limited.get(url(places[project].id)), 404)


def test_the_allowed_project_answers(places, limited):
    allowed = places["allowed"].id

    assert limited.get(project_url(allowed)).status_code == 200
    assert limited.get(members_url(allowed)).json()["count"] == 4
    assert limited.get(project_feed_url(allowed)).status_code == 200


def test_writes_to_other_projects_are_404_and_change_nothing(places, limited):
    other = places["other"]

    assert_error(limited.patch(project_url(other.id), {"name": "Hijacked"}), 404)
    assert_error(limited.delete(project_url(other.id)), 404)
    assert_error(limited.post(members_url(other.id), {"email": places["user"].email}), 404)
    other.refresh_from_db()
    assert other.name == "Other"


def test_the_task_list_and_its_count_cover_only_the_tokens_projects(places, limited, client_for):
    everything = client_for(places["user"])
    assert everything.get(TASKS).json()["count"] == 5  # counted (and cached) for all projects

    body = limited.get(TASKS).json()

    assert body["count"] == 3
    assert ids(limited.get(TASKS)) == sorted(task.id for task in places["allowed_tasks"])
    assert limited.get(TASKS, {"project": places["other"].id}).json()["count"] == 0
    assert everything.get(TASKS).json()["count"] == 5


@pytest.mark.parametrize("task", ["other_task", "inbox_task"])
def test_tasks_of_other_projects_are_404(places, limited, task):
    task_id = places[task].id

    assert_error(limited.get(task_url(task_id)), 404)
    assert_error(limited.get(task_feed_url(task_id)), 404)
    assert_error(limited.patch(task_url(task_id), {"title": "Changed"}), 404)
    assert_error(limited.delete(task_url(task_id)), 404)
    assert Task.objects.filter(pk=task_id).exclude(title="Changed").exists()


@pytest.mark.parametrize("task", ["other_task", "inbox_task"])
def test_comments_of_other_projects_tasks_are_404(places, limited, task):
    task_id = places[task].id
    comment = Comment.objects.create(task=places[task], author=places["user"], body="Mine")
    url = comment_url(task_id, comment.id)

    assert_error(limited.get(comments_url(task_id)), 404)
    assert_error(limited.post(comments_url(task_id), {"body": "New"}), 404)
    assert_error(limited.get(url), 404)
    assert_error(limited.patch(url, {"body": "Changed"}), 404)
    assert_error(limited.delete(url), 404)
    assert list(Comment.objects.values_list("body", flat=True)) == ["Mine"]


def test_comments_in_the_allowed_project_can_be_read_and_written(places, limited):
    task_id = places["allowed_tasks"][0].id

    created = limited.post(comments_url(task_id), {"body": "New"})
    assert created.status_code == 201, created.content
    assert limited.get(comments_url(task_id)).json()["count"] == 1


def test_a_task_in_the_allowed_project_can_be_read_and_changed(places, limited):
    task_id = places["allowed_tasks"][0].id

    assert limited.get(task_url(task_id)).status_code == 200
    response = limited.patch(task_url(task_id), {"title": "Changed"})
    assert response.status_code == 200, response.content


def test_creating_a_task_in_another_project_is_400_like_a_project_not_yours(
    places, limited, client_for
):
    """The same answer as a JWT gets for a project its user is not a member of."""
    for_stranger = client_for(places["user"]).post(
        TASKS, {"title": "x", "project_id": places["stranger"].id}
    )
    expected = assert_error(for_stranger, 400, attr="project_id")

    response = limited.post(TASKS, {"title": "x", "project_id": places["other"].id})

    assert assert_error(response, 400, attr="project_id") == expected
    assert not Task.objects.filter(title="x").exists()
    created = limited.post(TASKS, {"title": "y", "project_id": places["allowed"].id})
    assert created.status_code == 201, created.content


def test_a_task_without_project_id_needs_the_inbox_within_the_limit(places, limited):
    response = limited.post(TASKS, {"title": "To my Inbox"})

    assert_error(response, 400, attr="project_id")
    assert not Task.objects.filter(title="To my Inbox").exists()
    with_inbox = token_client(places["user"], project_ids=[places["inbox"].id])
    created = with_inbox.post(TASKS, {"title": "To my Inbox"})
    assert created.status_code == 201, created.content
    assert created.json()["project_id"] == places["inbox"].id


@pytest.mark.parametrize("method", ["patch", "put"])
def test_moving_a_task_to_another_project_is_400_and_moves_nothing(places, limited, method):
    task = places["allowed_tasks"][0]

    response = getattr(limited, method)(
        task_url(task.id), {"title": task.title, "project_id": places["other"].id}
    )

    assert_error(response, 400, attr="project_id")
    task.refresh_from_db()
    assert task.project_id == places["allowed"].id


def test_leaving_an_allowed_project_leaves_the_token_nothing(places, limited):
    Membership.objects.filter(project=places["allowed"], user=places["user"]).delete()

    assert limited.get(PROJECTS).json()["count"] == 0
    assert limited.get(TASKS).json()["count"] == 0


def test_a_token_limited_to_several_projects_sees_each_of_them(places):
    client = token_client(
        places["user"], scopes=READ, project_ids=[places["allowed"].id, places["inbox"].id]
    )

    assert ids(client.get(PROJECTS)) == sorted([places["allowed"].id, places["inbox"].id])
    assert client.get(TASKS).json()["count"] == 4


def test_an_unlimited_token_sees_every_project_of_the_user(places):
    client = token_client(places["user"], scopes=READ)

    assert client.get(PROJECTS).json()["count"] == 3
    assert client.get(TASKS).json()["count"] == 5
    assert PersonalAccessToken.objects.get(user=places["user"]).project_ids is None


def test_a_limited_token_cannot_create_a_project_and_a_retry_creates_nothing(places, limited):
    """A project it created would be one it cannot see: a 403 that changes nothing, and the
    same answer again for a retry under the same Idempotency-Key (never a second project)."""
    before = Project.objects.count()

    first = limited.post(PROJECTS, {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="create-once")
    retry = limited.post(PROJECTS, {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="create-once")

    assert_error(first, 403, code="permission_denied")
    assert retry.status_code == 403
    assert retry.json() == first.json()
    assert Project.objects.count() == before
    assert not Project.objects.filter(name="Mine").exists()


def test_an_unlimited_token_creates_a_project_once_under_one_key(places):
    client = token_client(places["user"])

    first = client.post(PROJECTS, {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="create-once")
    retry = client.post(PROJECTS, {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="create-once")

    assert first.status_code == 201, first.content
    assert retry.json() == first.json()
    assert Project.objects.filter(name="Mine").count() == 1
