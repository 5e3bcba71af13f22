"""Who may read, change, delete and move a task, as the contract's rules say.

The task is created by a plain member (`creator`); a viewer reads it and writes nothing.
Every write sends a valid body, so the status reflects authorization alone. The move target
is a project every actor belongs to, so only the right to take the task out of its current
project decides a move.
"""

import pytest
from rest_framework.test import APIClient

from projects.models import Project, Role
from tasks.models import Task
from tests.factories import MembershipFactory, ProjectFactory
from tests.support.envelope import assert_error
from tests.support.tasks import db_state, make_task, task_rows, without_ids
from tests.support.urls import task_feed_url, task_url

pytestmark = pytest.mark.django_db

ACTORS = ("creator", "other member", "viewer", "admin", "owner", "non-member", "anonymous")

# fmt: off
CONTRACT = [
    # action     creator  other member  viewer  admin  owner  non-member  anonymous
    ("retrieve", 200,     200,          200,    200,   200,   404,        401),
    ("patch",    200,     200,          403,    200,   200,   404,        401),
    ("put",      200,     200,          403,    200,   200,   404,        401),
    ("delete",   204,     403,          403,    204,   204,   404,        401),
    ("move",     200,     403,          403,    200,   200,   404,        401),
    ("activity", 200,     200,          200,    200,   200,   404,        401),
]
# fmt: on

CASES = [
    pytest.param(action, actor, status, id=f"{action} as {actor} -> {status}")
    for action, *statuses in CONTRACT
    for actor, status in zip(ACTORS, statuses, strict=True)
]


def request_for(action: str, target: Project, assignee_id: int) -> tuple[str, dict | None]:
    """The method and a body that the endpoint accepts from a caller allowed to make it."""
    if action in ("retrieve", "activity"):
        return "get", None
    if action == "patch":
        return "patch", {"title": "Patched", "status": "in-progress"}
    if action == "put":
        return "put", {"title": "Replaced", "description": "All new.", "assignee_id": assignee_id}
    if action == "delete":
        return "delete", None
    return "patch", {"project_id": target.id}


@pytest.mark.parametrize(("action", "actor", "expected"), CASES)
def test_task_endpoints_follow_the_contract_table(client_for, team, action, actor, expected):
    # The creator is also the assignee, and belongs to the target: a move keeps them.
    task = make_task(project=team.project, created_by=team.member, assignee=team.member)
    target = ProjectFactory(name="Target")
    users = {
        "creator": team.member,
        "other member": team.other_member,
        "viewer": MembershipFactory(project=team.project, role=Role.VIEWER).user,
        "admin": team.admin,
        "owner": team.owner,
        "non-member": team.stranger,
    }
    for user in users.values():
        MembershipFactory(project=target, user=user)
    client = APIClient() if actor == "anonymous" else client_for(users[actor])
    method, body = request_for(action, target, team.member.id)
    before = db_state()

    url = task_feed_url(task.id) if action == "activity" else task_url(task.id)
    response = getattr(client, method)(url, body, format="json")

    if expected >= 400:
        assert_error(response, expected)
        assert db_state() == before, "a refused call changed the database"
        return
    assert response.status_code == expected, response.content
    if action == "activity":
        assert db_state() == before
    elif action == "retrieve":
        assert response.json()["id"] == task.id
        assert db_state() == before
    elif action == "delete":
        assert not Task.objects.filter(pk=task.pk).exists()
    else:
        task.refresh_from_db()
        assert response.json()["id"] == task.id
        if action == "patch":
            assert (task.title, task.status) == ("Patched", "in-progress")
        elif action == "put":
            assert (task.title, task.description) == ("Replaced", "All new.")
        else:
            assert task.project == target
            assert response.json()["project_id"] == target.id


def test_moving_to_a_project_the_caller_is_not_in_reads_like_a_missing_project(client_for, team):
    task = make_task(project=team.project, created_by=team.member)
    foreign = ProjectFactory()
    missing_id = Project.objects.order_by("-id").first().id + 1000
    client = client_for(team.owner)
    before = db_state()

    foreign_errors = assert_error(
        client.patch(task_url(task.id), {"project_id": foreign.id}), 400, attr="project_id"
    )
    missing_errors = assert_error(
        client.patch(task_url(task.id), {"project_id": missing_id}), 400, attr="project_id"
    )

    assert [without_ids(e["detail"]) for e in foreign_errors] == [
        without_ids(e["detail"]) for e in missing_errors
    ]
    assert db_state() == before


def test_put_moving_to_a_project_the_caller_is_not_in_is_a_400(client_for, team):
    task = make_task(project=team.project, created_by=team.member)
    foreign = ProjectFactory()
    before = db_state()

    response = client_for(team.member).put(
        task_url(task.id), {"title": "Moved", "project_id": foreign.id}
    )

    assert_error(response, 400, attr="project_id")
    assert db_state() == before


def test_member_without_delete_right_gets_403_before_the_target_is_looked_at(client_for, team):
    """Role (403) is checked before the body (400): the foreign target is never judged."""
    task = make_task(project=team.project, created_by=team.member)
    foreign = ProjectFactory()
    before = db_state()

    response = client_for(team.other_member).patch(task_url(task.id), {"project_id": foreign.id})

    assert_error(response, 403)
    assert db_state() == before


def test_naming_the_current_project_is_not_a_move(client_for, team):
    task = make_task(project=team.project, created_by=team.member)

    response = client_for(team.other_member).patch(
        task_url(task.id), {"project_id": team.project.id, "title": "Same place"}
    )

    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert (task.project, task.title) == (team.project, "Same place")


def test_put_without_project_id_is_not_a_move(client_for, team):
    task = make_task(project=team.project, created_by=team.member)

    response = client_for(team.other_member).put(task_url(task.id), {"title": "Stays"})

    assert response.status_code == 200, response.content
    assert response.json()["project_id"] == team.project.id


def test_member_can_create_tasks_in_their_project_but_not_in_a_strangers(client_for, team):
    response = client_for(team.other_member).post(
        "/api/v1/tasks/", {"title": "Mine", "project_id": team.project.id}
    )
    assert response.status_code == 201, response.content

    before = db_state()
    response = client_for(team.stranger).post(
        "/api/v1/tasks/", {"title": "Not mine", "project_id": team.project.id}
    )
    assert_error(response, 400, attr="project_id")
    assert db_state() == before


def test_anonymous_cannot_list_or_create(team):
    client = APIClient()

    assert_error(client.get("/api/v1/tasks/"), 401)
    assert_error(client.post("/api/v1/tasks/", {"title": "Anon"}, format="json"), 401)
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Bearer", "Token abc", "Basic Zm9vOmJhcg=="]
)
def test_malformed_credentials_are_a_401(team, header):
    task = make_task(project=team.project)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_error(client.get(task_url(task.id)), 401)
    assert_error(client.delete(task_url(task.id)), 401)
    assert Task.objects.filter(pk=task.pk).exists()


def test_non_member_with_a_stale_if_match_still_gets_404(client_for, team):
    """Membership (404) comes before the state of the target (412)."""
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = client_for(team.stranger).patch(
        task_url(task.id), {"title": "x"}, HTTP_IF_MATCH='"stale"'
    )

    assert_error(response, 404)
    assert task_rows() == before


def test_member_without_delete_right_with_a_stale_if_match_gets_403(client_for, team):
    """Role (403) comes before the state of the target (412)."""
    task = make_task(project=team.project, created_by=team.member)
    before = task_rows()

    response = client_for(team.other_member).delete(task_url(task.id), HTTP_IF_MATCH='"stale"')

    assert_error(response, 403)
    assert task_rows() == before
