from dataclasses import dataclass

import pytest

from accounts.models import User
from projects.models import Project, Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory


@dataclass
class Team:
    """A shared project with one user in each role, another plain member to act on, and a
    stranger who belongs to none of it."""

    project: Project
    owner: User
    admin: User
    member: User
    other_member: User
    stranger: User


@pytest.fixture
def team(db) -> Team:
    project = ProjectFactory(name="Launch", description="Everything for the launch.")
    return Team(
        project=project,
        owner=project.owner,
        admin=MembershipFactory(project=project, role=Role.ADMIN).user,
        member=MembershipFactory(project=project).user,
        other_member=MembershipFactory(project=project).user,
        stranger=UserFactory(),
    )
