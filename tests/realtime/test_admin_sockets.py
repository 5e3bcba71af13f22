"""Open sockets follow what an operator does in the admin: a member removed there is told so
(`member.removed`, as through the API) and stops receiving the project."""

import pytest
from django.test import Client

from accounts.models import User
from projects.models import Membership
from tests.factories import MembershipFactory
from tests.support.realtime import call, person, run_async

pytestmark = pytest.mark.django_db(transaction=True)

WITHIN_A_SECOND = 1


def operator_client() -> tuple[Client, User]:
    operator = User.objects.create_superuser("operator@example.com", "operator-passphrase-42")
    client = Client()
    client.force_login(operator)
    return client, operator


def remove_in_the_admin(membership: Membership) -> int:
    client, operator = operator_client()
    response = client.post(f"/admin/projects/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:2000]
    return operator.pk


@run_async
async def test_a_member_removed_in_the_admin_is_told_and_stops_receiving_the_project(
    team, open_socket
):
    elsewhere = await call(lambda: person(MembershipFactory(user=team.member.user).project.owner))
    other_project = (await call(lambda: elsewhere.user.owned_projects.get(is_inbox=False))).pk
    membership = await call(Membership.objects.get, project=team.project, user=team.member.user)
    member = await open_socket(team.member.access)
    owner = await open_socket(team.owner.access)

    operator_id = await call(remove_in_the_admin, membership)

    for socket in (member, owner):
        event = await socket.receive_event("member.removed", timeout=WITHIN_A_SECOND)
        assert (event["actor_id"], event["data"]["user"]["id"]) == (operator_id, team.member.id)
    response = await call(
        team.owner.client.post,
        "/api/v1/tasks/",
        {"title": "News", "project_id": team.project.pk},
    )
    assert response.status_code == 201
    assert (await owner.receive_event("task.created"))["project_id"] == team.project.pk
    await member.assert_silent()
    response = await call(
        elsewhere.client.post, "/api/v1/tasks/", {"title": "News", "project_id": other_project}
    )
    assert (await member.receive_event("task.created"))["project_id"] == other_project
