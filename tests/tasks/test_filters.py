"""`GET tasks/` filters, one by one, combined, and against a pure-Python model of them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from projects.models import Project, Role
from tasks.filters import TaskFilterSet
from tasks.models import Status, Task
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.support.envelope import assert_error
from tests.support.tasks import TODAY_UTC, list_all_ids, make_task
from tests.support.urls import TASKS, task_url

pytestmark = pytest.mark.django_db

YESTERDAY = TODAY_UTC - timedelta(days=1)
TOMORROW = TODAY_UTC + timedelta(days=1)


@pytest.fixture
def client(frozen, client_for, team):
    """The plain member's client, with the clock frozen at NOW (10 March 2026, 11:00 UTC)."""
    return client_for(team.member)


def ids(*tasks: Task) -> set[int]:
    return {task.id for task in tasks}


def listed(client, query: str) -> set[int]:
    found = list_all_ids(client, query)
    assert len(found) == len(set(found)), "a task was listed twice"
    return set(found)


# --- project ----------------------------------------------------------------------------


def test_project_filter_lists_only_that_projects_tasks(client, team):
    launch = make_task(project=team.project)
    inbox = Project.objects.get(owner=team.member, is_inbox=True)
    mine = make_task(project=inbox, created_by=team.member)

    assert listed(client, f"project={team.project.id}") == ids(launch)
    assert listed(client, f"project={inbox.id}") == ids(mine)
    assert listed(client, "") == ids(launch, mine)


def test_project_filter_on_a_foreign_project_lists_nothing(client, team):
    make_task(project=team.project)
    foreign = ProjectFactory()
    make_task(project=foreign)

    assert listed(client, f"project={foreign.id}") == set()
    assert listed(client, "project=999999999") == set()


# --- status -----------------------------------------------------------------------------


@pytest.fixture
def by_status(team) -> dict[str, Task]:
    return {status: make_task(project=team.project, status=status) for status in Status.values}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"pending"}),
        ("status=in-progress", {"in-progress"}),
        ("status=completed", {"completed"}),
        ("status=pending,in-progress", {"pending", "in-progress"}),
        ("status=completed,pending", {"completed", "pending"}),
        ("status=pending,in-progress,completed", {"pending", "in-progress", "completed"}),
        ("status=pending,%20completed", {"pending", "completed"}),
    ],
)
def test_status_filter_takes_one_status_or_a_comma_list(client, by_status, query, expected):
    assert listed(client, query) == {by_status[s].id for s in expected}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending&status=completed", {"pending", "completed"}),
        ("status=pending,in-progress&status=completed", {"pending", "in-progress", "completed"}),
        ("status=pending&status=pending", {"pending"}),
    ],
)
def test_status_given_several_times_combines_like_its_comma_form(
    client, by_status, query, expected
):
    assert listed(client, query) == {by_status[s].id for s in expected}


def test_an_unknown_status_among_repeated_ones_is_a_400_on_status(client, by_status):
    assert_error(client.get(f"{TASKS}?status=pending&status=done"), 400, attr="status")


@pytest.mark.parametrize(
    "query",
    [
        "project=1&project=1",
        "due=today&due=overdue",
        "due_after=2026-01-01&due_after=2026-01-02",
        "due_before=2026-01-01&due_before=2026-01-01",
        "assignee=me&assignee=none",
        "search=a&search=b",
        "ordering=title&ordering=title",
        "page=1&page=1",
        "page_size=5&page_size=10",
    ],
)
def test_any_other_parameter_given_twice_is_a_400_naming_it(client, team, query):
    parameter = query.split("=")[0]

    assert_error(client.get(f"{TASKS}?{query}"), 400, attr=parameter)


def test_page_given_twice_is_a_400_on_every_list(client, team):
    for url in ["/api/v1/projects/", f"/api/v1/projects/{team.project.pk}/members/"]:
        assert_error(client.get(f"{url}?page=1&page=2"), 400, attr="page")


# --- due buckets and the caller's today -----------------------------------------------------


@pytest.fixture
def by_due(team) -> dict[str, Task]:
    """Tasks due around 10 March 2026 (UTC), one of them completed although overdue."""
    return {
        "long ago": make_task(project=team.project, due_date=date(2026, 1, 1)),
        "yesterday": make_task(project=team.project, due_date=YESTERDAY),
        "done yesterday": make_task(
            project=team.project, due_date=YESTERDAY, status=Status.COMPLETED
        ),
        "today": make_task(project=team.project, due_date=TODAY_UTC),
        "tomorrow": make_task(project=team.project, due_date=TOMORROW),
        "next year": make_task(project=team.project, due_date=date(2027, 1, 1)),
        "no date": make_task(project=team.project),
    }


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("overdue", {"long ago", "yesterday"}),
        ("today", {"today"}),
        ("future", {"tomorrow", "next year"}),
        ("none", {"no date"}),
    ],
)
def test_due_buckets_for_a_utc_user(client, by_due, bucket, expected):
    assert listed(client, f"due={bucket}") == {by_due[name].id for name in expected}


def test_overdue_excludes_completed_tasks_and_is_overdue_agrees(client, by_due):
    overdue = listed(client, "due=overdue")
    assert by_due["done yesterday"].id not in overdue

    flags = {
        task["id"]: task["is_overdue"]
        for task in client.get(f"{TASKS}?page_size=100").json()["results"]
    }
    assert {task_id for task_id, flag in flags.items() if flag} == overdue
    assert client.get(task_url(by_due["done yesterday"].id)).json()["is_overdue"] is False
    assert client.get(task_url(by_due["yesterday"].id)).json()["is_overdue"] is True
    assert client.get(task_url(by_due["today"].id)).json()["is_overdue"] is False


@pytest.mark.parametrize(
    ("zone", "today", "yesterday"),
    [
        # At 2026-03-10T11:00Z it is already the 11th at UTC+14 and still the 9th at UTC-12.
        ("Pacific/Kiritimati", date(2026, 3, 11), date(2026, 3, 10)),
        ("Etc/GMT+12", date(2026, 3, 9), date(2026, 3, 8)),
        ("UTC", date(2026, 3, 10), date(2026, 3, 9)),
    ],
)
def test_today_is_the_date_in_the_callers_time_zone(
    frozen, client_for, team, zone, today, yesterday
):
    User.objects.filter(pk=team.member.pk).update(timezone=zone)
    client = client_for(User.objects.get(pk=team.member.pk))
    due = {
        day: make_task(project=team.project, due_date=day)
        for day in (date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11))
    }
    no_date = make_task(project=team.project)

    assert listed(client, "due=today") == {due[today].id}
    assert listed(client, "due=overdue") == {task.id for day, task in due.items() if day < today}
    assert listed(client, "due=future") == {task.id for day, task in due.items() if day > today}
    assert listed(client, "due=none") == {no_date.id}
    assert client.get(task_url(due[yesterday].id)).json()["is_overdue"] is True
    assert client.get(task_url(due[today].id)).json()["is_overdue"] is False


def test_the_same_instant_is_two_different_todays(frozen, client_for, team):
    """One task due on 10 March, seen at 11:00 UTC: overdue east of the date line, future
    west of it."""
    east = UserFactory(timezone="Pacific/Kiritimati")
    west = UserFactory(timezone="Etc/GMT+12")
    for user in (east, west):
        MembershipFactory(project=team.project, user=user)
    task = make_task(project=team.project, due_date=date(2026, 3, 10))
    east_client, west_client = client_for(east), client_for(west)

    assert listed(east_client, "due=overdue") == {task.id}
    assert listed(east_client, "due=future") == set()
    assert listed(west_client, "due=future") == {task.id}
    assert listed(west_client, "due=overdue") == set()
    assert east_client.get(task_url(task.id)).json()["is_overdue"] is True
    assert west_client.get(task_url(task.id)).json()["is_overdue"] is False


def test_buckets_follow_the_clock_across_midnight(frozen, client_for, team):
    client = client_for(team.member)
    task = make_task(project=team.project, due_date=TODAY_UTC)
    assert listed(client, "due=today") == {task.id}

    frozen.move_to(datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC))
    client = client_for(team.member)

    assert listed(client, "due=today") == set()
    assert listed(client, "due=overdue") == {task.id}


def test_an_unknown_due_bucket_lists_the_valid_ones(client, by_due):
    response = client.get(f"{TASKS}?due=yesterday")

    assert_error(response, 400, attr="due")
    assert response.json()["errors"][0]["detail"] == (
        "Unknown due bucket 'yesterday'; use overdue, today, future, none."
    )


# --- due_after / due_before -----------------------------------------------------------------


@pytest.fixture
def march(team) -> dict[int, Task]:
    tasks = {
        day: make_task(project=team.project, due_date=date(2026, 3, day)) for day in range(1, 6)
    }
    make_task(project=team.project)  # no due date: outside every range
    return tasks


@pytest.mark.parametrize(
    ("query", "days"),
    [
        ("due_after=2026-03-02&due_before=2026-03-04", {2, 3, 4}),
        ("due_after=2026-03-04", {4, 5}),
        ("due_before=2026-03-01", {1}),
        ("due_after=2026-03-03&due_before=2026-03-03", {3}),
        ("due_after=2026-03-04&due_before=2026-03-02", set()),
    ],
)
def test_due_after_and_due_before_are_inclusive(client, march, query, days):
    assert listed(client, query) == {march[day].id for day in days}


def test_an_impossible_date_bound_says_so(client, march):
    response = client.get(f"{TASKS}?due_after=2026-02-30")

    assert_error(response, 400, attr="due_after")
    assert response.json()["errors"][0]["detail"] == "2026-02-30 is not a date of the calendar."


# --- assignee --------------------------------------------------------------------------------


@pytest.fixture
def by_assignee(team) -> dict[str, Task]:
    return {
        "me": make_task(project=team.project, assignee=team.member),
        "admin": make_task(project=team.project, assignee=team.admin),
        "nobody": make_task(project=team.project),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("assignee={admin}", {"admin"}),
        ("assignee={member}", {"me"}),
        ("assignee=me", {"me"}),
        ("assignee=none", {"nobody"}),
        ("assignee={stranger}", set()),
        ("assignee=999999999", set()),
    ],
)
def test_assignee_filter_by_id_me_and_none(client, team, by_assignee, query, expected):
    query = query.format(admin=team.admin.id, member=team.member.id, stranger=team.stranger.id)

    assert listed(client, query) == {by_assignee[name].id for name in expected}


# --- search -----------------------------------------------------------------------------------


@pytest.fixture
def texts(team) -> dict[str, Task]:
    def task(title, description=""):
        return make_task(project=team.project, title=title, description=description)

    return {
        "launch": task("Write the Launch post", "Draft and review"),
        "in description": task("Misc", "remember the LAUNCH party"),
        "reversed words": task("bar and then foo"),
        "phrase": task("the foo bar meeting"),
        "percent": task("Reach 100% coverage"),
        "no percent": task("Reach 100 coverage", "or 1000 tests"),
        "underscore": task("rename user_id", "a_b"),
        "no underscore": task("rename userXid", "axb"),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("launch", {"launch", "in description"}),
        ("LAUNCH", {"launch", "in description"}),
        ("LaUnCh PoSt", {"launch"}),
        ("foo bar", {"phrase"}),
        ("bar foo", set()),
        ("100%", {"percent"}),
        ("%", {"percent"}),
        ("user_id", {"underscore"}),
        ("_", {"underscore"}),
        ("a_b", {"underscore"}),
        ("nothing like this", set()),
    ],
)
def test_search_is_one_case_insensitive_literal_substring(client, texts, term, expected):
    assert listed(client, urlencode({"search": term})) == {texts[name].id for name in expected}


def test_empty_search_lists_everything(client, texts):
    assert listed(client, "search=") == ids(*texts.values())


# --- every parameter: invalid values, unknown parameters, combinations ------------------------


# Every value the filters refuse, by parameter: each is a 400 whose error names the parameter.
MALFORMED_DATES = [
    "2026-13-01",
    "2026-02-30",
    "01/02/2026",
    "tomorrow",
    "2026-03-01T00:00",
    "2026-3-1",  # dates are written yyyy-mm-dd, in full
    "2026-03-1",
    "20260301",
    "%00",
]
INVALID_VALUES = {
    "project": ["abc", "0", "-1", "1.5", str(10**30), "%00"],
    "status": [
        "done",
        "PENDING",
        "in_progress",
        "pending,done",
        "pending;completed",
        ",",
        "%00",
        "pending%00",
    ],
    "due": ["later", "OVERDUE", "past", "%00", "overdue,today"],
    "due_after": MALFORMED_DATES,
    "due_before": [*MALFORMED_DATES, "2026-03-01%00"],
    "assignee": [
        "abc",
        "0",
        "-1",
        "1.5",
        "ME",
        "null",
        str(10**30),
        "1,2",
        "%00",
        "%EF%BC%91",
        "me%00",
    ],
    "search": ["%00", "foo%00bar"],
    "ordering": ["%00", "title%00"],
    "page": ["%00"],
    "page_size": ["%00"],
}


@pytest.mark.parametrize(
    ("parameter", "value"),
    [(parameter, value) for parameter, values in INVALID_VALUES.items() for value in values],
    ids=lambda value: value[:30],
)
def test_invalid_value_is_a_400_naming_the_parameter(client, team, parameter, value):
    make_task(project=team.project)

    assert_error(client.get(f"{TASKS}?{parameter}={value}"), 400, attr=parameter)


def test_several_invalid_parameters_are_each_named(client, team):
    errors = assert_error(client.get(f"{TASKS}?status=done&due=later&assignee=x"), 400)

    assert {error["attr"] for error in errors} >= {"status", "due", "assignee"}


def test_unknown_query_parameters_are_ignored(client, team):
    tasks = ids(make_task(project=team.project), make_task(project=team.project))

    assert listed(client, "colour=red&status_in=done&filter%00=x&limit=1") == tasks


def test_filters_combine(client, team):
    inbox = Project.objects.get(owner=team.member, is_inbox=True)
    match = make_task(
        project=team.project,
        title="Fix the login bug",
        status=Status.IN_PROGRESS,
        assignee=team.member,
        due_date=YESTERDAY,
    )
    make_task(  # another project
        project=inbox,
        title="Fix the login bug",
        status=Status.IN_PROGRESS,
        assignee=team.member,
        due_date=YESTERDAY,
        created_by=team.member,
    )
    make_task(  # another status
        project=team.project,
        title="Fix the login bug",
        status=Status.COMPLETED,
        assignee=team.member,
        due_date=YESTERDAY,
    )
    make_task(  # another assignee
        project=team.project,
        title="Fix the login bug",
        status=Status.IN_PROGRESS,
        assignee=team.admin,
        due_date=YESTERDAY,
    )
    make_task(  # another title
        project=team.project,
        title="Fix the signup bug",
        status=Status.IN_PROGRESS,
        assignee=team.member,
        due_date=YESTERDAY,
    )
    make_task(  # not overdue
        project=team.project,
        title="Fix the login bug",
        status=Status.IN_PROGRESS,
        assignee=team.member,
        due_date=TOMORROW,
    )

    query = urlencode(
        {
            "project": team.project.id,
            "status": "pending,in-progress",
            "assignee": "me",
            "search": "LOGIN",
            "due": "overdue",
            "due_after": "2026-03-01",
            "due_before": "2026-03-31",
            "ordering": "-due_date",
        }
    )
    assert listed(client, query) == {match.id}


# --- the property: the API agrees with a pure-Python filter ----------------------------------

WORDS = ["alpha", "Beta", "gamma", "50%", "a_b", "x y"]
DAYS = range(-3, 4)


@dataclass
class World:
    client: object
    me: User
    colleague: User
    projects: list[Project]


@pytest.fixture
def world(frozen, client_for) -> World:
    """Two shared projects plus the caller's Inbox; a foreign project whose tasks must never
    show. Built once per test; each Hypothesis example adds its tasks in a savepoint."""
    me = UserFactory(timezone="Pacific/Kiritimati")
    colleague = UserFactory()
    shared = [ProjectFactory(owner=colleague), ProjectFactory(owner=colleague)]
    for project in shared:
        MembershipFactory(project=project, user=me, role=Role.MEMBER)
    inbox = Project.objects.get(owner=me, is_inbox=True)
    return World(client=client_for(me), me=me, colleague=colleague, projects=[*shared, inbox])


task_specs = st.lists(
    st.fixed_dictionaries(
        {
            "project": st.integers(0, 3),  # 3: the foreign project
            "status": st.sampled_from(Status.values),
            "due": st.one_of(st.none(), st.sampled_from(DAYS)),
            "assignee": st.sampled_from(["me", "colleague", None]),
            "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
            "description": st.lists(st.sampled_from(WORDS), max_size=2).map(" ".join),
        }
    ),
    min_size=6,
    max_size=20,
)

FILTER_VALUES = {
    "project": st.integers(0, 3),
    "status": st.lists(st.sampled_from(Status.values), min_size=1, max_size=3, unique=True),
    "due": st.sampled_from(["overdue", "today", "future", "none"]),
    "due_after": st.sampled_from(DAYS),
    "due_before": st.sampled_from(DAYS),
    "assignee": st.sampled_from(["me", "none", "colleague"]),
    "search": st.sampled_from([*WORDS, "ALPHA", "a b", "%", "_", "a y", "ta g"]),
}
# A few filters at a time, so that most combinations still match something.
filter_specs = st.lists(st.sampled_from(sorted(FILTER_VALUES)), max_size=3, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: FILTER_VALUES[name] for name in names})
)
# Every single filter value too, on every example: random combinations alone rarely hit the
# one task that tells a right filter from a nearly right one.
SINGLE_FILTERS = [
    *({"project": index} for index in range(4)),
    *({"status": [status]} for status in Status.values),
    *({"due": bucket} for bucket in ("overdue", "today", "future", "none")),
    *({"assignee": value} for value in ("me", "none", "colleague")),
    *({"search": term} for term in [*WORDS, "ALPHA", "a b", "%", "_", "a y", "ta g"]),
    {"due_after": 0},
    {"due_before": 0},
]


TODAY_EAST = date(2026, 3, 11)  # NOW in Pacific/Kiritimati, the property test's caller's zone


def query_for(filters: dict, world: World, projects: list[Project]) -> dict:
    """The query string values for a generated filter combination."""
    query = {}
    for name, value in filters.items():
        if name == "project":
            query[name] = projects[value].id
        elif name == "status":
            query[name] = ",".join(value)
        elif name in ("due_after", "due_before"):
            query[name] = (TODAY_EAST + timedelta(days=value)).isoformat()
        elif name == "assignee":
            query[name] = world.colleague.id if value == "colleague" else value
        else:
            query[name] = value
    return query


def expected_match(task: Task, query: dict, world: World) -> bool:
    """The contract's filters, written out in plain Python."""
    due, today = task.due_date, TODAY_EAST
    bucket = query.get("due")
    assignee = query.get("assignee")
    search = query.get("search", "").lower()
    checks = [
        "project" not in query or task.project_id == query["project"],
        "status" not in query or task.status in query["status"].split(","),
        bucket != "overdue"
        or (due is not None and due < today and task.status != Status.COMPLETED),
        bucket != "today" or due == today,
        bucket != "future" or (due is not None and due > today),
        bucket != "none" or due is None,
        "due_after" not in query or (due is not None and due.isoformat() >= query["due_after"]),
        "due_before" not in query or (due is not None and due.isoformat() <= query["due_before"]),
        assignee != "me" or task.assignee_id == world.me.id,
        assignee != "none" or task.assignee_id is None,
        not isinstance(assignee, int) or task.assignee_id == assignee,
        search in task.title.lower() or search in task.description.lower(),
    ]
    return all(checks)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=task_specs, combos=st.lists(filter_specs, min_size=1, max_size=5))
def test_list_matches_a_pure_python_filter_of_the_same_tasks(world, specs, combos):
    users = {"me": world.me, "colleague": world.colleague, None: None}

    with transaction.atomic():
        # A project the caller is not in: its tasks never match anything.
        foreign = ProjectFactory(owner=world.colleague)
        projects = [*world.projects, foreign]
        tasks = []
        for spec in specs:
            project = projects[spec["project"]]
            assignee = users[spec["assignee"]]
            if project.is_inbox and assignee == world.colleague:
                assignee = None  # only members can be assigned
            tasks.append(
                make_task(
                    project=project,
                    created_by=world.me if project.is_inbox else world.colleague,
                    status=spec["status"],
                    due_date=None if spec["due"] is None else TODAY_EAST + timedelta(spec["due"]),
                    assignee=assignee,
                    title=spec["title"],
                    description=spec["description"],
                )
            )
        visible = [task for task in tasks if task.project_id != foreign.id]

        for filters in [*SINGLE_FILTERS, *combos]:
            query = query_for(filters, world, projects)
            expected = {task.id for task in visible if expected_match(task, query, world)}

            response = world.client.get(f"{TASKS}?{urlencode({**query, 'page_size': 100})}")

            assert response.status_code == 200, response.content
            assert {task["id"] for task in response.json()["results"]} == expected, query
            assert response.json()["count"] == len(expected), query
        transaction.set_rollback(True)


def test_every_bad_parameter_is_reported_at_once(client, team):
    response = client.get(f"{TASKS}?status=done&due=soon&ordering=colour&page=0&page_size=x")

    assert response.status_code == 400
    assert sorted(error["attr"] for error in response.json()["errors"]) == [
        "due",
        "ordering",
        "page",
        "page_size",
        "status",
    ]


def test_the_filter_form_class_is_built_once_and_each_form_is_its_own():
    """django-filter would build a new form class per request (bench/README.md has what it
    cost); validation state still belongs to each request's form."""
    first = TaskFilterSet(QueryDict("status=pending"), queryset=Task.objects.none())
    second = TaskFilterSet(QueryDict("status=nonsense"), queryset=Task.objects.none())

    assert first.get_form_class() is second.get_form_class()
    assert first.form.is_valid() and not second.form.is_valid()
    assert first.form.fields["status"] is not second.form.fields["status"]
    assert "status" in second.form.errors and "status" not in first.form.errors


@pytest.mark.parametrize("name", ["status", "priority"])
@pytest.mark.parametrize("value", ["%s", "100%", "%(value)s", "%]\x19G", "50%d,pending"])
def test_a_percent_sign_in_a_listed_value_is_a_400_naming_it(client, name, value):
    """The unknown value is quoted in the error, and a `%` in it was taken for a format
    placeholder: a 500 (found by schemathesis)."""
    response = client.get(TASKS, {name: value, "ordering": "~\x11"})

    assert_error(response, 400, attr=name)
    assert repr(value.split(",")[0][:40]) in response.json()["errors"][0]["detail"]
