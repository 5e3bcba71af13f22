"""The notifications admin: operators list them by recipient, verb and read state, and change
nothing."""

import pytest

from notifications.models import Notification, Verb
from tests.support.notifications import make_notification

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


def listed(admin_client, query: str = "") -> str:
    response = admin_client.get(f"{CHANGELIST}{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_operators_list_notifications_by_recipient_verb_and_read_state(admin_client, team):
    unread = make_notification(team.member, team.project, verb=Verb.ASSIGNED)
    read = make_notification(team.admin, team.project, verb=Verb.ADDED_TO_PROJECT, read=True)

    assert f'href="{CHANGELIST}{unread.pk}/' in listed(admin_client, f"?recipient={team.member.pk}")
    assert f'href="{CHANGELIST}{read.pk}/' not in listed(
        admin_client, f"?recipient={team.member.pk}"
    )
    assert f'href="{CHANGELIST}{read.pk}/' in listed(admin_client, "?verb__exact=added_to_project")
    unread_only = listed(admin_client, "?read_at__isempty=1")
    assert f'href="{CHANGELIST}{unread.pk}/' in unread_only
    assert f'href="{CHANGELIST}{read.pk}/' not in unread_only
    by_email = listed(admin_client, f"?q={team.admin.email}")
    assert f'href="{CHANGELIST}{read.pk}/' in by_email


def test_the_admin_changes_nothing(admin_client, team):
    notification = make_notification(team.member, team.project)

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{notification.pk}/change/").status_code == 200
    response = admin_client.post(f"{CHANGELIST}{notification.pk}/change/", {"verb": "mentioned"})
    assert response.status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{notification.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Notification.objects.get(pk=notification.pk).verb == Verb.ASSIGNED
