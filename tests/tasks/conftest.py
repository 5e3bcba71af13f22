from dataclasses import dataclass

import pytest
import time_machine

from accounts.models import User
from projects.models import Project, Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.tasks.helpers import NOW


@dataclass
class Team:
    """A shared project with one user in each role and a stranger who belongs to none of it.

    `member` is the plain member who creates tasks; `other_member` is a plain member who did
    not create them.
    """

    project: Project
    owner: User
    admin: User
    member: User
    other_member: User
    stranger: User


@pytest.fixture
def team(db) -> Team:
    project = ProjectFactory(name="Launch")
    return Team(
        project=project,
        owner=project.owner,
        admin=MembershipFactory(project=project, role=Role.ADMIN).user,
        member=MembershipFactory(project=project).user,
        other_member=MembershipFactory(project=project).user,
        stranger=UserFactory(),
    )


@pytest.fixture
def frozen():
    """The clock stopped at `NOW`. Request it before any client so tokens are issued then."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
