"""Rendering a page costs a fixed number of SQL queries, however many rows it holds."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.urls import PROJECTS, members_url


def queries_for(client, url: str) -> int:
    client.get(url, {"page_size": 100})  # warm any per-process caches first
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def user_in_projects(count: int):
    """A user in `count` projects besides their Inbox, each with three other members and a
    role of each kind for the user."""
    user = UserFactory()
    roles = [Role.OWNER, Role.ADMIN, Role.MEMBER]
    for index in range(count):
        role = roles[index % 3]
        if role == Role.OWNER:
            project = ProjectFactory(owner=user)
        else:
            project = ProjectFactory()
            MembershipFactory(project=project, user=user, role=role)
        MembershipFactory.create_batch(3 if role == Role.OWNER else 2, project=project)
    return user


def test_project_list_costs_the_same_queries_for_2_or_30_projects(client_for, db):
    few = queries_for(client_for(user_in_projects(2)), PROJECTS)
    many = queries_for(client_for(user_in_projects(30)), PROJECTS)

    assert many == few


def test_members_list_costs_the_same_queries_for_2_or_30_members(client_for, db):
    small = ProjectFactory()
    MembershipFactory(project=small)
    large = ProjectFactory()
    MembershipFactory.create_batch(29, project=large)

    few = queries_for(client_for(small.owner), members_url(small.id))
    many = queries_for(client_for(large.owner), members_url(large.id))

    assert many == few
