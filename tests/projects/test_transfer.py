import pytest

from projects.models import Membership, Project, Role
from tests.factories import UserFactory
from tests.support.envelope import assert_error
from tests.support.projects import db_state
from tests.support.urls import project_url, transfer_url


def roles(project: Project) -> dict[int, str]:
    return dict(Membership.objects.filter(project=project).values_list("user_id", "role"))


@pytest.mark.parametrize("new_owner", ["member", "admin"])
def test_owner_hands_the_project_to_another_member_and_stays_as_admin(client_for, team, new_owner):
    successor = getattr(team, new_owner)

    response = client_for(team.owner).post(transfer_url(team.project.id), {"user_id": successor.id})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == team.project.id
    assert body["role"] == "admin"
    assert body["owner"] == {"id": successor.id, "email": successor.email, "name": successor.name}
    assert body["member_count"] == 4
    team.project.refresh_from_db()
    assert team.project.owner_id == successor.id
    after = roles(team.project)
    assert after[team.owner.id] == Role.ADMIN
    assert after[successor.id] == Role.OWNER
    assert list(after.values()).count(Role.OWNER) == 1
    assert len(after) == 4


def test_after_a_transfer_the_new_owner_holds_the_owners_rights(client_for, team):
    client_for(team.owner).post(transfer_url(team.project.id), {"user_id": team.member.id})

    assert_error(client_for(team.owner).delete(project_url(team.project.id)), 403)
    assert client_for(team.member).get(project_url(team.project.id)).json()["role"] == "owner"
    assert client_for(team.member).delete(project_url(team.project.id)).status_code == 204


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("self", id="self"),
        pytest.param("stranger", id="non-member"),
        pytest.param(987654321, id="nonexistent"),
        pytest.param(10**30, id="huge"),
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param("abc", id="not-a-number"),
        pytest.param(None, id="null"),
        pytest.param("missing", id="missing"),
    ],
)
def test_new_owner_must_be_another_member_or_it_is_a_400_on_user_id(client_for, team, user_id):
    body = {
        "self": {"user_id": team.owner.id},
        "stranger": {"user_id": team.stranger.id},
        "missing": {},
    }.get(user_id, {"user_id": user_id})
    before = db_state()

    response = client_for(team.owner).post(transfer_url(team.project.id), body)

    assert_error(response, 400, attr="user_id")
    assert db_state() == before


@pytest.mark.parametrize("caller", ["admin", "member"])
def test_only_the_owner_may_transfer(client_for, team, caller):
    before = db_state()

    response = client_for(getattr(team, caller)).post(
        transfer_url(team.project.id), {"user_id": getattr(team, caller).id}
    )

    assert_error(response, 403)
    assert db_state() == before


def test_a_stranger_gets_a_404(client_for, team):
    before = db_state()

    response = client_for(team.stranger).post(
        transfer_url(team.project.id), {"user_id": team.stranger.id}
    )

    assert_error(response, 404)
    assert db_state() == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty-body"),
        pytest.param({"user_id": "abc"}, id="invalid-body"),
        pytest.param("other-user", id="valid-looking-body"),
    ],
)
def test_transferring_the_inbox_is_a_409_before_the_body_is_looked_at(auth_client, user, body):
    inbox = Project.objects.get(owner=user, is_inbox=True)
    if body == "other-user":
        body = {"user_id": UserFactory().id}
    before = db_state()

    response = auth_client.post(transfer_url(inbox.id), body)

    assert_error(response, 409)
    assert db_state() == before
