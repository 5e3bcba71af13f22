"""The activity feeds: what project and member writes record, feeds in general (shape, order,
pages, who may read them), and that rejected or rolled-back writes record nothing. Task
writes: tests/tasks/test_activity.py."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects import services as project_services
from projects.models import Activity, Membership, Project, Role
from tasks import services as task_services
from tasks.models import Task
from tests.factories import ProjectFactory, TaskFactory, UserFactory
from tests.support.auth import logged_in
from tests.support.envelope import assert_error
from tests.support.feeds import ENTRY_FIELDS, actor, change, create_task, entries, summary
from tests.support.urls import (
    PROJECTS,
    TASKS,
    member_url,
    members_url,
    project_feed_url,
    project_url,
    task_feed_url,
    task_url,
    transfer_url,
)

pytestmark = pytest.mark.django_db

# --- Entry shape, order, pagination ---------------------------------------------------------


def test_an_entry_has_exactly_the_contract_fields(member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)

    [entry] = entries(member, project_feed_url(team.project.id))

    assert set(entry) == ENTRY_FIELDS
    assert isinstance(entry["id"], int)
    assert entry["actor"] == actor(team.member)
    assert entry["verb"] == "created"
    assert entry["task_id"] == task["id"]
    assert entry["created_at"].endswith("Z")
    assert entries(member, task_feed_url(task["id"])) == [entry]


def test_feeds_list_entries_newest_first(member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)
    member.patch(task_url(task["id"]), {"status": "in-progress"})
    member.patch(task_url(task["id"]), {"status": "completed"})

    for url in (project_feed_url(team.project.id), task_feed_url(task["id"])):
        feed = entries(member, url)
        assert [entry["changes"].get("status", {}).get("to") for entry in feed] == [
            "completed",
            "in-progress",
            "pending",
        ]
        ids = [entry["id"] for entry in feed]
        assert ids == sorted(ids, reverse=True)
        times = [entry["created_at"] for entry in feed]
        assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("feed", ["project", "task"])
def test_feeds_are_paginated(member, team, feed):
    task = create_task(member, title="Draft", project_id=team.project.id)
    for number in range(4):
        member.patch(task_url(task["id"]), {"title": f"Draft {number}"})
    url = project_feed_url(team.project.id) if feed == "project" else task_feed_url(task["id"])
    everything = [entry["id"] for entry in entries(member, url)]

    first = member.get(url, {"page_size": 2}).json()
    second = member.get(url, {"page_size": 2, "page": 2}).json()
    third = member.get(url, {"page_size": 2, "page": 3}).json()

    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 5
    assert first["previous"] is None and first["next"] is not None
    assert third["next"] is None
    pages = [first, second, third]
    assert [entry["id"] for page in pages for entry in page["results"]] == everything
    assert_error(member.get(url, {"page_size": 2, "page": 4}), 404)
    assert member.get(url, {"page_size": 1000}).json()["count"] == 5


@pytest.mark.parametrize("feed", ["project", "task"])
@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "1.5"),
        ("page_size", "0"),
        ("page_size", "-3"),
        ("page_size", "ten"),
    ],
)
def test_feed_page_parameters_must_be_positive_integers(member, team, feed, parameter, value):
    task = create_task(member, title="Draft", project_id=team.project.id)
    url = project_feed_url(team.project.id) if feed == "project" else task_feed_url(task["id"])

    assert_error(member.get(url, {parameter: value}), 400, attr=parameter)


# --- Project verbs --------------------------------------------------------------------------


def test_project_created_records_name_and_description_from_null(client_for, user):
    client = client_for(user)

    project = client.post(PROJECTS, {"name": " Launch ", "description": "All of it."}).json()

    [entry] = entries(client, project_feed_url(project["id"]))
    assert entry["actor"] == actor(user)
    assert summary(entry) == (
        "project_created",
        None,
        {"name": change(None, "Launch"), "description": change(None, "All of it.")},
    )


def test_registration_records_the_inbox_as_project_created(api_client, db):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "new@example.com", "password": "a-long-test-passphrase-42", "name": "New"},
    )
    assert response.status_code == 201, response.content
    user = get_user_model().objects.get(email="new@example.com")
    client = logged_in(user)

    inbox = Project.objects.get(owner=user, is_inbox=True)
    [entry] = entries(client, project_feed_url(inbox.id))

    assert entry["actor"] == actor(user)
    assert summary(entry) == (
        "project_created",
        None,
        {"name": change(None, "Inbox"), "description": change(None, "")},
    )


def test_project_updated_records_only_what_really_changed(owner, team):
    response = owner.patch(
        project_url(team.project.id),
        {"name": "  Launch  ", "description": "Everything, and more."},
    )

    assert response.status_code == 200, response.content
    [entry] = entries(owner, project_feed_url(team.project.id))
    assert entry["actor"] == actor(team.owner)
    assert summary(entry) == (
        "project_updated",
        None,
        {"description": change("Everything for the launch.", "Everything, and more.")},
    )


def test_a_project_put_records_the_description_it_cleared(client_for, team):
    admin = client_for(team.admin)

    response = admin.put(project_url(team.project.id), {"name": "Relaunch"})

    assert response.status_code == 200, response.content
    assert [summary(entry) for entry in entries(admin, project_feed_url(team.project.id))] == [
        (
            "project_updated",
            None,
            {
                "name": change("Launch", "Relaunch"),
                "description": change("Everything for the launch.", ""),
            },
        )
    ]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "Launch"}, {"name": " Launch ", "description": "Everything for the launch."}],
)
def test_a_project_patch_that_changes_nothing_records_nothing(owner, team, body):
    before = Activity.objects.count()

    response = owner.patch(project_url(team.project.id), body)

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == before


def test_a_transfer_records_only_ownership_transferred(owner, team):
    before = Activity.objects.count()

    response = owner.post(transfer_url(team.project.id), {"user_id": team.member.id})

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == before + 1
    [entry] = entries(owner, project_feed_url(team.project.id))
    assert entry["actor"] == actor(team.owner)
    assert summary(entry) == (
        "ownership_transferred",
        None,
        {"owner": change(team.owner.id, team.member.id)},
    )


def test_member_added_records_user_and_role_from_null(client_for, team):
    admin = client_for(team.admin)
    newcomer = UserFactory()

    response = admin.post(
        members_url(team.project.id), {"email": newcomer.email.upper(), "role": "admin"}
    )

    assert response.status_code == 201, response.content
    [entry] = entries(admin, project_feed_url(team.project.id))
    assert entry["actor"] == actor(team.admin)
    assert summary(entry) == (
        "member_added",
        None,
        {"user_id": change(None, newcomer.id), "role": change(None, "admin")},
    )


def test_role_changed_repeats_the_user_id(owner, team):
    response = owner.patch(member_url(team.project.id, team.member.id), {"role": "admin"})

    assert response.status_code == 200, response.content
    [entry] = entries(owner, project_feed_url(team.project.id))
    assert summary(entry) == (
        "role_changed",
        None,
        {"user_id": change(team.member.id, team.member.id), "role": change("member", "admin")},
    )


def test_setting_the_same_role_records_nothing(owner, team):
    before = Activity.objects.count()

    response = owner.patch(member_url(team.project.id, team.member.id), {"role": "member"})

    assert response.status_code == 200, response.content
    assert Activity.objects.count() == before


def test_member_removed_lists_the_unassigned_tasks_in_one_entry(client_for, owner, team):
    member = client_for(team.member)
    first = create_task(owner, title="One", project_id=team.project.id, assignee_id=team.member.id)
    other = create_task(owner, title="Other", project_id=team.project.id, assignee_id=team.admin.id)
    second = create_task(
        member, title="Two", project_id=team.project.id, assignee_id=team.member.id
    )
    create_task(owner, title="Nobody's", project_id=team.project.id)
    elsewhere = create_task(member, title="Mine", assignee_id=team.member.id)  # their Inbox
    before = Activity.objects.count()

    response = owner.delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    assert Activity.objects.count() == before + 1
    latest = entries(owner, project_feed_url(team.project.id))[0]
    assert latest["actor"] == actor(team.owner)
    assert summary(latest) == (
        "member_removed",
        None,
        {
            "user_id": change(team.member.id, None),
            "role": change("member", None),
            "unassigned_task_ids": change([first["id"], second["id"]], []),
        },
    )
    assert Task.objects.get(pk=first["id"]).assignee_id is None
    assert Task.objects.get(pk=second["id"]).assignee_id is None
    assert Task.objects.get(pk=other["id"]).assignee_id == team.admin.id
    assert Task.objects.get(pk=elsewhere["id"]).assignee_id == team.member.id
    for task in (first, second):  # not listed one by one as `updated`
        assert [entry["verb"] for entry in entries(owner, task_feed_url(task["id"]))] == ["created"]


def test_member_removed_with_no_tasks_records_an_empty_list(client_for, team):
    admin = client_for(team.admin)

    response = admin.delete(member_url(team.project.id, team.other_member.id))

    assert response.status_code == 204, response.content
    assert summary(entries(admin, project_feed_url(team.project.id))[0]) == (
        "member_removed",
        None,
        {
            "user_id": change(team.other_member.id, None),
            "role": change("member", None),
            "unassigned_task_ids": change([], []),
        },
    )


def test_leaving_a_project_is_recorded_with_the_leaver_as_actor(client_for, owner, team):
    member = client_for(team.member)
    task = create_task(member, title="Mine", project_id=team.project.id, assignee_id=team.member.id)

    response = member.delete(member_url(team.project.id, team.member.id))

    assert response.status_code == 204, response.content
    latest = entries(owner, project_feed_url(team.project.id))[0]
    assert latest["actor"] == actor(team.member)
    assert summary(latest) == (
        "member_removed",
        None,
        {
            "user_id": change(team.member.id, None),
            "role": change("member", None),
            "unassigned_task_ids": change([task["id"]], []),
        },
    )
    assert_error(member.get(project_feed_url(team.project.id)), 404)


# --- Rejected and rolled-back writes record nothing -----------------------------------------


def _other_inbox(team):
    return Project.objects.get(owner=team.other_member, is_inbox=True).id


def _owner_inbox(team):
    return Project.objects.get(owner=team.owner, is_inbox=True).id


# (who, method, url, body, extra headers, status); `task` is the member's task in the project.
REJECTED = {
    "task-create-blank-title": lambda t, task: (
        "member", "post", TASKS, {"title": " ", "project_id": t.project.id}, {}, 400
    ),
    "task-create-foreign-assignee": lambda t, task: (
        "member", "post", TASKS,
        {"title": "X", "project_id": t.project.id, "assignee_id": t.stranger.id}, {}, 400,
    ),
    "task-patch-bad-status": lambda t, task: (
        "member", "patch", task_url(task.id), {"status": "done"}, {}, 400
    ),
    "task-patch-foreign-assignee": lambda t, task: (
        "member", "patch", task_url(task.id), {"assignee_id": t.stranger.id}, {}, 400
    ),
    "task-put-without-title": lambda t, task: (
        "member", "put", task_url(task.id), {"status": "completed"}, {}, 400
    ),
    "task-move-to-foreign-project": lambda t, task: (
        "member", "patch", task_url(task.id), {"project_id": _owner_inbox(t)}, {}, 400
    ),
    "project-patch-blank-name": lambda t, task: (
        "owner", "patch", project_url(t.project.id), {"name": " "}, {}, 400
    ),
    "member-add-unknown-email": lambda t, task: (
        "owner", "post", members_url(t.project.id),
        {"email": "nobody@example.com", "role": "member"}, {}, 400,
    ),
    "member-add-as-owner": lambda t, task: (
        "owner", "post", members_url(t.project.id),
        {"email": t.stranger.email, "role": "owner"}, {}, 400,
    ),
    "role-to-owner": lambda t, task: (
        "owner", "patch", member_url(t.project.id, t.member.id), {"role": "owner"}, {}, 400
    ),
    "transfer-to-stranger": lambda t, task: (
        "owner", "post", transfer_url(t.project.id), {"user_id": t.stranger.id}, {}, 400
    ),
    "task-delete-by-other-member": lambda t, task: (
        "other_member", "delete", task_url(task.id), None, {}, 403
    ),
    "task-move-by-other-member": lambda t, task: (
        "other_member", "patch", task_url(task.id), {"project_id": _other_inbox(t)}, {}, 403
    ),
    "project-patch-by-member": lambda t, task: (
        "member", "patch", project_url(t.project.id), {"name": "Mine"}, {}, 403
    ),
    "project-delete-by-admin": lambda t, task: (
        "admin", "delete", project_url(t.project.id), None, {}, 403
    ),
    "transfer-by-admin": lambda t, task: (
        "admin", "post", transfer_url(t.project.id), {"user_id": t.admin.id}, {}, 403
    ),
    "member-add-by-member": lambda t, task: (
        "member", "post", members_url(t.project.id),
        {"email": t.stranger.email, "role": "member"}, {}, 403,
    ),
    "role-change-by-member": lambda t, task: (
        "member", "patch", member_url(t.project.id, t.other_member.id), {"role": "admin"}, {},
        403,
    ),
    "member-remove-by-member": lambda t, task: (
        "member", "delete", member_url(t.project.id, t.other_member.id), None, {}, 403
    ),
    "task-patch-by-stranger": lambda t, task: (
        "stranger", "patch", task_url(task.id), {"title": "Mine"}, {}, 404
    ),
    "task-delete-by-stranger": lambda t, task: (
        "stranger", "delete", task_url(task.id), None, {}, 404
    ),
    "project-patch-by-stranger": lambda t, task: (
        "stranger", "patch", project_url(t.project.id), {"name": "Mine"}, {}, 404
    ),
    "member-add-by-stranger": lambda t, task: (
        "stranger", "post", members_url(t.project.id),
        {"email": t.stranger.email, "role": "member"}, {}, 404,
    ),
    "member-add-existing": lambda t, task: (
        "owner", "post", members_url(t.project.id),
        {"email": t.member.email, "role": "admin"}, {}, 409,
    ),
    "member-add-to-inbox": lambda t, task: (
        "owner", "post", members_url(_owner_inbox(t)),
        {"email": t.member.email, "role": "member"}, {}, 409,
    ),
    "owner-demoted": lambda t, task: (
        "admin", "patch", member_url(t.project.id, t.owner.id), {"role": "member"}, {}, 409
    ),
    "owner-removed": lambda t, task: (
        "admin", "delete", member_url(t.project.id, t.owner.id), None, {}, 409
    ),
    "inbox-deleted": lambda t, task: (
        "owner", "delete", project_url(_owner_inbox(t)), None, {}, 409
    ),
    "inbox-transferred": lambda t, task: (
        "owner", "post", transfer_url(_owner_inbox(t)), {"user_id": t.member.id}, {}, 409
    ),
    "task-patch-stale-if-match": lambda t, task: (
        "member", "patch", task_url(task.id), {"title": "Late"}, {"HTTP_IF_MATCH": '"stale"'}, 412
    ),
    "task-delete-stale-if-match": lambda t, task: (
        "member", "delete", task_url(task.id), None, {"HTTP_IF_MATCH": '"stale"'}, 412
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_a_rejected_write_records_nothing(client_for, team, case):
    task = TaskFactory(project=team.project, created_by=team.member, assignee=team.member)
    who, method, url, body, headers, status = case(team, task)
    client = client_for(getattr(team, who))
    before = list(Activity.objects.order_by("id").values_list("id", flat=True))

    response = getattr(client, method)(url, body, **headers)

    assert_error(response, status)
    assert list(Activity.objects.order_by("id").values_list("id", flat=True)) == before


ROLLED_BACK = {
    "task_create": lambda t, task: task_services.task_create(
        actor=t.member, data={"title": "Never", "project": t.project}
    ),
    "task_update": lambda t, task: task_services.task_edit(
        task=task, actor=t.member, data={"title": "Never", "status": "completed"}
    ),
    "task_move": lambda t, task: task_services.task_edit(
        task=task,
        actor=t.owner,
        # The assignee is no member of the Inbox: the service refuses to keep them.
        data={"project": Project.objects.get(owner=t.owner, is_inbox=True), "assignee": None},
    ),
    "task_delete": lambda t, task: task_services.task_delete(task=task, actor=t.member),
    "project_create": lambda t, task: project_services.project_create(owner=t.owner, name="Never"),
    "project_update": lambda t, task: project_services.project_update(
        project=t.project, actor=t.owner, data={"name": "Never"}
    ),
    "project_transfer": lambda t, task: project_services.project_transfer(
        project=t.project, new_owner=t.admin, actor=t.owner
    ),
    "member_add": lambda t, task: project_services.member_add(
        project=t.project, user=t.stranger, role=Role.MEMBER, actor=t.owner
    ),
    "member_change_role": lambda t, task: project_services.member_change_role(
        membership=Membership.objects.get(project=t.project, user=t.member),
        role=Role.ADMIN,
        actor=t.owner,
    ),
    "member_remove": lambda t, task: project_services.member_remove(
        membership=Membership.objects.get(project=t.project, user=t.member), actor=t.owner
    ),
}


@pytest.mark.parametrize("write", ROLLED_BACK.values(), ids=ROLLED_BACK.keys())
def test_a_rolled_back_write_records_nothing(team, write):
    task = TaskFactory(project=team.project, created_by=team.member, assignee=team.member)
    before = Activity.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        write(team, task)
        assert Activity.objects.count() > before  # it did record, inside the transaction
        raise RuntimeError("something failed after the write")

    assert Activity.objects.count() == before


# --- Who may read ---------------------------------------------------------------------------


def test_strangers_get_404_on_both_feeds(client_for, member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)
    stranger = client_for(team.stranger)

    assert_error(stranger.get(project_feed_url(team.project.id)), 404)
    assert_error(stranger.get(task_feed_url(task["id"])), 404)


def test_missing_project_and_task_feeds_are_404(member):
    assert_error(member.get(project_feed_url(10**9)), 404)
    assert_error(member.get(task_feed_url(10**9)), 404)


def test_every_role_may_read_both_feeds(client_for, member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)

    for user in (team.owner, team.admin, team.member, team.other_member):
        client = client_for(user)
        assert client.get(project_feed_url(team.project.id)).status_code == 200
        assert client.get(task_feed_url(task["id"])).status_code == 200


def test_feeds_need_a_token(api_client, member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)

    assert_error(api_client.get(project_feed_url(team.project.id)), 401)
    assert_error(api_client.get(task_feed_url(task["id"])), 401)


# --- Query counts ---------------------------------------------------------------------------


def _entries_by_distinct_actors(project: Project, task_id: int, count: int) -> None:
    Activity.objects.bulk_create(
        Activity(
            project=project,
            task_id=task_id,
            actor=get_user_model().objects.create_user(f"actor{project.id}-{n}@example.com"),
            verb="updated",
            changes={"title": {"from": f"T{n}", "to": f"T{n + 1}"}},
        )
        for n in range(count)
    )


def _queries_for(client, url: str, expected_count: int) -> int:
    client.get(url, {"page_size": 100})  # warm any per-process caches first
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_count
    return len(captured.captured_queries)


def test_feeds_cost_the_same_queries_for_2_or_40_entries(client_for, user):
    client = client_for(user)
    counts = {}
    for size in (2, 40):
        project = ProjectFactory(owner=user)
        task = TaskFactory(project=project)
        _entries_by_distinct_actors(project, task.id, size)
        counts[size] = (
            _queries_for(client, project_feed_url(project.id), size),
            _queries_for(client, task_feed_url(task.id), size),
        )

    assert counts[40] == counts[2]


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    operator = get_user_model().objects.create_superuser(
        "operator@example.com", "a-long-test-passphrase-42"
    )
    client = Client()
    client.force_login(operator)
    return client


def test_the_admin_lists_activity_read_only(operator, member, team):
    task = create_task(member, title="Draft", project_id=team.project.id)
    entry = Activity.objects.get(task_id=task["id"])
    before = Activity.objects.count()

    changelist = operator.get("/admin/projects/activity/")
    filtered = operator.get("/admin/projects/activity/", {"verb__exact": "created", "q": "Launch"})
    detail = operator.get(f"/admin/projects/activity/{entry.id}/change/")

    assert changelist.status_code == 200, changelist.content[:2000]
    assert filtered.status_code == 200
    assert detail.status_code == 200
    assert b"/admin/projects/activity/add/" not in changelist.content
    assert b"delete_selected" not in changelist.content
    assert operator.get("/admin/projects/activity/add/").status_code == 403
    assert operator.post("/admin/projects/activity/add/", {"verb": "created"}).status_code == 403
    change_post = operator.post(f"/admin/projects/activity/{entry.id}/change/", {"verb": "deleted"})
    assert change_post.status_code == 403
    assert operator.get(f"/admin/projects/activity/{entry.id}/delete/").status_code == 403
    assert (
        operator.post(f"/admin/projects/activity/{entry.id}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Activity.objects.count() == before
    assert Activity.objects.get(pk=entry.id).verb == "created"
