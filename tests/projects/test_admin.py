"""The operators' admin pages for projects, memberships and users render."""

import pytest
from django.test import Client

from accounts.models import User
from projects.models import Role
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory


@pytest.fixture
def operator_client(db):
    operator = User.objects.create_superuser("operator@example.com", "a-long-test-passphrase-42")
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def project(db):
    project = ProjectFactory(name="Launch", owner=UserFactory(email="xavier@example.com"))
    MembershipFactory(project=project, role=Role.ADMIN)
    MembershipFactory(project=project)
    TaskFactory(project=project)
    return project


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/projects/project/",
        "/admin/projects/project/?q=Launch",
        "/admin/projects/project/?q=xavier",
        "/admin/projects/project/?is_inbox__exact=1",
        "/admin/projects/membership/",
        "/admin/projects/membership/?q=launch&role__exact=admin",
        "/admin/accounts/user/",
        "/admin/accounts/user/?q=xavier",
        "/admin/accounts/user/add/",
    ],
)
def test_admin_page_renders(operator_client, project, url):
    response = operator_client.get(url)

    assert response.status_code == 200, response.content[:2000]


def test_project_change_page_shows_its_memberships_inline(operator_client, project):
    response = operator_client.get(f"/admin/projects/project/{project.id}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    # One inline row each for the owner, the admin and the member, and no blank extra row.
    assert 'name="memberships-TOTAL_FORMS" value="3"' in content
    for index, membership in enumerate(project.memberships.order_by("joined_at", "id")):
        assert f'name="memberships-{index}-id" value="{membership.id}"' in content


def test_membership_and_user_change_pages_render(operator_client, project):
    membership = project.memberships.get(role=Role.MEMBER)

    assert (
        operator_client.get(f"/admin/projects/membership/{membership.id}/change/").status_code
        == 200
    )
    assert (
        operator_client.get(f"/admin/accounts/user/{project.owner_id}/change/").status_code == 200
    )


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("project", "owner"), ("membership", "user"), ("membership", "project")],
)
def test_autocomplete_finds_users_and_projects(operator_client, project, model_name, field_name):
    term = "x" if field_name in {"owner", "user"} else "Laun"

    response = operator_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "projects",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    expected = str(project.owner_id) if field_name in {"owner", "user"} else str(project.id)
    assert expected in [result["id"] for result in results]
