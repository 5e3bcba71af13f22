"""Webhook writes racing other writes, on PostgreSQL, each on its own connection."""

import pytest

from core.exceptions import NotFound
from projects.models import Project
from tests.factories import ProjectFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from webhooks.models import Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"url": "https://hooks.example.invalid/tasklane", "events": ["*"]}


@pytest.fixture(autouse=True)
def _postgresql():
    require_postgresql()


def test_a_create_for_a_project_deleted_after_the_lookup_is_a_404():
    """The view found the project; it was deleted before the service's insert."""
    project = ProjectFactory()
    stale = Project.objects.get(pk=project.pk)
    Project.objects.filter(pk=project.pk).delete()

    with pytest.raises(NotFound):
        webhook_create(project=stale, actor=project.owner, data=dict(BODY))
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("round_", range(5))
def test_creates_racing_the_projects_delete_are_201_or_404(round_):
    project = ProjectFactory()
    owner = logged_in(project.owner, raise_request_exception=False)
    creators = [logged_in(project.owner, raise_request_exception=False) for _ in range(4)]
    url = f"/api/v1/projects/{project.pk}/webhooks/"

    def create(client):
        return lambda: client.post(url, BODY, format="json")

    responses = run_together(
        [
            *(create(client) for client in creators),
            lambda: owner.delete(f"/api/v1/projects/{project.pk}/"),
        ]
    )
    *creates, deleted = responses
    assert deleted.status_code == 204
    assert {response.status_code for response in creates} <= {201, 404}, [
        (response.status_code, response.content[:200]) for response in creates
    ]
    for response in creates:
        if response.status_code == 404:
            assert response.json()["type"] == "client_error"
