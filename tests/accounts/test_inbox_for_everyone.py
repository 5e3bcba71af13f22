"""Every user has an Inbox however the user is made, and a missing one is never a 500."""

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.services import user_create
from projects.models import Membership, Project, Role
from tests.factories import DEFAULT_PASSWORD
from tests.support.auth import logged_in

pytestmark = pytest.mark.django_db


def assert_has_inbox(user: User) -> Project:
    inbox = Project.objects.get(owner=user, is_inbox=True)
    assert Membership.objects.filter(project=inbox, user=user, role=Role.OWNER).exists()
    return inbox


def test_user_create_gives_an_inbox():
    user = User(email="someone@example.com")
    user.set_password("a-passphrase-123")
    assert_has_inbox(user_create(user=user))


def test_create_superuser_gives_an_inbox():
    """Django's createsuperuser calls the manager's create_superuser; it goes through the
    service."""
    assert_has_inbox(User.objects.create_superuser("root@example.com", "a-passphrase-123"))


def test_createsuperuser_gives_an_inbox_and_the_first_admin_can_create_a_task(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", DEFAULT_PASSWORD)
    call_command("createsuperuser", "--noinput", "--email", "ops@example.com", verbosity=0)
    admin = User.objects.get(email="ops@example.com")
    inbox = assert_has_inbox(admin)

    client = logged_in(admin)
    response = client.post("/api/v1/tasks/", {"title": "First task"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["project_id"] == inbox.id


def test_a_user_added_in_the_admin_gets_an_inbox(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "name": "New",
            "timezone": "UTC",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert_has_inbox(User.objects.get(email="new@example.com"))
    assert User.objects.get(email="new@example.com").email_verified  # the operator's word


def test_the_demo_seed_gives_everyone_an_inbox():
    call_command("seed_demo", verbosity=0)

    for user in User.objects.all():
        assert_has_inbox(user)
        assert user.email_verified  # made by a command, not by registration


def test_a_missing_inbox_is_made_when_a_task_needs_it_not_a_500(user):
    Project.objects.filter(owner=user, is_inbox=True).delete()  # behind the API's back
    client = logged_in(user, raise_request_exception=False)

    response = client.post("/api/v1/tasks/", {"title": "T"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["project_id"] == assert_has_inbox(user).id
