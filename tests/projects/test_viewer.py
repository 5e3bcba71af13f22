"""The viewer role (API.md, Projects): a viewer reads what a member reads and writes no task;
a viewer is never an assignee, and a change to viewer unassigns the member's tasks as a
removal does, in one `role_changed` entry and one `member.updated` event.

Every refused write is checked to change nothing. The role tables of each resource (projects
and members, tasks, webhooks, personal tokens) carry a viewer row too; this module holds what
those tables cannot say.
"""

import json
from functools import partial

import pytest

from core.exceptions import Invalid, PermissionDenied
from projects.models import Activity, Membership, Role, Verb
from projects.services import member_change_role
from tasks import services as task_services
from tasks.models import Task
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.admin import errors_of, form_data
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.events import record_sent
from tests.support.feeds import change, entries, summary
from tests.support.personal_tokens import READ_WRITE, token_client
from tests.support.tasks import db_state, make_task, without_ids
from tests.support.urls import (
    PROJECTS,
    TASKS,
    member_url,
    members_url,
    project_feed_url,
    project_url,
    task_feed_url,
    task_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(team):
    """A viewer of the team's project."""
    return MembershipFactory(project=team.project, role=Role.VIEWER).user


@pytest.fixture
def as_viewer(client_for, viewer):
    return client_for(viewer)


def role_of(project, user) -> str | None:
    memberships = Membership.objects.filter(project=project, user=user)
    return memberships.values_list("role", flat=True).first()


def state() -> dict:
    """Tasks, memberships and the activity feed: what a refused write must leave alone."""
    return {**db_state(), "activity": list(Activity.objects.order_by("id").values_list("id"))}


def sent_messages(batches) -> list[dict]:
    return [json.loads(message["text"]) for batch in batches for _, message in batch]


# --- Reading --------------------------------------------------------------------------------


def test_a_viewer_reads_the_project_its_members_its_tasks_and_the_feeds(as_viewer, team, viewer):
    task = make_task(project=team.project, created_by=team.member, assignee=team.member)

    project = as_viewer.get(project_url(team.project.id))
    members = as_viewer.get(members_url(team.project.id), {"page_size": 100})
    listed = as_viewer.get(TASKS, {"project": team.project.id})

    assert project.status_code == 200 and project.json()["role"] == "viewer"
    roles = {row["user"]["id"]: row["role"] for row in members.json()["results"]}
    assert roles[viewer.id] == "viewer"
    assert [row["id"] for row in listed.json()["results"]] == [task.id]
    assert as_viewer.get(task_url(task.id)).status_code == 200
    assert as_viewer.get(task_feed_url(task.id)).status_code == 200
    assert as_viewer.get(project_feed_url(team.project.id)).status_code == 200
    assert team.project.id in [row["id"] for row in as_viewer.get(PROJECTS).json()["results"]]


# --- Task writes: 403, and nothing changes --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [
        pytest.param("patch", {"title": "Changed"}, id="patch"),
        pytest.param("put", {"title": "Replaced"}, id="put"),
        pytest.param("delete", None, id="delete"),
        pytest.param("patch", {"project_id": "inbox"}, id="move-to-own-inbox"),
    ],
)
def test_a_viewer_changes_no_task_not_even_their_own(as_viewer, team, viewer, method, body):
    """A task the viewer created while a member: their old right to delete it is gone."""
    task = make_task(project=team.project, created_by=viewer, assignee=team.member)
    if body and body.get("project_id") == "inbox":
        body = {"project_id": viewer.owned_projects.get(is_inbox=True).id}
    before = state()

    response = getattr(as_viewer, method)(task_url(task.id), body, format="json")

    assert_error(response, 403)
    assert state() == before


def test_a_viewers_refusal_comes_before_the_bodys_400(as_viewer, team):
    task = make_task(project=team.project, created_by=team.member)
    before = state()

    response = as_viewer.patch(task_url(task.id), {"title": "", "status": "nope"}, format="json")

    assert_error(response, 403)
    assert state() == before


def test_a_stale_if_match_from_a_viewer_is_still_a_403(as_viewer, team):
    """Role (403) comes before the target's state (412)."""
    task = make_task(project=team.project, created_by=team.member)
    before = state()

    response = as_viewer.patch(
        task_url(task.id), {"title": "Changed"}, format="json", HTTP_IF_MATCH='"stale"'
    )

    assert_error(response, 403)
    assert state() == before


# --- Creating a task in a project where the caller is a viewer ------------------------------


def test_creating_a_task_in_a_project_where_one_is_a_viewer_is_a_403(as_viewer, team):
    before = state()

    response = as_viewer.post(TASKS, {"title": "Mine", "project_id": team.project.id})

    assert_error(response, 403)
    assert state() == before


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="no-title"),
        pytest.param({"title": "", "status": "nope"}, id="bad-fields"),
        pytest.param({"title": "X", "assignee_id": 10**6}, id="missing-assignee"),
    ],
)
def test_a_create_in_a_viewers_project_is_a_403_before_the_bodys_400(as_viewer, team, extra):
    before = state()

    response = as_viewer.post(TASKS, {"project_id": team.project.id, **extra}, format="json")

    assert_error(response, 403)
    assert state() == before


def test_the_project_id_as_a_string_is_the_same_403(as_viewer, team):
    before = state()

    response = as_viewer.post(TASKS, {"title": "Mine", "project_id": str(team.project.id)})

    assert_error(response, 403)
    assert state() == before


def test_a_viewer_still_creates_tasks_in_their_inbox_and_their_other_projects(as_viewer, viewer):
    elsewhere = MembershipFactory(user=viewer).project

    in_inbox = as_viewer.post(TASKS, {"title": "Personal"})
    in_other = as_viewer.post(TASKS, {"title": "Shared", "project_id": elsewhere.id})

    assert in_inbox.status_code == 201, in_inbox.content
    assert in_other.status_code == 201, in_other.content
    assert in_other.json()["project_id"] == elsewhere.id


def test_a_project_one_is_not_in_stays_a_400_on_project_id(as_viewer):
    foreign = ProjectFactory()
    before = state()

    response = as_viewer.post(TASKS, {"title": "Mine", "project_id": foreign.id})

    assert_error(response, 400, attr="project_id")
    assert state() == before


def test_a_create_by_a_member_made_a_viewer_after_the_check_is_refused_under_the_lock(team):
    """The view's check ran while they were a member; the write checks again under its lock."""
    Membership.objects.filter(project=team.project, user=team.member).update(role=Role.VIEWER)
    before = state()

    with pytest.raises(PermissionDenied):
        task_services.task_create(
            actor=team.member,
            data={"title": "Late", "project_id": team.project.id},
            among_actor_projects=True,
        )

    assert state() == before


# --- Moving a task into a project where the caller is a viewer ------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_moving_a_task_into_a_project_where_one_is_a_viewer_is_a_403(client_for, team, method):
    """The owner of the source may take the task out, but may not put it where they only
    read."""
    task = make_task(project=team.project, created_by=team.owner)
    target = MembershipFactory(user=team.owner, role=Role.VIEWER).project
    before = state()

    response = getattr(client_for(team.owner), method)(
        task_url(task.id), {"title": "Moved", "project_id": target.id}, format="json"
    )

    assert_error(response, 403)
    assert state() == before


def test_a_move_into_a_project_one_just_became_a_viewer_of_is_refused_under_the_lock(team):
    task = make_task(project=team.project, created_by=team.owner)
    target = MembershipFactory(user=team.owner).project
    Membership.objects.filter(project=target, user=team.owner).update(role=Role.VIEWER)
    before = state()

    with pytest.raises(PermissionDenied):
        task_services.task_edit(
            task=task,
            actor=team.owner,
            data={"project_id": target.id},
            among_actor_projects=True,
        )

    assert state() == before


# --- A viewer is never an assignee ----------------------------------------------------------


def test_assigning_a_viewer_on_create_reads_like_a_non_member(client_for, team, viewer):
    client = client_for(team.member)
    before = state()

    as_viewer = client.post(
        TASKS, {"title": "X", "project_id": team.project.id, "assignee_id": viewer.id}
    )
    as_stranger = client.post(
        TASKS, {"title": "X", "project_id": team.project.id, "assignee_id": team.stranger.id}
    )

    viewer_errors = assert_error(as_viewer, 400, attr="assignee_id")
    stranger_errors = assert_error(as_stranger, 400, attr="assignee_id")
    assert [(e["code"], without_ids(e["detail"])) for e in viewer_errors] == [
        (e["code"], without_ids(e["detail"])) for e in stranger_errors
    ]
    assert state() == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_assigning_a_viewer_on_update_is_a_400_on_assignee_id(client_for, team, viewer, method):
    task = make_task(project=team.project, created_by=team.member)
    before = state()

    response = getattr(client_for(team.member), method)(
        task_url(task.id), {"title": "Assigned", "assignee_id": viewer.id}, format="json"
    )

    [error] = assert_error(response, 400, attr="assignee_id")
    assert error["code"] == "not_a_member"
    assert state() == before


def test_assigning_a_viewer_with_if_match_is_the_same_400(client_for, team, viewer):
    """The locked path (an If-Match) refuses a viewer like the one-statement path."""
    task = make_task(project=team.project, created_by=team.member)
    client = client_for(team.member)
    etag = client.get(task_url(task.id))["ETag"]
    before = state()

    response = client.patch(
        task_url(task.id), {"assignee_id": viewer.id}, format="json", HTTP_IF_MATCH=etag
    )

    assert_error(response, 400, attr="assignee_id")
    assert state() == before


def test_moving_a_task_keeps_no_assignee_who_is_a_viewer_of_the_target(client_for, team):
    task = make_task(project=team.project, created_by=team.owner, assignee=team.member)
    target = MembershipFactory(user=team.owner).project
    MembershipFactory(project=target, user=team.member, role=Role.VIEWER)
    before = state()

    response = client_for(team.owner).patch(task_url(task.id), {"project_id": target.id})

    assert_error(response, 400, attr="assignee_id")
    assert state() == before


def test_the_admin_form_refuses_a_viewer_as_assignee(admin_client, team, viewer):
    task = make_task(project=team.project, title="Draft", created_by=team.owner)
    url = f"/admin/tasks/task/{task.pk}/change/"
    data = form_data(admin_client.get(url), title="Changed", assignee=viewer.pk)

    response = admin_client.post(url, data)

    assert errors_of(response)["assignee"] == [task_services.NOT_A_MEMBER]
    task.refresh_from_db()
    assert (task.title, task.assignee_id) == ("Draft", None)


def test_a_member_made_a_viewer_after_validation_is_not_assigned(team):
    """The write checks the role again on the membership row it locks."""
    task = make_task(project=team.project, created_by=team.owner)
    Membership.objects.filter(project=team.project, user=team.member).update(role=Role.VIEWER)

    with pytest.raises(Invalid):
        task_services.task_edit(task=task, actor=team.owner, data={"assignee_id": team.member.id})

    task.refresh_from_db()
    assert task.assignee_id is None


# --- Membership: joining as a viewer, leaving, being made one -------------------------------


def test_a_member_can_be_added_as_a_viewer(client_for, team):
    newcomer = UserFactory()

    response = client_for(team.admin).post(
        members_url(team.project.id), {"email": newcomer.email, "role": "viewer"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["role"] == "viewer"
    assert role_of(team.project, newcomer) == Role.VIEWER


def test_a_viewer_may_remove_themselves_and_no_one_else(as_viewer, team, viewer):
    before = state()
    refused = as_viewer.delete(member_url(team.project.id, team.member.id))
    assert_error(refused, 403)
    assert state() == before

    response = as_viewer.delete(member_url(team.project.id, viewer.id))

    assert response.status_code == 204, response.content
    assert role_of(team.project, viewer) is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "members", {"email": "someone@example.com", "role": "member"}),
        ("patch", "own-row", {"role": "member"}),
        ("patch", "project", {"name": "Renamed"}),
    ],
)
def test_a_viewer_manages_neither_members_nor_the_project(
    as_viewer, team, viewer, method, path, body
):
    url = {
        "members": members_url(team.project.id),
        "own-row": member_url(team.project.id, viewer.id),
        "project": project_url(team.project.id),
    }[path]
    before = state()

    response = getattr(as_viewer, method)(url, body, format="json")

    assert_error(response, 403)
    assert state() == before


# --- A change to viewer unassigns the member's tasks ----------------------------------------


def test_a_change_to_viewer_unassigns_their_tasks_here_and_only_here(client_for, team):
    theirs = [
        make_task(project=team.project, created_by=team.owner, assignee=team.member)
        for _ in range(2)
    ]
    someone_elses = make_task(project=team.project, created_by=team.owner, assignee=team.admin)
    elsewhere = MembershipFactory(user=team.member).project
    theirs_elsewhere = make_task(project=elsewhere, created_by=team.member, assignee=team.member)

    response = client_for(team.admin).patch(
        member_url(team.project.id, team.member.id), {"role": "viewer"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "viewer"
    assert role_of(team.project, team.member) == Role.VIEWER
    for task in theirs:
        task.refresh_from_db()
        assert (task.assignee_id, task.project_id) == (None, team.project.id)
    assert Task.objects.get(pk=someone_elses.pk).assignee_id == team.admin.id
    assert Task.objects.get(pk=theirs_elsewhere.pk).assignee_id == team.member.id


def test_a_change_to_viewer_is_one_role_changed_entry_listing_the_unassigned_tasks(
    client_for, team
):
    owner = client_for(team.owner)
    first = owner.post(
        TASKS, {"title": "One", "project_id": team.project.id, "assignee_id": team.member.id}
    ).json()
    second = owner.post(
        TASKS, {"title": "Two", "project_id": team.project.id, "assignee_id": team.member.id}
    ).json()
    before = Activity.objects.count()

    response = owner.patch(member_url(team.project.id, team.member.id), {"role": "viewer"})

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == before + 1
    assert summary(entries(owner, project_feed_url(team.project.id))[0]) == (
        "role_changed",
        None,
        {
            "user_id": change(team.member.id, team.member.id),
            "role": change("member", "viewer"),
            "unassigned_task_ids": change(sorted([first["id"], second["id"]]), []),
        },
    )
    for task in (first, second):  # not listed one by one
        assert [entry["verb"] for entry in entries(owner, task_feed_url(task["id"]))] == ["created"]


def test_a_change_to_viewer_without_tasks_lists_an_empty_list(client_for, team):
    owner = client_for(team.owner)

    owner.patch(member_url(team.project.id, team.admin.id), {"role": "viewer"})

    assert entries(owner, project_feed_url(team.project.id))[0]["changes"] == {
        "user_id": change(team.admin.id, team.admin.id),
        "role": change("admin", "viewer"),
        "unassigned_task_ids": change([], []),
    }


def test_other_role_changes_list_no_unassigned_tasks(client_for, team, viewer):
    owner = client_for(team.owner)

    owner.patch(member_url(team.project.id, viewer.id), {"role": "member"})

    assert entries(owner, project_feed_url(team.project.id))[0]["changes"] == {
        "user_id": change(viewer.id, viewer.id),
        "role": change("viewer", "member"),
    }


def test_changing_a_viewer_to_viewer_changes_nothing(client_for, team, viewer):
    before = state()

    response = client_for(team.owner).patch(
        member_url(team.project.id, viewer.id), {"role": "viewer"}
    )

    assert response.status_code == 200, response.content
    assert state() == before


def test_a_change_to_viewer_sends_one_member_updated_with_the_same_list(
    client_for, team, settings, django_capture_on_commit_callbacks
):
    task = make_task(project=team.project, created_by=team.owner, assignee=team.member)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.owner).patch(
            member_url(team.project.id, team.member.id), {"role": "viewer"}
        )

    assert response.status_code == 200, response.content
    messages = sent_messages(sent)
    assert [message["type"] for message in messages] == ["member.updated"]  # no task.updated
    [updated] = messages
    assert updated["project_id"] == team.project.id
    assert updated["actor_id"] == team.owner.id
    assert updated["data"]["user"]["id"] == team.member.id
    assert updated["data"]["role"] == "viewer"
    assert updated["data"]["unassigned_task_ids"] == [task.id]
    entry = Activity.objects.filter(verb=Verb.ROLE_CHANGED).get()
    assert entry.changes["unassigned_task_ids"]["from"] == updated["data"]["unassigned_task_ids"]


def test_a_promotion_sends_member_updated_without_a_list(
    client_for, team, viewer, settings, django_capture_on_commit_callbacks
):
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(team.owner).patch(member_url(team.project.id, viewer.id), {"role": "admin"})

    [updated] = sent_messages(sent)
    assert updated["type"] == "member.updated"
    assert set(updated["data"]) == {"user", "role", "joined_at"}


def test_a_refused_change_to_viewer_unassigns_nothing(client_for, team):
    make_task(project=team.project, created_by=team.owner, assignee=team.other_member)
    before = state()

    response = client_for(team.member).patch(
        member_url(team.project.id, team.other_member.id), {"role": "viewer"}
    )

    assert_error(response, 403)
    assert state() == before


def test_the_owner_cannot_be_made_a_viewer(client_for, team):
    make_task(project=team.project, created_by=team.owner, assignee=team.owner)
    before = state()

    response = client_for(team.admin).patch(
        member_url(team.project.id, team.owner.id), {"role": "viewer"}
    )

    assert_error(response, 409)
    assert state() == before


def test_a_change_to_viewer_in_the_admin_goes_through_the_service(
    admin_client, admin_user, team, django_capture_on_commit_callbacks
):
    task = make_task(project=team.project, created_by=team.owner, assignee=team.member)
    membership = team.project.memberships.get(user=team.member)
    url = f"/admin/projects/membership/{membership.pk}/change/"
    data = form_data(admin_client.get(url), role=Role.VIEWER)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    assert role_of(team.project, team.member) == Role.VIEWER
    task.refresh_from_db()
    assert task.assignee_id is None
    entry = Activity.objects.get(verb=Verb.ROLE_CHANGED)
    assert entry.actor == admin_user
    assert entry.changes["unassigned_task_ids"] == change([task.id], [])


def test_the_service_unassigns_under_the_membership_lock(team):
    """The service itself (the admin and the API both call it) unassigns and records."""
    task = TaskFactory(project=team.project, assignee=team.member)
    membership = Membership.objects.get(project=team.project, user=team.member)

    member_change_role(membership=membership, role=Role.VIEWER, actor=team.owner)

    task.refresh_from_db()
    assert task.assignee_id is None
    assert Activity.objects.get(verb=Verb.ROLE_CHANGED).changes["unassigned_task_ids"] == (
        change([task.id], [])
    )


# --- Personal access tokens -----------------------------------------------------------------


def test_a_viewers_token_is_bound_by_the_role_whatever_its_scopes(team, viewer):
    task = make_task(project=team.project, created_by=viewer)
    client = token_client(viewer, scopes=READ_WRITE)
    before = state()

    refused = [
        client.post(TASKS, {"title": "X", "project_id": team.project.id}, format="json"),
        client.patch(task_url(task.id), {"title": "Changed"}, format="json"),
        client.put(task_url(task.id), {"title": "Replaced"}, format="json"),
        client.delete(task_url(task.id)),
    ]

    for response in refused:
        assert_error(response, 403)
    assert state() == before
    assert client.get(task_url(task.id)).status_code == 200
    assert client.get(TASKS).status_code == 200


# --- Races (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_assignments_racing_a_change_to_viewer_never_leave_a_viewer_assigned():
    """Each assignment either commits first, and the change to viewer unassigns and lists
    it, or waits for the change and is refused (400): never a task assigned to a viewer."""
    require_postgresql()
    for round_ in range(5):
        project = ProjectFactory()
        admin = MembershipFactory(project=project, role=Role.ADMIN).user
        demoted = MembershipFactory(project=project).user
        tasks = [TaskFactory(project=project) for _ in range(4)]
        as_owner, as_admin = logged_in(project.owner), logged_in(admin)
        calls = [
            partial(as_owner.patch, member_url(project.id, demoted.id), {"role": "viewer"}, "json"),
            *(
                partial(as_admin.patch, task_url(task.id), {"assignee_id": demoted.id}, "json")
                for task in tasks
            ),
        ]

        demotion, *assignments = run_together(calls)

        assert demotion.status_code == 200, (round_, demotion.content)
        assert {response.status_code for response in assignments} <= {200, 400}, round_
        assert not Task.objects.filter(project=project, assignee=demoted).exists(), round_
        assigned_first = sorted(
            task.id
            for task, response in zip(tasks, assignments, strict=True)
            if response.status_code == 200
        )
        entry = Activity.objects.get(project=project, verb=Verb.ROLE_CHANGED)
        assert entry.changes["unassigned_task_ids"] == change(assigned_first, []), round_
