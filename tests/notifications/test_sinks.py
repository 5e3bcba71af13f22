"""`notification.created` through the other sinks of core.events.publish: the webhook outbox
never stores it (and does not even look for webhooks when a publish has nothing else), and
the task-list counts are not expired by it."""

import pytest
from django.db import transaction

from core.events import Notice, publish
from notifications.models import Notification, Verb
from notifications.services import notification_created
from tasks import counts
from tests.support.notifications import make_notification
from webhooks import outbox
from webhooks.models import Webhook, WebhookEvent
from webhooks.sender import new_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def catch_all_webhook(team):
    return Webhook.objects.create(
        project=team.project,
        url="https://hooks.example.invalid/all",
        events=["*", "task.assigned"],
        secret=new_secret(),
        created_by=team.owner,
    )


def test_the_outbox_skips_notification_created_without_a_query(
    team, catch_all_webhook, django_assert_num_queries
):
    event = notification_created(make_notification(team.member, team.project))

    with transaction.atomic(), django_assert_num_queries(0):
        outbox.record([event])

    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_stored_notice_reaches_no_webhook(team, catch_all_webhook):
    with transaction.atomic():
        publish(
            Notice(
                verb=Verb.ASSIGNED,
                user_ids=(team.member.pk,),
                actor_id=team.owner.pk,
                project_id=team.project.pk,
            )
        )

    assert Notification.objects.filter(recipient=team.member).exists()
    assert not WebhookEvent.objects.exists()


def test_notification_created_leaves_the_task_counts_alone(team):
    key = counts.version_key(team.project.pk)
    counts.cache.set(key, "current")
    event = notification_created(make_notification(team.member, team.project))

    with transaction.atomic():
        counts.expire([event])

    assert counts.cache.get(key) == "current"
