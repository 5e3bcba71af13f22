"""Marking all read while a notification arrives never loses the new one (PostgreSQL).

`POST read/ {"all": true}` is one `UPDATE ... WHERE read_at IS NULL`. Under READ COMMITTED a
statement sees the rows committed before it started (its snapshot); a row committed later is
not in its scan, even when that commit happens before the statement ends.

The test makes the UPDATE wait mid-statement: another connection holds a row lock on one of
the unread notifications, so the UPDATE, having taken its snapshot and started its scan,
blocks on that row (seen in pg_locks as a waiting UPDATE). While it waits, a third
connection inserts a new unread notification and commits. Then the lock is released and the
UPDATE finishes. The new notification must still be unread, and the count the request
answers (read by a later statement) must include it.

What it proves: the request's UPDATE does not touch a notification committed after the
statement began, and the answer counts it. What it does not prove: anything about a
notification committed between the request's arrival and the UPDATE's start; that one is
marked read, as it exists when the marking happens.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from notifications.models import Notification
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql
from tests.support.notifications import make_notification
from tests.support.urls import MARK_READ

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = Notification._meta.db_table


def update_is_waiting() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND query LIKE %s
            """,
            [f'UPDATE "{TABLE}"%'],
        )
        return cursor.fetchone()[0] > 0


def test_a_notification_committed_while_mark_all_read_runs_stays_unread(team):
    require_postgresql()
    old = [make_notification(team.member, team.project) for _ in range(3)]
    client = logged_in(team.member)
    locked = threading.Event()
    release = threading.Event()
    answers = []

    def hold_a_row_lock():
        try:
            with transaction.atomic():
                Notification.objects.select_for_update().get(pk=old[1].pk)
                locked.set()
                assert release.wait(timeout=20)
        finally:
            connection.close()

    def mark_all_read():
        try:
            answers.append(client.post(MARK_READ, {"all": True}, format="json"))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_a_row_lock)
    holder.start()
    assert locked.wait(timeout=10)
    marker = threading.Thread(target=mark_all_read)
    marker.start()
    deadline = time.monotonic() + 10
    while not update_is_waiting():
        assert time.monotonic() < deadline, "the UPDATE never waited on the locked row"
        time.sleep(0.02)

    # The UPDATE has its snapshot and waits; a notification arrives and commits meanwhile.
    arrived = make_notification(team.member, team.project)
    release.set()
    holder.join(timeout=20)
    marker.join(timeout=20)

    assert not marker.is_alive() and len(answers) == 1
    assert answers[0].status_code == 200, answers[0].content
    assert answers[0].json() == {"count": 1}  # the count is read after the UPDATE
    assert Notification.objects.get(pk=arrived.pk).read_at is None
    assert not Notification.objects.filter(pk__in=[n.pk for n in old], read_at=None).exists()
