"""The task pages of the Django admin render for an operator."""

import pytest
from django.test import Client

from accounts.models import User
from tasks.models import Status
from tests.support.tasks import make_task

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tasks/task/"


@pytest.fixture
def operator_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("operator@example.com", "op-passphrase-42"))
    return client


@pytest.fixture
def tasks(team):
    return [
        make_task(project=team.project, title="Pending launch post", assignee=team.member),
        make_task(project=team.project, title="Done review", status=Status.COMPLETED),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=pending",
        "?status__exact=completed",
        "?q=launch",
        "?q=%25_",
        "?o=2",
        "?created_at__year=2026",
    ],
)
def test_operator_sees_the_task_changelist(operator_client, tasks, query):
    response = operator_client.get(CHANGELIST + query)

    assert response.status_code == 200


def test_changelist_filters_and_searches(operator_client, tasks):
    pending = operator_client.get(f"{CHANGELIST}?status__exact=pending").content.decode()
    assert "Pending launch post" in pending
    assert "Done review" not in pending

    found = operator_client.get(f"{CHANGELIST}?q=post").content.decode()
    assert "Pending launch post" in found
    assert "Done review" not in found


def test_operator_opens_the_change_and_add_pages(operator_client, tasks):
    assert operator_client.get(f"{CHANGELIST}{tasks[0].id}/change/").status_code == 200
    assert operator_client.get(f"{CHANGELIST}add/").status_code == 200


def test_plain_user_is_sent_to_the_admin_login(user):
    client = Client()
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
