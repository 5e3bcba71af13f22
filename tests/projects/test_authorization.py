"""Who may call each project and member endpoint, as the contract's table says.

Every write row sends a valid body, so the status reflects authorization alone. The member
rows act on another plain member's row (`{user_id}`), never on the caller's own.
"""

import pytest
from rest_framework.test import APIClient

from projects.models import Role
from tests.factories import MembershipFactory, TaskFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.projects import db_state

ROLES = ("owner", "admin", "member", "viewer", "non-member", "anonymous")

# fmt: off
CONTRACT = [
    # method    path                                 owner admin member viewer non-member anonymous
    ("GET",    "projects/",                         200,  200,  200,   200,   200,       401),
    ("POST",   "projects/",                         201,  201,  201,   201,   201,       401),
    ("GET",    "projects/{id}/",                    200,  200,  200,   200,   404,       401),
    ("PATCH",  "projects/{id}/",                    200,  200,  403,   403,   404,       401),
    ("PUT",    "projects/{id}/",                    200,  200,  403,   403,   404,       401),
    ("DELETE", "projects/{id}/",                    204,  403,  403,   403,   404,       401),
    ("POST",   "projects/{id}/transfer/",           200,  403,  403,   403,   404,       401),
    ("GET",    "projects/{id}/activity/",           200,  200,  200,   200,   404,       401),
    ("GET",    "projects/{id}/members/",            200,  200,  200,   200,   404,       401),
    ("POST",   "projects/{id}/members/",            201,  201,  403,   403,   404,       401),
    ("PATCH",  "projects/{id}/members/{user_id}/",  200,  200,  403,   403,   404,       401),
    ("DELETE", "projects/{id}/members/{user_id}/",  204,  204,  403,   403,   404,       401),
]
# fmt: on

CASES = [
    pytest.param(method, path, role, status, id=f"{method} {path} as {role} -> {status}")
    for method, path, *statuses in CONTRACT
    for role, status in zip(ROLES, statuses, strict=True)
]


def valid_body(method: str, path: str, team, newcomer) -> dict | None:
    """A body the endpoint would accept from a caller allowed to make the call."""
    bodies = {
        ("POST", "projects/"): {"name": "A new project"},
        ("PATCH", "projects/{id}/"): {"name": "Renamed"},
        ("PUT", "projects/{id}/"): {"name": "Replaced", "description": "A new description."},
        ("POST", "projects/{id}/transfer/"): {"user_id": team.other_member.id},
        ("POST", "projects/{id}/members/"): {"email": newcomer.email, "role": "member"},
        ("PATCH", "projects/{id}/members/{user_id}/"): {"role": "admin"},
    }
    return bodies.get((method, path))


@pytest.mark.parametrize(("method", "path", "role", "expected"), CASES)
def test_project_and_member_endpoints_follow_the_contract_table(
    client_for, team, method, path, role, expected
):
    newcomer = UserFactory()
    # A task assigned to the member the member rows act on: removing them must unassign it,
    # deleting the project must delete it, and a refused call must leave it as it was.
    TaskFactory(project=team.project, assignee=team.other_member)
    callers = {
        "owner": team.owner,
        "admin": team.admin,
        "member": team.member,
        "viewer": MembershipFactory(project=team.project, role=Role.VIEWER).user,
        "non-member": team.stranger,
    }
    client = APIClient() if role == "anonymous" else client_for(callers[role])
    url = "/api/v1/" + path.format(id=team.project.id, user_id=team.other_member.id)
    body = valid_body(method, path, team, newcomer)
    before = db_state()

    response = getattr(client, method.lower())(url, body, format="json")

    if expected >= 400:
        assert_error(response, expected)
        assert db_state() == before, "a refused call changed the database"
    else:
        assert response.status_code == expected, response.content
        if method != "GET":
            assert db_state() != before, "an allowed write changed nothing"
