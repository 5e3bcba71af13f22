"""Priority on `GET tasks/`: the `priority` filter and `ordering=priority`; and the manual
order, `ordering=position` (API contract, Tasks)."""

import re

import pytest

from tasks.models import Priority, Task
from tasks.schema import LIST_PARAMETERS
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory
from tests.support.envelope import assert_error
from tests.support.tasks import list_all_ids
from tests.support.urls import TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, team):
    return client_for(team.member)


@pytest.fixture
def by_priority(team):
    """Two tasks of each priority, created in an order that is neither urgency nor id."""
    created = {}
    for priority in ["medium", "urgent", "none", "high", "low"] * 2:
        task = TaskFactory(project=team.project, created_by=team.owner, priority=priority)
        created.setdefault(priority, []).append(task.id)
    return created


# --- The filter --------------------------------------------------------------------------------


def test_one_priority(client, by_priority):
    assert sorted(list_all_ids(client, "priority=high")) == by_priority["high"]


def test_a_comma_separated_list(client, by_priority):
    ids = list_all_ids(client, "priority=high,urgent")
    assert sorted(ids) == sorted(by_priority["high"] + by_priority["urgent"])


def test_given_several_times_the_values_combine(client, by_priority):
    ids = list_all_ids(client, "priority=low&priority=none,urgent")
    assert sorted(ids) == sorted(by_priority["low"] + by_priority["none"] + by_priority["urgent"])


def test_empty_is_any_priority(client, by_priority):
    assert len(list_all_ids(client, "priority=")) == 10


def test_it_combines_with_other_filters(client, team, by_priority):
    Task.objects.filter(pk=by_priority["high"][0]).update(status="in-progress")
    ids = list_all_ids(client, "priority=high&status=pending")
    assert ids == [by_priority["high"][1]]


def test_it_keeps_to_the_callers_projects(client, team, by_priority):
    TaskFactory(project=ProjectFactory(), priority="high")
    assert sorted(list_all_ids(client, "priority=high")) == by_priority["high"]


@pytest.mark.parametrize(
    "value", ["bogus", "HIGH", "high,", ",high", "high,,low", "high%00", "urgent,x", "high low"]
)
def test_an_unknown_priority_is_a_400_naming_priority(client, by_priority, value):
    assert_error(client.get(f"{TASKS}?priority={value}"), 400, attr="priority")


def test_a_bad_value_given_twice_is_a_400_naming_priority(client, by_priority):
    assert_error(client.get(f"{TASKS}?priority=high&priority=nope"), 400, attr="priority")


def test_the_count_follows_the_filter(client, by_priority):
    assert client.get(f"{TASKS}?priority=low,none").json()["count"] == 4


def test_every_value_the_schema_allows_is_accepted(client, by_priority):
    [parameter] = [p for p in LIST_PARAMETERS if p.name == "priority"]
    pattern = re.compile(parameter.type["pattern"])
    for value in ["", "none", "low,medium", ",".join(Priority.values)]:
        assert pattern.match(value), value
        assert client.get(f"{TASKS}?priority={value}").status_code == 200, value
    assert not pattern.match("bogus")


# --- Ordering by priority ----------------------------------------------------------------------

URGENCY = ["none", "low", "medium", "high", "urgent"]


def test_priority_orders_by_urgency_then_id(client, by_priority):
    expected = [task_id for priority in URGENCY for task_id in sorted(by_priority[priority])]
    assert list_all_ids(client, "ordering=priority") == expected


def test_minus_priority_lists_urgent_first_ids_still_ascending(client, by_priority):
    expected = [
        task_id for priority in reversed(URGENCY) for task_id in sorted(by_priority[priority])
    ]
    assert list_all_ids(client, "ordering=-priority") == expected


def test_priority_with_another_field(client, team, by_priority):
    Task.objects.filter(pk=by_priority["high"][1]).update(title="aaa")
    Task.objects.filter(pk=by_priority["high"][0]).update(title="zzz")
    ids = list_all_ids(client, "ordering=-priority,title")
    assert ids[2:4] == [by_priority["high"][1], by_priority["high"][0]]


def test_pages_by_priority_neither_overlap_nor_skip(client, by_priority):
    seen = []
    for page in range(1, 6):
        response = client.get(f"{TASKS}?ordering=-priority&page_size=2&page={page}")
        assert response.status_code == 200
        seen += [task["id"] for task in response.json()["results"]]
    assert seen == list_all_ids(client, "ordering=-priority")


@pytest.mark.parametrize("ordering", ["priority,priority", "priority,-priority"])
def test_priority_named_twice_is_a_400(client, by_priority, ordering):
    assert_error(client.get(f"{TASKS}?ordering={ordering}"), 400, attr="ordering")


# --- Ordering by position ----------------------------------------------------------------------


@pytest.fixture
def positioned(team):
    """Keys whose code-point order differs from a language's (digits < upper < lower case)."""
    keys = ["aa", "a0", "aZ", "Zz", "b10", "a0V"]
    return {
        key: TaskFactory(project=team.project, created_by=team.owner, position=key).id
        for key in keys
    }


def test_position_is_the_manual_order_by_code_point(client, team, positioned):
    expected = [positioned[key] for key in ["Zz", "a0", "a0V", "aZ", "aa", "b10"]]
    assert list_all_ids(client, f"project={team.project.id}&ordering=position") == expected


def test_minus_position_reverses_it(client, team, positioned):
    expected = [positioned[key] for key in ["b10", "aa", "aZ", "a0V", "a0", "Zz"]]
    assert list_all_ids(client, f"project={team.project.id}&ordering=-position") == expected


def test_pages_by_position_neither_overlap_nor_skip(client, team, positioned):
    query = f"project={team.project.id}&ordering=position"
    seen = []
    for page in range(1, 4):
        response = client.get(f"{TASKS}?{query}&page_size=2&page={page}")
        seen += [task["id"] for task in response.json()["results"]]
    assert seen == list_all_ids(client, query)


def test_position_across_projects_breaks_ties_by_id(client, team):
    other = MembershipFactory(user=team.member).project
    mine = TaskFactory(project=team.project, position="a0").id
    theirs = TaskFactory(project=other, position="a0").id
    assert list_all_ids(client, "ordering=position") == sorted([mine, theirs])


def test_new_tasks_follow_the_manual_order(client, team):
    ids = [
        client.post(TASKS, {"title": f"T{n}", "project_id": team.project.id}, format="json").json()[
            "id"
        ]
        for n in range(3)
    ]
    assert list_all_ids(client, f"project={team.project.id}&ordering=position") == ids
