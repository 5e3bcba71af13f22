"""projects.selectors.member_roles reads by plain SQL what memberships_for says: the same
projects and roles, within a personal access token's project limit."""

from types import SimpleNamespace

import pytest

from projects.models import Role
from projects.selectors import member_roles, memberships_for
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def roles_by_orm(user) -> dict[int, str]:
    return dict(memberships_for(user).values_list("project_id", "role"))


def test_member_roles_are_the_users_memberships(team):
    other = ProjectFactory(owner=team.member)
    MembershipFactory(project=ProjectFactory(), user=team.member, role=Role.ADMIN)

    roles = member_roles(team.member)

    assert roles == roles_by_orm(team.member)
    assert roles[team.project.id] == Role.MEMBER
    assert roles[other.id] == Role.OWNER
    assert len(roles) == 4  # with the Inbox
    assert member_roles(team.stranger) == roles_by_orm(team.stranger)


def test_member_roles_keep_to_a_limited_tokens_projects(team):
    user = team.member
    user.personal_token = SimpleNamespace(project_ids=[team.project.id, 999_999])

    assert member_roles(user) == roles_by_orm(user) == {team.project.id: Role.MEMBER}
