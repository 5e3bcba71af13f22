"""The notifications that existing writes make, through the API: `assigned` for a task's new
assignee (create, update, a move that sets one), `added_to_project` for a new member; never
for the actor, never for a rolled-back write."""

import pytest

from notifications.models import Notification
from projects.models import Role
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.urls import TASKS, members_url, task_url

pytestmark = pytest.mark.django_db(transaction=True)


def made() -> list[tuple]:
    return sorted(
        Notification.objects.values_list(
            "recipient_id", "verb", "actor_id", "project_id", "task_id"
        )
    )


def test_creating_a_task_for_someone_notifies_the_assignee(client_for, team):
    response = client_for(team.owner).post(
        TASKS, {"title": "Review", "project_id": team.project.pk, "assignee_id": team.member.pk}
    )

    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    assert made() == [(team.member.pk, "assigned", team.owner.pk, team.project.pk, task_id)]


def test_assigning_oneself_notifies_nobody(client_for, team):
    response = client_for(team.member).post(
        TASKS, {"title": "Mine", "project_id": team.project.pk, "assignee_id": team.member.pk}
    )

    assert response.status_code == 201, response.content
    assert made() == []


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_new_assignee_on_update_is_notified_and_other_edits_notify_nobody(
    client_for, team, method
):
    task = TaskFactory(project=team.project, assignee=team.member)
    owner = client_for(team.owner)

    edited = getattr(owner, method)(
        task_url(task.pk), {"title": "Renamed", "assignee_id": team.member.pk}, format="json"
    )
    assert edited.status_code == 200, edited.content
    assert made() == []  # the same assignee: not a new one

    reassigned = getattr(owner, method)(
        task_url(task.pk), {"title": "Renamed", "assignee_id": team.admin.pk}, format="json"
    )

    assert reassigned.status_code == 200, reassigned.content
    assert made() == [(team.admin.pk, "assigned", team.owner.pk, team.project.pk, task.pk)]


def test_a_move_that_sets_an_assignee_notifies_them_in_the_target_project(client_for, team):
    target = ProjectFactory(owner=team.owner)
    newcomer = MembershipFactory(project=target).user
    task = TaskFactory(project=team.project)

    response = client_for(team.owner).patch(
        task_url(task.pk), {"project_id": target.pk, "assignee_id": newcomer.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert made() == [(newcomer.pk, "assigned", team.owner.pk, target.pk, task.pk)]


def test_a_refused_write_notifies_nobody(client_for, team):
    viewer = MembershipFactory(project=team.project, role=Role.VIEWER).user

    response = client_for(team.owner).post(
        TASKS, {"title": "Nope", "project_id": team.project.pk, "assignee_id": viewer.pk}
    )

    assert response.status_code == 400, response.content
    assert made() == []


def test_adding_a_member_notifies_them(client_for, team):
    newcomer = UserFactory()

    response = client_for(team.admin).post(
        members_url(team.project.pk), {"email": newcomer.email, "role": "member"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert made() == [(newcomer.pk, "added_to_project", team.admin.pk, team.project.pk, None)]
    inbox = client_for(newcomer).get("/api/v1/notifications/").json()["results"]
    assert [(n["verb"], n["actor"]["id"], n["project_id"]) for n in inbox] == [
        ("added_to_project", team.admin.pk, team.project.pk)
    ]
