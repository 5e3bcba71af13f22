"""`notification.created` on the events socket: to every socket of its recipient, with the
notification exactly as `GET notifications/` lists it, and to nobody else's (not the actor's,
not the project's other members', not a stranger's)."""

import pytest

from tests.factories import MembershipFactory
from tests.support.realtime import assert_all_silent, call, run_async
from tests.support.urls import NOTIFICATIONS, TASKS

pytestmark = pytest.mark.django_db(transaction=True)


@run_async
async def test_notification_created_reaches_every_socket_of_the_recipient_and_nobody_else(
    team, open_socket
):
    await call(MembershipFactory, project=team.project, user=team.newcomer.user)
    owner = await open_socket(team.owner.access)
    member = await open_socket(team.member.access)
    member_again = await open_socket(team.member.access)
    newcomer = await open_socket(team.newcomer.access)
    stranger = await open_socket(team.stranger.access)

    created = await call(
        team.owner.client.post,
        TASKS,
        {"title": "Review", "project_id": team.project.pk, "assignee_id": team.member.id},
    )
    assert created.status_code == 201, created.content

    for socket in (owner, member, member_again, newcomer):
        await socket.receive_event("task.created")
    for socket in (member, member_again):
        await socket.receive_event("task.assigned")
    inbox = (await call(team.member.client.get, NOTIFICATIONS)).json()["results"]
    assert len(inbox) == 1
    for socket in (member, member_again):
        notified = await socket.receive_event("notification.created")
        assert notified["project_id"] == team.project.pk
        assert notified["actor_id"] == team.owner.id
        assert notified["data"] == inbox[0]
        assert notified["data"]["verb"] == "assigned"
        assert notified["data"]["task_id"] == created.json()["id"]
    await assert_all_silent(owner, member, member_again, newcomer, stranger)


@run_async
async def test_nobody_is_notified_of_their_own_assignment(team, open_socket):
    member = await open_socket(team.member.access)

    created = await call(
        team.member.client.post,
        TASKS,
        {"title": "Mine", "project_id": team.project.pk, "assignee_id": team.member.id},
    )
    assert created.status_code == 201, created.content

    await member.receive_event("task.created")
    await member.receive_event("task.assigned")
    await member.assert_silent()
