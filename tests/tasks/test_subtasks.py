"""Subtasks: `parent_id`, the subtask counts, the `parent` filter, and what a move or a
deletion does to a task's subtree (API.md, Tasks)."""

import json
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Activity, Role
from tasks.models import MAX_DEPTH, Label, Task
from tasks.services import NO_SUCH_PARENT
from tests.factories import MembershipFactory, ProjectFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.events import record_sent
from tests.support.feeds import change, entries, summary
from tests.support.urls import TASKS, project_feed_url, task_feed_url, task_url

pytestmark = pytest.mark.django_db


def create(client, **fields) -> dict:
    response = client.post(TASKS, fields, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def patch(client, task_id: int, **fields):
    return client.patch(task_url(task_id), fields, format="json")


def chain(client, project_id: int, length: int) -> list[dict]:
    """`length` tasks, each a subtask of the one before."""
    tasks = [create(client, title="Level 1", project_id=project_id)]
    for level in range(2, length + 1):
        tasks.append(
            create(client, title=f"Level {level}", project_id=project_id, parent_id=tasks[-1]["id"])
        )
    return tasks


def detail(client, task_id: int) -> dict:
    response = client.get(task_url(task_id))
    assert response.status_code == 200, response.content
    return response.json()


def listed(client, **params) -> dict:
    response = client.get(TASKS, params)
    assert response.status_code == 200, response.content
    return response.json()


def sent_events(sent) -> list[tuple[str, int, dict]]:
    """(type, project_id, data) of every event sent to a project's group, in order."""
    messages = [json.loads(message["text"]) for batch in sent for _, message in batch]
    return [(m["type"], m["project_id"], m["data"]) for m in messages]


def assert_parent_refused(response, detail: str | None = None) -> None:
    [error] = assert_error(response, 400, attr="parent_id")
    if detail is not None:
        assert error["detail"] == detail


# --- parent_id and the counts ---------------------------------------------------------------


def test_a_task_created_with_a_parent_is_its_subtask_and_counted_by_it(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)

    child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])
    create(
        member,
        title="Tweet",
        project_id=team.project.id,
        parent_id=parent["id"],
        status="completed",
    )

    assert child["parent_id"] == parent["id"]
    shown = detail(member, parent["id"])
    assert (shown["subtask_count"], shown["completed_subtask_count"]) == (2, 1)
    [row] = [task for task in listed(member)["results"] if task["id"] == parent["id"]]
    assert (row["subtask_count"], row["completed_subtask_count"]) == (2, 1)


def test_the_counts_are_direct_subtasks_only(member, team):
    top, middle, _ = chain(member, team.project.id, 3)

    assert detail(member, top["id"])["subtask_count"] == 1
    assert detail(member, middle["id"])["subtask_count"] == 1


def test_completing_a_subtask_changes_its_parents_counts_at_once(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])
    before = member.get(task_url(parent["id"]))["ETag"]

    assert patch(member, child["id"], status="completed").status_code == 200

    shown = member.get(task_url(parent["id"]))
    assert shown.json()["completed_subtask_count"] == 1
    assert shown["ETag"] != before


def test_completing_a_task_does_not_change_its_subtasks(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])

    assert patch(member, parent["id"], status="completed").status_code == 200

    assert detail(member, child["id"])["status"] == "pending"
    assert detail(member, parent["id"])["completed_subtask_count"] == 0


def test_parent_id_can_be_set_changed_and_cleared(member, team):
    first = create(member, title="First", project_id=team.project.id)
    second = create(member, title="Second", project_id=team.project.id)
    task = create(member, title="Task", project_id=team.project.id)

    assert patch(member, task["id"], parent_id=first["id"]).json()["parent_id"] == first["id"]
    assert patch(member, task["id"], parent_id=second["id"]).json()["parent_id"] == second["id"]
    assert detail(member, first["id"])["subtask_count"] == 0
    assert detail(member, second["id"])["subtask_count"] == 1
    assert patch(member, task["id"], parent_id=None).json()["parent_id"] is None
    assert detail(member, second["id"])["subtask_count"] == 0


def test_put_without_parent_id_makes_the_task_top_level(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])

    response = member.put(task_url(child["id"]), {"title": "Post"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["parent_id"] is None
    assert detail(member, parent["id"])["subtask_count"] == 0


def test_a_task_cannot_be_its_own_parent(member, team):
    task = create(member, title="Task", project_id=team.project.id)

    assert_parent_refused(patch(member, task["id"], parent_id=task["id"]))
    assert Task.objects.get(pk=task["id"]).parent_id is None


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_task_cannot_go_under_one_of_its_own_subtasks(member, team, depth):
    tasks = chain(member, team.project.id, 1 + depth)

    assert_parent_refused(patch(member, tasks[0]["id"], parent_id=tasks[-1]["id"]))
    assert Task.objects.get(pk=tasks[0]["id"]).parent_id is None


def test_four_levels_are_allowed_and_a_fifth_is_refused(member, team):
    tasks = chain(member, team.project.id, MAX_DEPTH)

    response = member.post(
        TASKS,
        {"title": "Too deep", "project_id": team.project.id, "parent_id": tasks[-1]["id"]},
        format="json",
    )

    assert_parent_refused(response)
    assert not Task.objects.filter(title="Too deep").exists()


def test_the_whole_subtree_counts_towards_the_depth(member, team):
    """A task with two levels under it fits under a task at depth 2 (2 + 2 = 4), not 3."""
    upper = chain(member, team.project.id, 3)
    subtree = chain(member, team.project.id, 2)

    assert_parent_refused(patch(member, subtree[0]["id"], parent_id=upper[2]["id"]))
    response = patch(member, subtree[0]["id"], parent_id=upper[1]["id"])
    assert response.status_code == 200, response.content
    assert response.json()["parent_id"] == upper[1]["id"]


def test_a_missing_a_foreign_and_an_invisible_parent_get_the_same_answer(client_for, member, team):
    mine = ProjectFactory(owner=team.member)
    in_my_other_project = Task.objects.create(
        project=mine, title="Mine", created_by=team.member, position="a0"
    )
    invisible = Task.objects.create(project=ProjectFactory(), title="Secret", position="a0")
    task = create(member, title="Task", project_id=team.project.id)

    details = set()
    for parent_id in (in_my_other_project.pk, invisible.pk, invisible.pk + 1000):
        for response in (
            patch(member, task["id"], parent_id=parent_id),
            member.post(
                TASKS,
                {"title": "New", "project_id": team.project.id, "parent_id": parent_id},
                format="json",
            ),
        ):
            [error] = assert_error(response, 400, attr="parent_id")
            details.add((error["code"], error["detail"]))
    assert details == {("does_not_exist", NO_SUCH_PARENT)}


@pytest.mark.parametrize("value", ["abc", 1.5, 0, -3, 2**63, True, [1], {"id": 1}])
def test_a_malformed_parent_id_is_a_400_on_parent_id(member, team, value):
    task = create(member, title="Task", project_id=team.project.id)

    assert_parent_refused(patch(member, task["id"], parent_id=value))
    assert_error(
        member.post(TASKS, {"title": "New", "parent_id": value}, format="json"),
        400,
        attr="parent_id",
    )


def test_a_bad_parent_is_named_beside_the_other_bad_fields(member, team):
    response = member.post(
        TASKS, {"title": "", "project_id": team.project.id, "parent_id": 10**12}, format="json"
    )

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"title", "parent_id"}


# --- Activity and events --------------------------------------------------------------------


def test_parent_id_is_recorded_and_announced(
    settings, django_capture_on_commit_callbacks, member, team
):
    parent = create(member, title="Launch", project_id=team.project.id)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])
        assert patch(member, child["id"], parent_id=None).status_code == 200

    updated, created = entries(member, task_feed_url(child["id"]))
    assert created["changes"]["parent_id"] == change(None, parent["id"])
    assert summary(updated) == ("updated", child["id"], {"parent_id": change(parent["id"], None)})
    types = [(kind, data.get("id"), data.get("changes")) for kind, _, data in sent_events(sent)]
    assert types == [
        ("task.created", child["id"], None),
        ("task.updated", child["id"], ["parent_id"]),
    ]


# --- The parent filter ----------------------------------------------------------------------


def test_the_parent_filter_lists_direct_subtasks_or_top_level_tasks(member, team):
    top, middle, bottom = chain(member, team.project.id, 3)
    alone = create(member, title="Alone", project_id=team.project.id)

    def ids(value) -> set[int]:
        return {task["id"] for task in listed(member, parent=value, page_size=100)["results"]}

    assert ids(top["id"]) == {middle["id"]}
    assert ids(middle["id"]) == {bottom["id"]}
    assert ids(bottom["id"]) == set()
    assert ids("none") == {top["id"], alone["id"]}
    assert ids("") == {top["id"], middle["id"], bottom["id"], alone["id"]}


def test_the_parent_filter_combines_with_the_others(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    done = create(
        member, title="Done", project_id=team.project.id, parent_id=parent["id"], status="completed"
    )
    create(member, title="Open", project_id=team.project.id, parent_id=parent["id"])

    results = listed(member, parent=parent["id"], status="completed")["results"]

    assert [task["id"] for task in results] == [done["id"]]


def test_the_parent_filters_count_follows_writes_at_once(member, team):
    """The list's count is cached per project version: each subtask write expires it."""
    parent = create(member, title="Launch", project_id=team.project.id)
    assert listed(member, parent=parent["id"])["count"] == 0
    assert listed(member, parent="none")["count"] == 1

    child = create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])
    assert listed(member, parent=parent["id"])["count"] == 1
    assert listed(member, parent="none")["count"] == 1

    patch(member, child["id"], parent_id=None)
    assert listed(member, parent=parent["id"])["count"] == 0
    assert listed(member, parent="none")["count"] == 2


def test_a_stranger_cannot_list_the_subtasks_of_a_task_they_cannot_see(client_for, member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    create(member, title="Post", project_id=team.project.id, parent_id=parent["id"])

    assert listed(client_for(team.stranger), parent=parent["id"])["count"] == 0


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "None", "9" * 30, "1,2", "a\x00"])
def test_an_invalid_parent_filter_is_a_400_naming_parent(member, value):
    assert_error(member.get(TASKS, {"parent": value}), 400, attr="parent")


def test_the_parent_filter_given_twice_is_a_400(member):
    assert_error(member.get(f"{TASKS}?parent=none&parent=none"), 400, attr="parent")


def test_the_parent_filter_costs_the_same_queries_for_1_and_30_subtasks(member, team):
    parent = create(member, title="Launch", project_id=team.project.id)
    create(member, title="Sub 0", project_id=team.project.id, parent_id=parent["id"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = member.get(TASKS, {"parent": parent["id"], "page_size": 50})
        assert response.status_code == 200
        return len(captured)

    with_one = queries()
    for number in range(1, 30):
        create(member, title=f"Sub {number}", project_id=team.project.id, parent_id=parent["id"])

    assert queries() == with_one
    assert listed(member, parent=parent["id"], page_size=50)["count"] == 30


# --- Moves ----------------------------------------------------------------------------------


@pytest.fixture
def target(team):
    """Another project of the team's owner, where the team's member is a member too."""
    project = ProjectFactory(owner=team.owner)
    MembershipFactory(project=project, user=team.member)
    return project


def test_a_moved_task_takes_its_subtree_each_keeping_its_parent(owner, team, target):
    top, middle, bottom = chain(owner, team.project.id, 3)
    sibling = create(owner, title="Sibling", project_id=team.project.id, parent_id=top["id"])

    response = patch(owner, top["id"], project_id=target.pk)

    assert response.status_code == 200, response.content
    moved = {
        task.pk: (task.project_id, task.parent_id)
        for task in Task.objects.filter(
            pk__in=[top["id"], middle["id"], bottom["id"], sibling["id"]]
        )
    }
    assert moved == {
        top["id"]: (target.pk, None),
        middle["id"]: (target.pk, top["id"]),
        bottom["id"]: (target.pk, middle["id"]),
        sibling["id"]: (target.pk, top["id"]),
    }
    assert response.json()["subtask_count"] == 2


def test_a_moved_subtask_whose_parent_stays_behind_becomes_top_level(owner, team, target):
    top, middle, bottom = chain(owner, team.project.id, 3)

    response = patch(owner, middle["id"], project_id=target.pk)

    assert response.status_code == 200, response.content
    assert response.json()["parent_id"] is None
    assert Task.objects.get(pk=bottom["id"]).parent_id == middle["id"]
    assert detail(owner, top["id"])["subtask_count"] == 0


def test_a_move_may_name_a_parent_in_the_target(owner, team, target):
    there = create(owner, title="There", project_id=target.pk)
    _, middle = chain(owner, team.project.id, 2)

    response = patch(owner, middle["id"], project_id=target.pk, parent_id=there["id"])

    assert response.status_code == 200, response.content
    assert response.json()["parent_id"] == there["id"]
    assert detail(owner, there["id"])["subtask_count"] == 1


def test_a_move_naming_a_parent_left_behind_is_refused_and_changes_nothing(owner, team, target):
    top, middle = chain(owner, team.project.id, 2)

    response = patch(owner, middle["id"], project_id=target.pk, parent_id=top["id"])

    assert_parent_refused(response, NO_SUCH_PARENT)
    assert Task.objects.get(pk=middle["id"]).project_id == team.project.id


def test_a_move_under_a_parent_in_the_target_keeps_the_depth_rule(owner, team, target):
    deep = chain(owner, target.pk, 3)
    subtree = chain(owner, team.project.id, 2)

    response = patch(owner, subtree[0]["id"], project_id=target.pk, parent_id=deep[-1]["id"])

    assert_parent_refused(response)
    assert set(
        Task.objects.filter(pk__in=[t["id"] for t in subtree]).values_list("project_id", flat=True)
    ) == {team.project.id}


def test_every_moved_task_is_recorded_in_both_feeds(owner, team, target):
    top, middle = chain(owner, team.project.id, 2)

    assert patch(owner, top["id"], project_id=target.pk).status_code == 200

    move = {"project_id": change(team.project.id, target.pk)}
    for feed in (project_feed_url(team.project.id), project_feed_url(target.pk)):
        updates = [summary(e) for e in entries(owner, feed) if e["verb"] == "updated"]
        assert sorted(updates, key=lambda entry: entry[1]) == [
            ("updated", top["id"], move),
            ("updated", middle["id"], move),
        ]
    [moved, _] = entries(owner, task_feed_url(middle["id"]))
    assert summary(moved) == ("updated", middle["id"], move)


def test_every_moved_task_is_announced_as_gone_and_arrived(
    settings, django_capture_on_commit_callbacks, owner, team, target
):
    top, middle, bottom = chain(owner, team.project.id, 3)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        assert patch(owner, top["id"], project_id=target.pk).status_code == 200

    announced = [(kind, project_id, data["id"]) for kind, project_id, data in sent_events(sent)]
    expected = []
    for task in (top, middle, bottom):
        expected += [
            ("task.deleted", team.project.id, task["id"]),
            ("task.created", target.pk, task["id"]),
        ]
    assert announced == expected
    arrived = {data["id"]: data for kind, _, data in sent_events(sent) if kind == "task.created"}
    assert arrived[middle["id"]]["parent_id"] == top["id"]
    assert arrived[middle["id"]]["project_id"] == target.pk


def test_every_moved_task_goes_after_every_task_of_the_target(owner, team, target):
    existing = [create(owner, title=f"There {n}", project_id=target.pk) for n in range(3)]
    top, middle, bottom = chain(owner, team.project.id, 3)

    response = patch(owner, top["id"], project_id=target.pk)

    assert response.status_code == 200, response.content
    last_there = max(Task.objects.get(pk=t["id"]).position for t in existing)
    positions = [Task.objects.get(pk=t["id"]).position for t in (top, middle, bottom)]
    assert response.json()["position"] == positions[0]
    assert all(position > last_there for position in positions)
    assert len(set(Task.objects.filter(project=target).values_list("position", flat=True))) == 6


def test_every_moved_task_loses_its_labels(owner, team, target):
    top, middle = chain(owner, team.project.id, 2)
    label = Label.objects.create(project=team.project, name="Blog")
    for task in (top, middle):
        Task.objects.get(pk=task["id"]).labels.add(label)

    response = patch(owner, top["id"], project_id=target.pk)

    assert response.status_code == 200, response.content
    assert response.json()["labels"] == []
    assert not Task.labels.through.objects.filter(task_id__in=[top["id"], middle["id"]]).exists()
    assert detail(owner, middle["id"])["label_ids"] == []


def test_moved_subtasks_keep_only_assignees_who_may_edit_the_target(
    client_for, owner, team, target
):
    viewer = MembershipFactory(project=team.project).user
    MembershipFactory(project=target, user=viewer, role=Role.VIEWER)
    top = create(owner, title="Top", project_id=team.project.id)
    kept = create(
        owner,
        title="Kept",
        project_id=team.project.id,
        parent_id=top["id"],
        assignee_id=team.member.id,
    )
    outsider = create(
        owner,
        title="Outsider",
        project_id=team.project.id,
        parent_id=top["id"],
        assignee_id=team.admin.id,
    )
    watcher = create(
        owner,
        title="Viewer",
        project_id=team.project.id,
        parent_id=top["id"],
        assignee_id=viewer.id,
    )

    assert patch(owner, top["id"], project_id=target.pk).status_code == 200

    assignees = dict(
        Task.objects.filter(pk__in=[kept["id"], outsider["id"], watcher["id"]]).values_list(
            "id", "assignee_id"
        )
    )
    assert assignees == {kept["id"]: team.member.id, outsider["id"]: None, watcher["id"]: None}
    [moved, _] = entries(owner, task_feed_url(outsider["id"]))
    assert moved["changes"] == {
        "project_id": change(team.project.id, target.pk),
        "assignee_id": change(team.admin.id, None),
    }


def test_a_refused_move_moves_no_subtask(client_for, team, target):
    """The member did not create the task: moving it needs the right to delete it (403)."""
    owner = logged_in(team.owner)
    top, middle = chain(owner, team.project.id, 2)

    response = patch(client_for(team.member), top["id"], project_id=target.pk)

    assert response.status_code == 403
    assert Task.objects.get(pk=middle["id"]).project_id == team.project.id


# --- Deletion -------------------------------------------------------------------------------


def test_deleting_a_task_deletes_records_and_announces_its_whole_subtree(
    settings, django_capture_on_commit_callbacks, owner, team
):
    top, middle, bottom = chain(owner, team.project.id, 3)
    other = create(owner, title="Other", project_id=team.project.id)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        assert owner.delete(task_url(top["id"])).status_code == 204

    gone = [top["id"], middle["id"], bottom["id"]]
    assert not Task.objects.filter(pk__in=gone).exists()
    assert Task.objects.filter(pk=other["id"]).exists()
    deleted = Activity.objects.filter(verb="deleted", project=team.project)
    assert sorted(deleted.values_list("task_id", flat=True)) == sorted(gone)
    middle_entry = deleted.get(task_id=middle["id"])
    assert middle_entry.changes["parent_id"] == change(top["id"], None)
    assert sent_events(sent) == [("task.deleted", team.project.id, {"id": i}) for i in gone]


def test_deleting_a_subtask_updates_its_parents_counts(owner, team):
    top, middle = chain(owner, team.project.id, 2)

    assert owner.delete(task_url(middle["id"])).status_code == 204

    assert detail(owner, top["id"])["subtask_count"] == 0
    assert listed(owner, parent=top["id"])["count"] == 0


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------


def request(client, task_id: int, parent_id: int):
    return partial(client.patch, task_url(task_id), {"parent_id": parent_id}, format="json")


@pytest.mark.django_db(transaction=True)
def test_two_writes_that_together_make_a_cycle_cannot_both_succeed(team):
    require_postgresql()
    clients = [logged_in(team.owner, raise_request_exception=False) for _ in range(2)]
    for round_ in range(5):
        a = create(clients[0], title=f"A{round_}", project_id=team.project.id)
        b = create(clients[0], title=f"B{round_}", project_id=team.project.id)

        responses = run_together(
            [request(clients[0], a["id"], b["id"]), request(clients[1], b["id"], a["id"])]
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 400], (round_, statuses)
        parents = dict(
            Task.objects.filter(pk__in=[a["id"], b["id"]]).values_list("id", "parent_id")
        )
        assert None in parents.values(), parents


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_never_make_a_chain_deeper_than_four(team):
    """Two chains of two: hanging one under the other's bottom (depth 4) while the other's top
    goes under a third task (depth 5 for the first's bottom): one must be refused."""
    require_postgresql()
    clients = [logged_in(team.owner, raise_request_exception=False) for _ in range(2)]
    for round_ in range(5):
        upper = chain(clients[0], team.project.id, 2)
        lower = chain(clients[0], team.project.id, 2)
        roof = create(clients[0], title=f"Roof {round_}", project_id=team.project.id)

        responses = run_together(
            [
                request(clients[0], lower[0]["id"], upper[1]["id"]),
                request(clients[1], upper[0]["id"], roof["id"]),
            ]
        )

        assert sorted(r.status_code for r in responses) == [200, 400], round_
        depth, task = 1, Task.objects.get(pk=lower[1]["id"])
        while task.parent_id is not None:
            depth, task = depth + 1, Task.objects.get(pk=task.parent_id)
        assert depth <= MAX_DEPTH


@pytest.mark.django_db(transaction=True)
def test_a_subtask_created_while_its_parent_is_deleted_never_fails(team):
    require_postgresql()
    clients = [logged_in(team.owner, raise_request_exception=False) for _ in range(2)]
    for _ in range(5):
        parent = create(clients[0], title="Parent", project_id=team.project.id)
        body = {"title": "Child", "project_id": team.project.id, "parent_id": parent["id"]}

        responses = run_together(
            [
                partial(clients[0].delete, task_url(parent["id"])),
                partial(clients[1].post, TASKS, body, format="json"),
            ]
        )

        deleted, created = (response.status_code for response in responses)
        assert deleted == 204
        assert created in (201, 400), responses[1].content
        assert not Task.objects.filter(parent_id=parent["id"]).exists()


# --- The admin ------------------------------------------------------------------------------


def test_the_admin_deletes_a_task_selected_with_its_subtask(admin_client, owner, team):
    """The subtask goes with its parent; the bulk action does not then fail on it (the older
    subtask is listed, and so deleted, after its newer parent)."""
    middle = create(owner, title="Older subtask", project_id=team.project.id)
    top = create(owner, title="Newer parent", project_id=team.project.id)
    assert patch(owner, middle["id"], parent_id=top["id"]).status_code == 200

    response = admin_client.post(
        "/admin/tasks/task/",
        {"action": "delete_selected", "_selected_action": [top["id"], middle["id"]], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Task.objects.filter(pk__in=[top["id"], middle["id"]]).exists()
    deleted = Activity.objects.filter(verb="deleted", project=team.project)
    assert sorted(deleted.values_list("task_id", flat=True)) == sorted([top["id"], middle["id"]])


# --- Costs ----------------------------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(client, method: str, url: str, body: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.content
    sql = [query["sql"] for query in queries.captured_queries]
    return len([text for text in sql if not text.startswith(TRANSACTION_CONTROL)])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_of_a_subtask_without_a_new_parent_costs_what_a_top_level_write_costs(
    member, team, method
):
    """Only a write that changes a tree pays for its checks (tests/tasks/test_write_queries.py
    pins the others)."""
    top = create(member, title="Top", project_id=team.project.id)
    sub = create(member, title="Sub", project_id=team.project.id, parent_id=top["id"])
    body_of = {
        "patch": lambda task: {"title": "Renamed"},
        "put": lambda task: {"title": "Renamed", "parent_id": task["parent_id"]},
    }[method]

    top_level = statements(member, method, task_url(top["id"]), body_of(top))
    subtask = statements(member, method, task_url(sub["id"]), body_of(sub))

    assert subtask == top_level


def test_a_viewer_cannot_set_a_parent(client_for, member, team):
    viewer = MembershipFactory(project=team.project, role=Role.VIEWER).user
    parent = create(member, title="Launch", project_id=team.project.id)
    task = create(member, title="Task", project_id=team.project.id)

    response = patch(client_for(viewer), task["id"], parent_id=parent["id"])

    assert_error(response, 403)
    assert Task.objects.get(pk=task["id"]).parent_id is None
