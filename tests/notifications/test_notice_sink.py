"""core.events.Notice through publish: the notifications app's sink (notifications.services.
notify) stores one notification per named user after the commit, never for the actor, at most
one per user per publish, none for a rolled-back write, and sends each to its recipient's
sockets only."""

import json

import pytest
from django.db import transaction

from core.events import Notice, publish
from core.realtime import user_group
from core.render import utc_timestamp
from notifications.models import Notification, Verb
from tasks.models import Task
from tests.factories import TaskFactory
from tests.support.events import record_sent

pytestmark = pytest.mark.django_db(transaction=True)


def notice(team, verb=Verb.ASSIGNED, *users, actor=None) -> Notice:
    return Notice(
        verb=verb,
        user_ids=tuple(user.pk for user in users),
        actor_id=(actor or team.owner).pk,
        project_id=team.project.pk,
    )


def test_a_notice_is_stored_after_the_commit_for_each_user_but_the_actor(team):
    with transaction.atomic():
        publish(notice(team, Verb.ADDED_TO_PROJECT, team.member, team.owner, team.admin))
        assert not Notification.objects.exists()  # not before the commit

    stored = Notification.objects.order_by("recipient_id")
    assert sorted(n.recipient_id for n in stored) == sorted([team.member.pk, team.admin.pk])
    assert {(n.verb, n.actor_id, n.project_id, n.read_at) for n in stored} == {
        (Verb.ADDED_TO_PROJECT, team.owner.pk, team.project.pk, None)
    }


def test_the_first_notice_naming_a_user_wins(team):
    with transaction.atomic():
        publish(
            notice(team, Verb.MENTIONED, team.member),
            notice(team, Verb.COMMENTED, team.member, team.admin),
        )

    verbs = dict(Notification.objects.values_list("recipient_id", "verb"))
    assert verbs == {team.member.pk: Verb.MENTIONED, team.admin.pk: Verb.COMMENTED}


def test_a_rolled_back_write_makes_no_notification(team):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(notice(team, Verb.ASSIGNED, team.member))
        raise RuntimeError

    assert not Notification.objects.exists()


def test_notification_created_goes_to_the_recipients_sockets_only(team, settings):
    sent = record_sent(settings)

    with transaction.atomic():
        publish(notice(team, Verb.ASSIGNED, team.member))

    messages = [(group, message) for batch in sent for group, message in batch]
    assert [group for group, _ in messages] == [user_group(team.member.pk)]
    body = json.loads(messages[0][1]["text"])
    stored = Notification.objects.get()
    assert body["type"] == "notification.created"
    assert body["data"] == {
        "id": stored.pk,
        "verb": "assigned",
        "actor": {"id": team.owner.pk, "email": team.owner.email, "name": team.owner.name},
        "project_id": team.project.pk,
        "task_id": None,
        "comment_id": None,
        "created_at": utc_timestamp(stored.created_at),
        "read_at": None,
    }


def test_a_task_deleted_before_the_notifications_are_stored_costs_only_its_own(team, settings):
    """The write commits, then what one notification names is gone before they are stored:
    the others are stored and announced all the same."""
    sent = record_sent(settings)
    task = TaskFactory(project=team.project)

    with transaction.atomic():
        publish(
            Notice(
                verb=Verb.ASSIGNED,
                user_ids=(team.member.pk,),
                actor_id=team.owner.pk,
                project_id=team.project.pk,
                task_id=task.pk,
            ),
            notice(team, Verb.ADDED_TO_PROJECT, team.admin),
        )
        Task.objects.filter(pk=task.pk).delete()  # in the write, after its notices

    stored = Notification.objects.get()
    assert (stored.recipient_id, stored.verb) == (team.admin.pk, Verb.ADDED_TO_PROJECT)
    messages = [(group, message) for batch in sent for group, message in batch]
    assert [group for group, _ in messages] == [user_group(team.admin.pk)]
