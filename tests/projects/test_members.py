import pytest

from projects.models import Membership, Project, Role
from tasks.models import Task
from tests.factories import MembershipFactory, TaskFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.projects import db_state
from tests.support.urls import member_url, members_url, project_url


def role_in(project: Project, user) -> str | None:
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


# --- List -----------------------------------------------------------------------------------


def test_members_list_is_a_page_of_members_in_joining_order(client_for, team):
    response = client_for(team.member).get(members_url(team.project.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 4
    assert body["next"] is None and body["previous"] is None
    assert [(m["user"]["id"], m["role"]) for m in body["results"]] == [
        (team.owner.id, "owner"),
        (team.admin.id, "admin"),
        (team.member.id, "member"),
        (team.other_member.id, "member"),
    ]
    first = body["results"][0]
    assert set(first) == {"user", "role", "joined_at"}
    assert first["user"] == {
        "id": team.owner.id,
        "email": team.owner.email,
        "name": team.owner.name,
    }
    assert first["joined_at"].endswith("Z")


def test_members_list_is_paginated(client_for, team):
    response = client_for(team.member).get(members_url(team.project.id), {"page_size": 3})

    body = response.json()
    assert body["count"] == 4
    assert len(body["results"]) == 3
    assert body["next"] is not None
    assert_error(client_for(team.member).get(members_url(team.project.id), {"page": 3}), 404)
    assert_error(
        client_for(team.member).get(members_url(team.project.id), {"page_size": "0"}),
        400,
        attr="page_size",
    )


# --- Add ------------------------------------------------------------------------------------


def test_member_is_added_by_email_case_insensitively(client_for, team):
    newcomer = UserFactory(email="grace.hopper@example.com")

    response = client_for(team.owner).post(
        members_url(team.project.id), {"email": "  Grace.Hopper@EXAMPLE.com ", "role": "member"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "role", "joined_at"}
    assert body["user"] == {"id": newcomer.id, "email": newcomer.email, "name": newcomer.name}
    assert body["role"] == "member"
    assert body["joined_at"].endswith("Z")
    assert role_in(team.project, newcomer) == Role.MEMBER


def test_admin_can_add_an_admin(client_for, team):
    newcomer = UserFactory()

    response = client_for(team.admin).post(
        members_url(team.project.id), {"email": newcomer.email, "role": "admin"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["role"] == "admin"
    assert role_in(team.project, newcomer) == Role.ADMIN


def test_added_member_appears_in_the_list_and_the_member_count(client_for, team):
    newcomer = UserFactory()
    owner = client_for(team.owner)

    owner.post(members_url(team.project.id), {"email": newcomer.email, "role": "member"})

    listed = owner.get(members_url(team.project.id)).json()
    assert listed["count"] == 5
    assert listed["results"][-1]["user"]["id"] == newcomer.id
    assert owner.get(project_url(team.project.id)).json()["member_count"] == 5
    newcomers_view = client_for(newcomer).get(project_url(team.project.id))
    assert newcomers_view.status_code == 200
    assert newcomers_view.json()["role"] == "member"


@pytest.mark.parametrize(
    "email",
    ["nobody@example.com", "not-an-email", "", None, "a\x00b@example.com", "a" * 300 + "@x.com"],
)
def test_email_that_names_no_user_is_a_400_on_email(client_for, team, email):
    before = db_state()

    response = client_for(team.owner).post(
        members_url(team.project.id), {"email": email, "role": "member"}
    )

    assert_error(response, 400, attr="email")
    assert db_state() == before


def test_adding_without_a_role_adds_a_member(client_for, team):
    newcomer = UserFactory()

    response = client_for(team.admin).post(members_url(team.project.id), {"email": newcomer.email})

    assert response.status_code == 201, response.content
    assert response.json()["role"] == "member"
    assert Membership.objects.get(project=team.project, user=newcomer).role == "member"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"role": "owner"}, id="owner"),
        pytest.param({"role": "boss"}, id="boss"),
        pytest.param({"role": "ADMIN"}, id="wrong-case"),
        pytest.param({"role": None}, id="null"),
    ],
)
def test_role_outside_admin_member_and_viewer_is_a_400_on_role(client_for, team, body):
    newcomer = UserFactory()
    before = db_state()

    response = client_for(team.owner).post(
        members_url(team.project.id), {"email": newcomer.email, **body}
    )

    assert_error(response, 400, attr="role")
    assert db_state() == before


@pytest.mark.parametrize("who", ["owner", "admin", "member"])
def test_adding_an_existing_member_is_a_409(client_for, team, who):
    existing = getattr(team, who)
    before = db_state()

    response = client_for(team.admin).post(
        members_url(team.project.id), {"email": existing.email.upper(), "role": "admin"}
    )

    assert_error(response, 409)
    assert db_state() == before


def test_member_cannot_add_anyone(client_for, team):
    newcomer = UserFactory()
    before = db_state()

    response = client_for(team.member).post(
        members_url(team.project.id), {"email": newcomer.email, "role": "member"}
    )

    assert_error(response, 403)
    assert db_state() == before


# --- Change role ----------------------------------------------------------------------------


def test_member_can_be_promoted_to_admin(client_for, team):
    response = client_for(team.owner).patch(
        member_url(team.project.id, team.member.id), {"role": "admin"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == team.member.id
    assert body["role"] == "admin"
    assert role_in(team.project, team.member) == Role.ADMIN
    promoted = client_for(team.member).get(project_url(team.project.id)).json()
    assert promoted["role"] == "admin"


def test_admin_can_demote_an_admin_to_member(client_for, team):
    other_admin = MembershipFactory(project=team.project, role=Role.ADMIN).user

    response = client_for(team.admin).patch(
        member_url(team.project.id, other_admin.id), {"role": "member"}
    )

    assert response.status_code == 200, response.content
    assert role_in(team.project, other_admin) == Role.MEMBER


@pytest.mark.parametrize("role", ["owner", "boss", None])
def test_changing_to_a_role_outside_admin_member_and_viewer_is_a_400_on_role(
    client_for, team, role
):
    before = db_state()

    response = client_for(team.owner).patch(
        member_url(team.project.id, team.member.id), {"role": role}
    )

    assert_error(response, 400, attr="role")
    assert db_state() == before


@pytest.mark.parametrize("caller", ["owner", "admin"])
def test_the_owners_row_cannot_be_changed(client_for, team, caller):
    before = db_state()

    response = client_for(getattr(team, caller)).patch(
        member_url(team.project.id, team.owner.id), {"role": "admin"}
    )

    assert_error(response, 409)
    assert db_state() == before
    assert role_in(team.project, team.owner) == Role.OWNER


def test_owners_row_conflict_is_reported_before_the_body_is_looked_at(client_for, team):
    before = db_state()

    response = client_for(team.admin).patch(member_url(team.project.id, team.owner.id), {})

    assert_error(response, 409)
    assert db_state() == before


def test_member_cannot_change_roles_not_even_their_own(client_for, team):
    before = db_state()

    for user_id in [team.member.id, team.other_member.id, team.owner.id]:
        response = client_for(team.member).patch(
            member_url(team.project.id, user_id), {"role": "admin"}
        )
        assert_error(response, 403)
    assert db_state() == before


def test_put_on_a_member_row_is_a_405(client_for, team):
    before = db_state()

    response = client_for(team.owner).put(
        member_url(team.project.id, team.member.id), {"role": "admin"}
    )

    assert_error(response, 405)
    assert db_state() == before


def test_get_on_a_member_row_is_a_405(client_for, team):
    response = client_for(team.owner).get(member_url(team.project.id, team.member.id))

    assert_error(response, 405)


# --- Remove ---------------------------------------------------------------------------------


def test_member_can_remove_themselves(client_for, team):
    response = client_for(team.member).delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    assert role_in(team.project, team.member) is None


def test_admin_can_leave(client_for, team):
    response = client_for(team.admin).delete(member_url(team.project.id, team.admin.id))

    assert response.status_code == 204, response.content
    assert role_in(team.project, team.admin) is None


def test_member_cannot_remove_another_member(client_for, team):
    before = db_state()

    response = client_for(team.member).delete(member_url(team.project.id, team.other_member.id))

    assert_error(response, 403)
    assert db_state() == before


def test_admin_can_remove_a_member(client_for, team):
    response = client_for(team.admin).delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert role_in(team.project, team.member) is None
    assert client_for(team.admin).get(project_url(team.project.id)).json()["member_count"] == 3


@pytest.mark.parametrize("caller", ["owner", "admin"])
def test_the_owner_cannot_be_removed(client_for, team, caller):
    before = db_state()

    response = client_for(getattr(team, caller)).delete(member_url(team.project.id, team.owner.id))

    assert_error(response, 409)
    assert db_state() == before


def test_member_cannot_remove_the_owner(client_for, team):
    before = db_state()

    response = client_for(team.member).delete(member_url(team.project.id, team.owner.id))

    assert_error(response, 403)
    assert db_state() == before


def test_removed_members_tasks_in_the_project_become_unassigned_and_only_those(client_for, team):
    theirs_here = TaskFactory.create_batch(2, project=team.project, assignee=team.member)
    someone_elses_here = TaskFactory(project=team.project, assignee=team.other_member)
    elsewhere = MembershipFactory(user=team.member).project
    theirs_elsewhere = TaskFactory(project=elsewhere, assignee=team.member)

    response = client_for(team.owner).delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    for task in theirs_here:
        task.refresh_from_db()
        assert task.assignee_id is None
        assert task.project_id == team.project.id
    assert Task.objects.get(pk=someone_elses_here.pk).assignee_id == team.other_member.id
    assert Task.objects.get(pk=theirs_elsewhere.pk).assignee_id == team.member.id


def test_leaving_unassigns_ones_own_tasks_in_the_project(client_for, team):
    task = TaskFactory(project=team.project, assignee=team.member)

    response = client_for(team.member).delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    task.refresh_from_db()
    assert task.assignee_id is None


def test_removed_member_no_longer_sees_the_project(client_for, team):
    removed = client_for(team.member)
    client_for(team.owner).delete(member_url(team.project.id, team.member.id))

    assert_error(removed.get(project_url(team.project.id)), 404)
    assert_error(removed.get(members_url(team.project.id)), 404)
    listed = [p["id"] for p in removed.get("/api/v1/projects/").json()["results"]]
    assert team.project.id not in listed


@pytest.mark.parametrize("method", ["patch", "delete"])
@pytest.mark.parametrize("caller", ["owner", "member"])
def test_a_user_who_is_not_a_member_has_no_row_to_change(client_for, team, method, caller):
    before = db_state()

    for user_id in [team.stranger.id, 987654321]:
        response = getattr(client_for(getattr(team, caller)), method)(
            member_url(team.project.id, user_id), {"role": "admin"}
        )
        assert_error(response, 404)
    assert db_state() == before


def test_removing_a_member_twice_is_a_404_the_second_time(client_for, team):
    owner = client_for(team.owner)

    assert owner.delete(member_url(team.project.id, team.member.id)).status_code == 204
    assert_error(owner.delete(member_url(team.project.id, team.member.id)), 404)


def test_a_stranger_cannot_touch_member_rows(client_for, team):
    before = db_state()
    stranger = client_for(team.stranger)

    assert_error(stranger.get(members_url(team.project.id)), 404)
    assert_error(
        stranger.post(
            members_url(team.project.id), {"email": team.stranger.email, "role": "admin"}
        ),
        404,
    )
    assert_error(
        stranger.patch(member_url(team.project.id, team.member.id), {"role": "admin"}), 404
    )
    assert_error(stranger.delete(member_url(team.project.id, team.member.id)), 404)
    assert db_state() == before
