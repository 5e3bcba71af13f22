"""`POST tasks/{id}/reorder/`: the manual order (API contract, Tasks, "Reorder.")."""

import json
from functools import partial

import pytest
from fractional_indexing import generate_n_keys_between
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench import keys
from core.numbers import MAX_BIGINT
from projects.models import Activity, Role
from tasks import ordering
from tasks.models import Task
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.events import record_sent
from tests.support.urls import TASKS, task_url


def reorder_url(task_id) -> str:
    return f"{task_url(task_id)}reorder/"


def tasks_in_order(project) -> list[int]:
    return list(
        Task.objects.filter(project=project).order_by("position", "id").values_list("id", flat=True)
    )


@pytest.fixture
def three(team):
    """Three tasks of the team's project, created in order: positions a0 < a1 < a2."""
    return [
        TaskFactory(project=team.project, created_by=team.owner, position=key)
        for key in generate_n_keys_between(None, None, 3)
    ]


# --- Placing -----------------------------------------------------------------------------------


def test_before_places_the_task_right_before_the_other(client_for, team, three):
    first, second, third = three

    response = client_for(team.member).post(
        reorder_url(third.id), {"before_id": second.id}, format="json"
    )

    assert response.status_code == 200, response.content
    assert tasks_in_order(team.project) == [first.id, third.id, second.id]
    assert first.position < response.json()["position"] < second.position


def test_after_places_the_task_right_after_the_other(client_for, team, three):
    first, second, third = three

    response = client_for(team.member).post(
        reorder_url(first.id), {"after_id": second.id}, format="json"
    )

    assert response.status_code == 200, response.content
    assert tasks_in_order(team.project) == [second.id, first.id, third.id]


def test_before_the_first_and_after_the_last(client_for, team, three):
    first, second, third = three
    client = client_for(team.member)

    assert (
        client.post(reorder_url(third.id), {"before_id": first.id}, format="json").status_code
        == 200
    )
    assert tasks_in_order(team.project) == [third.id, first.id, second.id]
    assert (
        client.post(reorder_url(third.id), {"after_id": second.id}, format="json").status_code
        == 200
    )
    assert tasks_in_order(team.project) == [first.id, second.id, third.id]


def test_only_the_reordered_tasks_position_changes(client_for, team, three):
    first, second, third = three
    before = {task.id: task.position for task in (first, second)}

    client_for(team.member).post(reorder_url(third.id), {"before_id": first.id}, format="json")

    assert {t.id: t.position for t in Task.objects.filter(pk__in=before)} == before


def test_a_reorder_in_place_still_gives_a_new_position(client_for, team, three):
    """Right after the task already before it: the order stays, the key changes."""
    first, second, _ = three

    response = client_for(team.member).post(
        reorder_url(second.id), {"after_id": first.id}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["position"] != second.position
    assert first.position < response.json()["position"] < three[2].position


def test_the_answer_is_the_task_as_read_with_its_etag(client_for, team, three):
    client = client_for(team.member)

    response = client.post(reorder_url(three[0].id), {"after_id": three[2].id}, format="json")

    read = client.get(task_url(three[0].id))
    assert response.content == read.content
    assert response["ETag"] == read["ETag"]


def test_a_new_task_goes_after_a_reordered_last_task(client_for, team, three):
    client = client_for(team.member)
    client.post(reorder_url(three[0].id), {"after_id": three[2].id}, format="json")

    created = client.post(TASKS, {"title": "New", "project_id": team.project.id}, format="json")

    assert tasks_in_order(team.project)[-1] == created.json()["id"]


# --- Events and activity -----------------------------------------------------------------------


def test_it_sends_task_updated_with_position_and_records_no_activity(
    settings, django_capture_on_commit_callbacks, client_for, team, three
):
    sent = record_sent(settings)
    entries = Activity.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.member).post(
            reorder_url(three[2].id), {"before_id": three[0].id}, format="json"
        )

    assert response.status_code == 200
    messages = [json.loads(message["text"]) for batch in sent for _, message in batch]
    updated = [m for m in messages if m["type"] == "task.updated"]
    assert {m["data"]["id"] for m in updated} == {three[2].id}
    assert updated[0]["data"]["changes"] == ["position"]
    assert updated[0]["data"]["position"] == response.json()["position"]
    assert Activity.objects.count() == entries


def test_a_refused_reorder_sends_nothing(
    settings, django_capture_on_commit_callbacks, client_for, team, three
):
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.member).post(
            reorder_url(three[2].id), {"before_id": three[2].id}, format="json"
        )

    assert response.status_code == 400
    assert sent == []


# --- Statuses, in the contract's order ---------------------------------------------------------


def test_without_a_token_it_is_a_401(client, three):
    response = client.post(reorder_url(three[0].id), {"before_id": 0}, format="json")
    assert_error(response, 401)


def test_a_stranger_gets_a_404_before_any_body_check(client_for, team, three):
    response = client_for(team.stranger).post(reorder_url(three[0].id), {}, format="json")
    assert_error(response, 404)


def test_a_missing_task_is_a_404(client_for, team):
    response = client_for(team.member).post(reorder_url(10**12), {}, format="json")
    assert_error(response, 404)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER])
def test_whoever_may_update_the_task_may_reorder_it(client_for, team, three, role):
    """Reorder answers as PATCH does for every role (a viewer's 403 included)."""
    user = (
        team.owner
        if role == Role.OWNER
        else MembershipFactory(project=team.project, role=role).user
    )
    client = client_for(user)

    patch = client.patch(task_url(three[0].id), {"title": "Same rights"}, format="json")
    response = client.post(reorder_url(three[0].id), {"after_id": three[1].id}, format="json")

    assert response.status_code == (200 if patch.status_code == 200 else patch.status_code)
    if response.status_code == 403:
        assert_error(response, 403)


def test_a_move_right_is_not_needed_to_reorder(client_for, team, three):
    """A plain member who did not create the task may reorder it, whatever else the body has."""
    response = client_for(team.member).post(
        reorder_url(three[0].id),
        {"after_id": three[1].id, "project_id": ProjectFactory().id},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_a_stale_if_match_is_a_412_before_the_body(client_for, team, three):
    client = client_for(team.member)
    etag = client.get(task_url(three[0].id))["ETag"]
    client.patch(task_url(three[0].id), {"title": "Changed"}, format="json")

    response = client.post(reorder_url(three[0].id), {}, format="json", HTTP_IF_MATCH=etag)

    assert_error(response, 412)
    assert Task.objects.get(pk=three[0].id).position == three[0].position


def test_a_current_if_match_is_accepted(client_for, team, three):
    client = client_for(team.member)
    etag = client.get(task_url(three[0].id))["ETag"]

    response = client.post(
        reorder_url(three[0].id), {"after_id": three[2].id}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert response["ETag"] != etag  # the position is part of the representation


@pytest.mark.parametrize(
    "body",
    [{}, {"before_id": None, "after_id": None}, "both"],
    ids=["neither", "nulls", "both"],
)
def test_neither_or_both_is_a_400_on_before_id(client_for, team, three, body):
    if body == "both":
        body = {"before_id": three[1].id, "after_id": three[2].id}
    response = client_for(team.member).post(reorder_url(three[0].id), body, format="json")
    assert_error(response, 400, attr="before_id")


@pytest.mark.parametrize("field", ["before_id", "after_id"])
def test_another_projects_a_missing_task_and_itself_get_the_same_400(
    client_for, team, three, field
):
    elsewhere = TaskFactory(project=MembershipFactory(user=team.member).project)
    client = client_for(team.member)
    details = set()
    for other in (elsewhere.id, 10**12, three[0].id, 0, -3, MAX_BIGINT + 1):
        response = client.post(reorder_url(three[0].id), {field: other}, format="json")
        [error] = assert_error(response, 400, attr=field)
        details.add((error["code"], error["detail"]))
    assert len(details) == 1, details
    assert Task.objects.get(pk=three[0].id).position == three[0].position


@pytest.mark.parametrize("value", ["x", 1.5, True, [1], {"id": 1}, "9" * 5000])
def test_a_non_integer_id_is_a_400_on_its_field(client_for, team, three, value):
    response = client_for(team.member).post(
        reorder_url(three[0].id), {"after_id": value}, format="json"
    )
    assert_error(response, 400, attr="after_id")


def test_a_body_that_is_not_an_object_is_a_400(client_for, team, three):
    response = client_for(team.member).post(reorder_url(three[0].id), [1], format="json")
    assert response.status_code == 400


# --- Long keys: respacing ----------------------------------------------------------------------


def test_a_key_too_long_respaces_the_project_in_order(team, three, monkeypatch):
    """When the chosen key would pass the threshold every task gets a short, evenly spaced key,
    in the new order."""
    from tasks.services import task_reorder  # noqa: PLC0415

    monkeypatch.setattr(ordering, "REBALANCE_LENGTH", 2)
    first, second, third = three
    task_reorder(task=third, actor=team.owner, before_id=second.id)

    assert tasks_in_order(team.project) == [first.id, third.id, second.id]
    assert list(Task.objects.order_by("position").values_list("position", flat=True)) == [
        "a0",
        "a1",
        "a2",
    ]


@pytest.mark.parametrize("alternate", [False, True])
def test_the_same_gap_split_again_and_again_respaces_at_most_once_per_thousand(alternate):
    """The worst case for key growth: every reorder into the same gap. Keys start as a
    respacing leaves them; more than a thousand reorders stay under the threshold."""
    assert keys.same_gap_reorders(alternate=alternate) > 1000


# --- Any sequence of reorders ------------------------------------------------------------------


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans()), min_size=1, max_size=25
    )
)
def test_any_sequence_of_reorders_keeps_a_strict_order(team, monkeypatch, moves):
    """Positions stay distinct and their order is the list order the moves make, respacings
    included (a tiny threshold makes them happen)."""
    from tasks.services import task_reorder  # noqa: PLC0415

    monkeypatch.setattr(ordering, "REBALANCE_LENGTH", 4)
    project = ProjectFactory(owner=team.owner)
    tasks = [
        TaskFactory(project=project, created_by=team.owner, position=key)
        for key in generate_n_keys_between(None, None, 6)
    ]
    expected = [task.id for task in tasks]
    for mover, other, before in moves:
        if mover == other:
            continue
        task = Task.objects.get(pk=tasks[mover].id)
        target = tasks[other].id
        if before:
            task_reorder(task=task, actor=team.owner, before_id=target)
        else:
            task_reorder(task=task, actor=team.owner, after_id=target)
        expected.remove(task.id)
        expected.insert(expected.index(target) + (0 if before else 1), task.id)
        positions = list(Task.objects.filter(project=project).values_list("position", flat=True))
        assert len(set(positions)) == len(positions)
        assert tasks_in_order(project) == expected


def test_ten_thousand_random_reorders_keep_keys_short():
    """The keys' longest length after 10,000 random reorders among 200 tasks, as the service
    chooses them (bench/RESULTS.md, "Manual order keys")."""
    longest, respacings = keys.random_reorders(tasks=200, reorders=10_000)
    assert respacings == 0
    assert longest <= 12, longest


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------

PARALLEL = 20


@pytest.mark.django_db(transaction=True)
def test_parallel_reorders_in_one_project_leave_distinct_positions():
    require_postgresql()
    project = ProjectFactory()
    clients = [logged_in(project.owner, raise_request_exception=False) for _ in range(PARALLEL)]
    for round_ in range(3):
        Task.objects.filter(project=project).delete()
        tasks = [
            TaskFactory(project=project, created_by=project.owner, position=key)
            for key in generate_n_keys_between(None, None, PARALLEL + 1)
        ]
        target = tasks[0].id  # everyone wants the same gap: right after the first task
        calls = [
            partial(client.post, reorder_url(task.id), {"after_id": target}, format="json")
            for client, task in zip(clients, tasks[1:], strict=True)
        ]

        responses = run_together(calls)

        assert [r.status_code for r in responses] == [200] * PARALLEL, round_
        positions = list(Task.objects.filter(project=project).values_list("position", flat=True))
        assert len(set(positions)) == len(positions), (round_, sorted(positions))


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_in_one_project_leave_distinct_positions():
    require_postgresql()
    project = ProjectFactory()
    members = [MembershipFactory(project=project).user for _ in range(4)]
    clients = [logged_in(members[i % 4], raise_request_exception=False) for i in range(PARALLEL)]
    for round_ in range(3):
        calls = [
            partial(client.post, TASKS, {"title": f"T{i}", "project_id": project.id}, format="json")
            for i, client in enumerate(clients)
        ]

        responses = run_together(calls)

        assert [r.status_code for r in responses] == [201] * PARALLEL, round_
        positions = list(Task.objects.filter(project=project).values_list("position", flat=True))
        assert len(set(positions)) == len(positions), (round_, sorted(positions))


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_and_reorders_to_the_end_leave_distinct_positions():
    require_postgresql()
    project = ProjectFactory()
    owner = logged_in(project.owner, raise_request_exception=False)
    tasks = [
        TaskFactory(project=project, created_by=project.owner, position=key)
        for key in generate_n_keys_between(None, None, 11)
    ]
    last = tasks[-1].id
    calls = []
    for index, task in enumerate(tasks[:10]):
        client = logged_in(project.owner, raise_request_exception=False)
        calls.append(partial(client.post, reorder_url(task.id), {"after_id": last}, format="json"))
        calls.append(
            partial(
                owner.post
                if index == 0
                else logged_in(project.owner, raise_request_exception=False).post,
                TASKS,
                {"title": "New", "project_id": project.id},
                format="json",
            )
        )

    responses = run_together(calls)

    assert sorted({r.status_code for r in responses}) == [200, 201]
    positions = list(Task.objects.filter(project=project).values_list("position", flat=True))
    assert len(set(positions)) == len(positions), sorted(positions)


def test_a_respacing_announces_every_task_whose_position_changed(
    settings, django_capture_on_commit_callbacks, client_for, team, three, monkeypatch
):
    monkeypatch.setattr(ordering, "REBALANCE_LENGTH", 2)
    sent = record_sent(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.member).post(
            reorder_url(three[2].id), {"before_id": three[1].id}, format="json"
        )

    assert response.status_code == 200
    messages = [json.loads(message["text"]) for batch in sent for _, message in batch]
    updated = {m["data"]["id"]: m["data"] for m in messages if m["type"] == "task.updated"}
    current = dict(Task.objects.filter(project=team.project).values_list("id", "position"))
    changed = {t.id for t in three if current[t.id] != t.position}
    assert set(updated) == changed and three[2].id in changed
    assert all(data["changes"] == ["position"] for data in updated.values())
    assert all(data["position"] == current[task_id] for task_id, data in updated.items())


# --- Statements --------------------------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.mark.django_db(transaction=True)
def test_a_reorder_costs_a_fixed_number_of_statements(client_for, team):
    """The caller; the task with the caller's role; the project locked; its last position (read
    after the lock); the task locked; the neighbour; the task next to it; the UPDATE; the
    project's webhooks. Whatever the project holds (no respacing)."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    tasks = [
        TaskFactory(project=team.project, created_by=team.owner, position=key)
        for key in generate_n_keys_between(None, None, 30)
    ]
    client = client_for(team.member)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reorder_url(tasks[0].id), {"after_id": tasks[15].id}, format="json")

    assert response.status_code == 200
    sql = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)
    ]
    most = 9 if connection.vendor == "postgresql" else 10
    assert len(sql) <= most, "\n".join(sql)


def test_keys_not_of_the_schemes_form_are_respaced_not_a_500(client_for, team):
    """Positions written by hand (an operator's SQL) that the key scheme cannot place between:
    the project is respaced in its current order instead."""
    tasks = [
        TaskFactory(project=team.project, created_by=team.owner, position=key)
        for key in ["a100", "a200", "a300"]
    ]

    response = client_for(team.member).post(
        reorder_url(tasks[2].id), {"before_id": tasks[1].id}, format="json"
    )

    assert response.status_code == 200, response.content
    assert tasks_in_order(team.project) == [tasks[0].id, tasks[2].id, tasks[1].id]
    assert response.json()["position"] == "a1"


def test_a_viewer_gets_a_403_before_the_if_match_and_nothing_changes(client_for, team, three):
    viewer = MembershipFactory(project=team.project, role=Role.VIEWER).user

    response = client_for(viewer).post(
        reorder_url(three[0].id), {}, format="json", HTTP_IF_MATCH='"stale"'
    )

    assert_error(response, 403)
    assert Task.objects.get(pk=three[0].id).position == three[0].position


def test_a_member_made_a_viewer_meanwhile_is_refused_under_the_lock(team, three):
    """The view saw a member; the write, under the project's lock, sees a viewer."""
    from core.exceptions import PermissionDenied  # noqa: PLC0415
    from projects.models import Membership  # noqa: PLC0415
    from tasks.services import task_reorder  # noqa: PLC0415

    Membership.objects.filter(project=team.project, user=team.member).update(role=Role.VIEWER)

    with pytest.raises(PermissionDenied):
        task_reorder(task=three[0], actor=team.member, after_id=three[1].id)
    assert Task.objects.get(pk=three[0].id).position == three[0].position
