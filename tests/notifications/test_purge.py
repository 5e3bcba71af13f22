"""Notifications older than NOTIFICATION_RETENTION_DAYS are deleted by the worker's hourly
purge task (notifications/tasks.py, in config/celery.py's beat schedule), read or not; newer
ones stay."""

from datetime import timedelta

import pytest

from config.celery import app
from notifications import tasks
from notifications.models import Notification
from tests.support.notifications import make_notification

pytestmark = pytest.mark.django_db


def test_the_purge_deletes_notifications_older_than_the_retention_read_or_not(team, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    old_read = make_notification(team.member, team.project, read=True, age=timedelta(days=31))
    old_unread = make_notification(team.member, team.project, age=timedelta(days=30, hours=1))
    recent = make_notification(team.member, team.project, age=timedelta(days=29))
    fresh = make_notification(team.admin, team.project)

    assert tasks.purge() == 2

    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, fresh.pk}
    assert old_read.pk not in remaining and old_unread.pk not in remaining


def test_the_retention_defaults_to_90_days(team):
    kept = make_notification(team.member, team.project, age=timedelta(days=89))
    make_notification(team.member, team.project, age=timedelta(days=91))

    tasks.purge()

    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_worker_beat_runs_the_purge_hourly():
    app.loader.import_default_modules()
    app.finalize()
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}

    assert "notifications.purge" in app.tasks
    assert schedule["notifications.purge"] == 3600.0
