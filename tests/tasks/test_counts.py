"""The task list's count is exact and, while none of the caller's projects changes, is not
counted again: a repeated list request skips the count query (tasks.counts)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from tasks import counts
from tests.factories import MembershipFactory, ProjectFactory
from tests.support.tasks import make_task
from tests.support.urls import TASKS, member_url, task_url

pytestmark = pytest.mark.django_db


def listed(client, query: str = "") -> tuple[int, int]:
    """(count, queries) of one list request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{TASKS}?{query}")
    assert response.status_code == 200, response.content
    return response.json()["count"], len(queries)


def test_a_repeated_list_does_not_count_again(member, team):
    make_task(project=team.project)
    first_count, first_queries = listed(member)
    again_count, again_queries = listed(member)

    assert again_count == first_count == 1
    assert again_queries == first_queries - 1


def test_with_the_count_cache_off_every_list_counts(member, team, settings):
    settings.TASK_COUNT_CACHE = False
    make_task(project=team.project)
    first_count, first_queries = listed(member)
    again_count, again_queries = listed(member)

    assert again_count == first_count == 1
    assert again_queries == first_queries


@pytest.mark.parametrize(
    "write",
    ["api_create", "factory", "patch_status", "delete", "move_out", "move_in", "member_removed"],
)
def test_every_kind_of_write_is_counted_at_once(client_for, member, owner, team, write):
    task = make_task(project=team.project, assignee=team.member, created_by=team.member)
    other = ProjectFactory(owner=team.owner)
    MembershipFactory(project=other, user=team.member)
    outside = make_task(project=other)
    queries = ["", "status=pending", "assignee=me", f"project={team.project.id}"]
    before = {query: listed(member, query)[0] for query in queries}

    if write == "api_create":
        member.post(TASKS, {"title": "New", "project_id": team.project.id})
    elif write == "factory":
        make_task(project=team.project, assignee=team.member)
    elif write == "patch_status":
        member.patch(task_url(task.id), {"status": "completed"})
    elif write == "delete":
        member.delete(task_url(task.id))
    elif write == "move_out":
        owner.patch(task_url(task.id), {"project_id": other.id, "assignee_id": None})
    elif write == "move_in":
        owner.patch(task_url(outside.id), {"project_id": team.project.id})
    else:
        owner.delete(member_url(team.project.id, team.member.id))

    member_now = client_for(team.member)
    for query in queries:
        response = member_now.get(f"{TASKS}?{query}&page_size=100")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["results"]), (write, query, before[query])


def test_assignee_me_and_due_today_are_counted_per_caller(client_for, team):
    make_task(project=team.project, assignee=team.member)
    team.admin.timezone = "Pacific/Kiritimati"
    team.admin.save(update_fields=["timezone"])

    mine = client_for(team.member).get(f"{TASKS}?assignee=me").json()["count"]
    theirs = client_for(team.admin).get(f"{TASKS}?assignee=me").json()["count"]

    assert (mine, theirs) == (1, 0)


def test_a_cache_that_is_down_costs_a_count_not_an_error(member, team, monkeypatch):
    make_task(project=team.project)

    def down(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(counts.cache, "get_many", down)
    count, _ = listed(member)

    assert count == 1


def test_a_lost_version_never_brings_back_an_old_count(member, team):
    make_task(project=team.project)
    assert listed(member)[0] == 1
    counts.cache.delete(counts.version_key(team.project.id))  # evicted
    make_task(project=team.project)
    counts.cache.delete(counts.version_key(team.project.id))  # evicted again

    assert listed(member)[0] == 2


def test_a_new_project_never_reuses_a_count_cached_for_its_id(member, team):
    """As when the database is recreated (the test database is, run after run) while the
    cache keeps its keys: the project's id comes back, its old version must not."""
    project = ProjectFactory(owner=team.member)
    stale_version = "version-from-another-life"
    counts.cache.set(counts.version_key(project.id), stale_version)
    make_task(project=project)
    assert listed(member, f"project={project.id}")[0] == 1
    project.delete()

    reborn = ProjectFactory(owner=team.member, id=project.id)

    assert counts.cache.get(counts.version_key(reborn.id)) != stale_version
    assert listed(member, f"project={reborn.id}")[0] == 0
