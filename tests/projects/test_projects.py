from datetime import datetime

import pytest

from accounts.models import User
from projects.models import Membership, Project, Role
from tasks.models import Task
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.projects import db_state
from tests.support.urls import PROJECTS, members_url, project_url, transfer_url


def inbox_of(user) -> Project:
    return Project.objects.get(owner=user, is_inbox=True)


# --- Create ---------------------------------------------------------------------------------


def test_creator_becomes_the_owner_and_only_member(auth_client, user):
    response = auth_client.post(PROJECTS, {"name": "Launch", "description": "Go live."})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "description",
        "owner",
        "role",
        "is_inbox",
        "member_count",
        "created_at",
        "updated_at",
    }
    assert body["name"] == "Launch"
    assert body["description"] == "Go live."
    assert body["owner"] == {"id": user.id, "email": user.email, "name": user.name}
    assert body["role"] == "owner"
    assert body["member_count"] == 1
    assert body["is_inbox"] is False
    project = Project.objects.get(pk=body["id"])
    for field in ["created_at", "updated_at"]:
        assert body[field].endswith("Z")
        assert datetime.fromisoformat(body[field]) == getattr(project, field)
    assert project.owner == user
    assert list(project.memberships.values_list("user_id", "role")) == [(user.id, Role.OWNER)]


def test_create_ignores_id_owner_and_is_inbox_in_the_body(auth_client, user):
    someone_else = UserFactory()
    taken_id = inbox_of(someone_else).id

    response = auth_client.post(
        PROJECTS,
        {"name": "Mine", "id": taken_id, "owner": someone_else.id, "is_inbox": True},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != taken_id
    assert body["owner"]["id"] == user.id
    assert body["is_inbox"] is False
    assert body["role"] == "owner"
    project = Project.objects.get(pk=body["id"])
    assert project.owner == user and project.is_inbox is False
    assert inbox_of(someone_else).name == "Inbox"
    assert Project.objects.filter(owner=user, is_inbox=True).count() == 1


def test_description_is_optional_and_defaults_to_empty(auth_client):
    response = auth_client.post(PROJECTS, {"name": "Bare"})

    assert response.status_code == 201, response.content
    assert response.json()["description"] == ""


def test_name_is_stored_trimmed(auth_client):
    response = auth_client.post(PROJECTS, {"name": "  \tLaunch \n"})

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Launch"
    assert Project.objects.get(pk=response.json()["id"]).name == "Launch"


def test_name_of_200_characters_is_accepted_even_with_surrounding_spaces(auth_client):
    name = "n" * 200

    response = auth_client.post(PROJECTS, {"name": f"  {name}  "})

    assert response.status_code == 201, response.content
    assert Project.objects.get(pk=response.json()["id"]).name == name


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"name": None}, id="null"),
        pytest.param({"name": ""}, id="blank"),
        pytest.param({"name": "   \t\n "}, id="whitespace-only"),
        pytest.param({"name": "n" * 201}, id="201-characters"),
        pytest.param({"name": "Null\x00byte"}, id="nul-character"),
        pytest.param({"name": ["a list"]}, id="not-a-string"),
    ],
)
def test_invalid_name_is_a_400_on_name_and_creates_nothing(auth_client, body):
    before = db_state()

    response = auth_client.post(PROJECTS, body)

    assert_error(response, 400, attr="name")
    assert db_state() == before


def test_name_with_a_lone_surrogate_is_a_400_on_name(auth_client):
    """JSON can carry one (`\\ud800`); UTF-8, and so PostgreSQL, cannot store it."""
    before = db_state()

    response = auth_client.post(
        PROJECTS, '{"name": "Lone \\ud800 surrogate"}', content_type="application/json"
    )

    assert_error(response, 400, attr="name")
    assert db_state() == before


@pytest.mark.parametrize(
    "description",
    [
        pytest.param("d" * 10_001, id="10001-characters"),
        pytest.param("Null\x00byte", id="nul-character"),
    ],
)
def test_invalid_description_is_a_400_on_description(auth_client, description):
    before = db_state()

    response = auth_client.post(PROJECTS, {"name": "Launch", "description": description})

    assert_error(response, 400, attr="description")
    assert db_state() == before


def test_description_of_10000_characters_is_accepted(auth_client):
    response = auth_client.post(PROJECTS, {"name": "Launch", "description": "d" * 10_000})

    assert response.status_code == 201, response.content
    assert len(response.json()["description"]) == 10_000


def test_every_problem_in_the_body_gets_its_own_entry(auth_client):
    response = auth_client.post(PROJECTS, {"name": "", "description": "d" * 10_001})

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"name", "description"}


def test_body_that_is_not_json_is_a_415(auth_client):
    response = auth_client.post(PROJECTS, "name=Launch", content_type="text/plain")

    assert_error(response, 415)


def test_malformed_json_is_a_400(auth_client):
    before = db_state()

    response = auth_client.post(PROJECTS, '{"name": ', content_type="application/json")

    assert_error(response, 400)
    assert db_state() == before


def test_path_without_trailing_slash_is_a_json_404_and_creates_nothing(auth_client):
    before = db_state()

    response = auth_client.post("/api/v1/projects", {"name": "Launch"})

    assert_error(response, 404)
    assert db_state() == before


# --- Retrieve, update -----------------------------------------------------------------------


def test_member_sees_the_project_with_their_own_role(client_for, team):
    response = client_for(team.admin).get(project_url(team.project.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["role"] == "admin"
    assert body["member_count"] == 4
    assert body["owner"]["id"] == team.owner.id


def test_put_without_description_resets_it_to_empty(client_for, team):
    response = client_for(team.owner).put(project_url(team.project.id), {"name": "Relaunch"})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Relaunch"
    assert response.json()["description"] == ""
    team.project.refresh_from_db()
    assert (team.project.name, team.project.description) == ("Relaunch", "")


def test_put_without_name_is_a_400_and_changes_nothing(client_for, team):
    before = db_state()

    response = client_for(team.owner).put(
        project_url(team.project.id), {"description": "Only a description."}
    )

    assert_error(response, 400, attr="name")
    assert db_state() == before


def test_patch_changes_only_the_description_it_names(client_for, team):
    response = client_for(team.admin).patch(
        project_url(team.project.id), {"description": "New plan."}
    )

    assert response.status_code == 200, response.content
    team.project.refresh_from_db()
    assert team.project.name == "Launch"
    assert team.project.description == "New plan."


def test_patch_changes_only_the_name_it_names(client_for, team):
    response = client_for(team.owner).patch(project_url(team.project.id), {"name": " Relaunch "})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Relaunch"
    team.project.refresh_from_db()
    assert team.project.name == "Relaunch"
    assert team.project.description == "Everything for the launch."


def test_update_ignores_owner_and_is_inbox_in_the_body(client_for, team):
    response = client_for(team.admin).patch(
        project_url(team.project.id), {"owner": team.admin.id, "is_inbox": True, "name": "X"}
    )

    assert response.status_code == 200, response.content
    team.project.refresh_from_db()
    assert team.project.owner == team.owner
    assert team.project.is_inbox is False
    assert response.json()["role"] == "admin"


def test_role_is_checked_before_the_body(client_for, team):
    before = db_state()

    response = client_for(team.member).patch(project_url(team.project.id), {"name": ""})

    assert_error(response, 403)
    assert db_state() == before


def test_patch_with_an_invalid_name_changes_nothing(client_for, team):
    before = db_state()

    response = client_for(team.owner).patch(project_url(team.project.id), {"name": "  "})

    assert_error(response, 400, attr="name")
    assert db_state() == before


# --- List -----------------------------------------------------------------------------------


def test_list_shows_only_the_callers_projects_with_their_role_and_member_count(client_for):
    caller = UserFactory()
    owned = ProjectFactory(owner=caller)
    administered = MembershipFactory(user=caller, role=Role.ADMIN).project
    joined = MembershipFactory(user=caller).project
    MembershipFactory(project=joined)
    ProjectFactory()  # someone else's
    MembershipFactory()  # someone else's, with members

    response = client_for(caller).get(PROJECTS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4
    seen = {p["id"]: (p["role"], p["member_count"]) for p in body["results"]}
    assert seen == {
        inbox_of(caller).id: ("owner", 1),
        owned.id: ("owner", 1),
        administered.id: ("admin", 2),
        joined.id: ("member", 3),
    }


def test_each_caller_sees_their_own_role_and_an_uninflated_member_count(client_for, team):
    """Four members: counting over the caller's own membership join must not multiply it."""
    for caller, role in [
        (team.owner, "owner"),
        (team.admin, "admin"),
        (team.member, "member"),
    ]:
        response = client_for(caller).get(PROJECTS)
        assert response.status_code == 200, response.content
        [shared] = [p for p in response.json()["results"] if p["id"] == team.project.id]
        assert shared["role"] == role
        assert shared["member_count"] == 4


def test_member_count_of_a_three_member_project_is_three(client_for):
    project = ProjectFactory()
    MembershipFactory(project=project)
    MembershipFactory(project=project, role=Role.ADMIN)

    response = client_for(project.owner).get(PROJECTS)

    [listed] = [p for p in response.json()["results"] if p["id"] == project.id]
    assert listed["member_count"] == 3


def test_a_stranger_does_not_see_the_project_in_their_list(client_for, team):
    response = client_for(team.stranger).get(PROJECTS)

    assert [p["id"] for p in response.json()["results"]] == [inbox_of(team.stranger).id]


# --- Pagination -----------------------------------------------------------------------------


@pytest.fixture
def busy_user(db):
    """A user with 25 projects: the Inbox and 24 others."""
    user = UserFactory()
    ProjectFactory.create_batch(24, owner=user)
    return user


def test_list_pages_hold_20_by_default(client_for, busy_user):
    client = client_for(busy_user)

    first = client.get(PROJECTS).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"] is not None

    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None
    ids = [p["id"] for p in first["results"] + second["results"]]
    assert len(set(ids)) == 25


def test_page_size_is_honoured(client_for, busy_user):
    body = client_for(busy_user).get(PROJECTS, {"page_size": 7, "page": 4}).json()

    assert body["count"] == 25
    assert len(body["results"]) == 4


def test_page_size_above_100_is_clamped_to_100(client_for):
    user = UserFactory()
    ProjectFactory.create_batch(100, owner=user)
    client = client_for(user)

    response = client.get(PROJECTS, {"page_size": 500})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 101
    assert len(body["results"]) == 100
    following = client.get(body["next"])
    assert following.status_code == 200, following.content
    assert len(following.json()["results"]) == 1
    ids = {p["id"] for p in body["results"]} | {p["id"] for p in following.json()["results"]}
    assert len(ids) == 101


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "1.5", "٣"])
def test_page_size_that_is_not_a_positive_integer_is_a_400_on_page_size(auth_client, value):
    response = auth_client.get(PROJECTS, {"page_size": value})

    assert_error(response, 400, attr="page_size")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "last"])
def test_page_that_is_not_a_positive_integer_is_a_400_on_page(auth_client, value):
    response = auth_client.get(PROJECTS, {"page": value})

    assert_error(response, 400, attr="page")


def test_page_past_the_end_is_a_404(auth_client):
    """The user's only project is their Inbox: page 1 holds it, page 2 does not exist."""
    assert auth_client.get(PROJECTS, {"page": 1}).json()["count"] == 1

    response = auth_client.get(PROJECTS, {"page": 2})

    assert_error(response, 404)


def test_page_one_of_an_empty_list_is_a_200_with_no_results(client_for, db):
    """Every user has an Inbox; one whose rows were deleted behind the API's back belongs to
    no project at all: their list is empty, not a 404."""
    operator = User.objects.create_user("operator@example.com", "a-long-test-passphrase-42")
    Project.objects.filter(owner=operator).delete()
    assert not Membership.objects.filter(user=operator).exists()

    response = client_for(operator).get(PROJECTS, {"page": 1})

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert client_for(operator).get(PROJECTS).status_code == 200


def test_unknown_query_parameters_are_ignored(auth_client):
    response = auth_client.get(PROJECTS, {"colour": "blue"})

    assert response.status_code == 200, response.content


# --- Delete ---------------------------------------------------------------------------------


def test_deleting_a_project_deletes_its_tasks_and_memberships_only(client_for, team):
    doomed = TaskFactory.create_batch(3, project=team.project, assignee=team.member)
    elsewhere = TaskFactory(project=inbox_of(team.owner), assignee=team.owner)

    response = client_for(team.owner).delete(project_url(team.project.id))

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert not Project.objects.filter(pk=team.project.id).exists()
    assert not Task.objects.filter(pk__in=[task.id for task in doomed]).exists()
    assert not Membership.objects.filter(project_id=team.project.id).exists()
    assert Task.objects.filter(pk=elsewhere.id).exists()
    assert client_for(team.owner).get(project_url(team.project.id)).status_code == 404


# --- Inbox ----------------------------------------------------------------------------------


def test_inbox_is_listed_as_the_owners_inbox(auth_client, user):
    [inbox] = auth_client.get(PROJECTS).json()["results"]

    assert inbox["id"] == inbox_of(user).id
    assert inbox["is_inbox"] is True
    assert inbox["role"] == "owner"
    assert inbox["member_count"] == 1


def test_inbox_cannot_be_deleted(auth_client, user):
    TaskFactory(project=inbox_of(user))
    before = db_state()

    response = auth_client.delete(project_url(inbox_of(user).id))

    assert_error(response, 409)
    assert db_state() == before


def test_inbox_cannot_be_transferred(auth_client, user):
    other = UserFactory()
    before = db_state()

    response = auth_client.post(transfer_url(inbox_of(user).id), {"user_id": other.id})

    assert_error(response, 409)
    assert db_state() == before


def test_nobody_can_be_added_to_an_inbox(auth_client, user):
    other = UserFactory()
    before = db_state()

    response = auth_client.post(
        members_url(inbox_of(user).id), {"email": other.email, "role": "member"}
    )

    assert_error(response, 409)
    assert db_state() == before


def test_inbox_conflict_is_reported_before_the_body_is_looked_at(auth_client, user):
    before = db_state()

    response = auth_client.post(members_url(inbox_of(user).id), {})

    assert_error(response, 409)
    assert db_state() == before


def test_owner_can_rename_their_inbox(auth_client, user):
    response = auth_client.patch(project_url(inbox_of(user).id), {"name": "Personal"})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Personal"
    assert response.json()["is_inbox"] is True
    assert inbox_of(user).name == "Personal"


def test_someone_elses_inbox_does_not_exist_for_the_caller(auth_client):
    other_inbox = inbox_of(UserFactory())
    before = db_state()

    for response in [
        auth_client.get(project_url(other_inbox.id)),
        auth_client.patch(project_url(other_inbox.id), {"name": "Mine"}),
        auth_client.delete(project_url(other_inbox.id)),
    ]:
        assert_error(response, 404)
    assert db_state() == before


# --- Ids in URLs ----------------------------------------------------------------------------

HUGE_IDS = [
    "999999999999999999",  # 18 digits: fits a bigint, just does not exist
    "9223372036854775808",  # 2**63: one past PostgreSQL's bigint
    "1" * 40,
]


@pytest.mark.parametrize("project_id", HUGE_IDS)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("get", "{id}/"),
        ("patch", "{id}/"),
        ("put", "{id}/"),
        ("delete", "{id}/"),
        ("post", "{id}/transfer/"),
        ("get", "{id}/members/"),
        ("post", "{id}/members/"),
    ],
)
def test_absurd_project_ids_are_a_json_404(auth_client, method, template, project_id):
    url = PROJECTS + template.format(id=project_id)

    response = getattr(auth_client, method)(url, {"name": "X"})

    assert_error(response, 404)


@pytest.mark.parametrize("user_id", HUGE_IDS)
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_absurd_member_ids_are_a_json_404(client_for, team, method, user_id):
    url = f"{members_url(team.project.id)}{user_id}/"
    before = db_state()

    response = getattr(client_for(team.owner), method)(url, {"role": "admin"})

    assert_error(response, 404)
    assert db_state() == before


# --- Error envelope -------------------------------------------------------------------------


def test_validation_error_uses_the_envelope(auth_client):
    response = auth_client.post(PROJECTS, {"name": ""})

    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == "validation_error"
    [error] = body["errors"]
    assert error["attr"] == "name"
    assert error["code"] == "blank"
    assert error["detail"]


@pytest.mark.parametrize("body", ["[]", "null", '"a string"'])
def test_a_body_that_is_not_an_object_is_a_400_with_a_null_attr(auth_client, body):
    before = db_state()

    response = auth_client.post(PROJECTS, body, content_type="application/json")

    [error] = assert_error(response, 400)
    assert db_state() == before
    assert error["attr"] is None


def test_client_errors_use_the_envelope(client_for, api_client, team):
    cases = [
        (api_client.get(PROJECTS), 401),
        (client_for(team.member).delete(project_url(team.project.id)), 403),
        (client_for(team.stranger).get(project_url(team.project.id)), 404),
        (client_for(team.owner).post(project_url(team.project.id), {}), 405),
    ]
    for response, status in cases:
        [error] = assert_error(response, status)
        assert response.json()["type"] == "client_error"
        assert error["attr"] is None
