"""The task services speak the domain, not HTTP: they take the version a write expects (not an
`If-Match` string), and one `task_edit` chooses between an update and a move for every
caller (the API and the admin)."""

import inspect

import pytest

from core.exceptions import PreconditionFailed
from core.render import ExpectedVersion
from tasks import services
from tasks.models import Task
from tasks.render import task_etag
from tasks.selectors import today_for
from tests.factories import ProjectFactory
from tests.support.tasks import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(team) -> Task:
    return make_task(project=team.project, created_by=team.member, title="Original")


def current(task: Task, caller) -> ExpectedVersion:
    task = Task.objects.select_related("assignee", "created_by").get(pk=task.pk)
    return ExpectedVersion(etags=frozenset({task_etag(task, today=today_for(caller))}))


@pytest.mark.parametrize("service", [services.task_edit, services.task_delete])
def test_services_take_an_expected_version_keyword_not_a_header(service):
    parameters = inspect.signature(service).parameters
    assert "if_match" not in parameters
    assert parameters["expected"].kind is inspect.Parameter.KEYWORD_ONLY


def test_edit_with_the_current_version_updates_the_task(team, task):
    saved = services.task_edit(
        task=task, actor=team.member, data={"title": "New"}, expected=current(task, team.member)
    )

    assert saved.title == "New"
    assert Task.objects.get(pk=task.pk).title == "New"


def test_edit_with_a_stale_version_is_refused_and_changes_nothing(team, task):
    stale = current(task, team.member)
    services.task_edit(task=task, actor=team.member, data={"description": "Meanwhile."})

    with pytest.raises(PreconditionFailed):
        services.task_edit(task=task, actor=team.member, data={"title": "New"}, expected=stale)
    assert Task.objects.get(pk=task.pk).title == "Original"


def test_any_version_matches_whatever_the_task_is_now(team, task):
    services.task_edit(
        task=task,
        actor=team.member,
        data={"title": "New"},
        expected=ExpectedVersion(any_version=True),
    )

    assert Task.objects.get(pk=task.pk).title == "New"


def test_edit_naming_another_project_moves_the_task(team, task):
    target = ProjectFactory(owner=team.member)

    services.task_edit(task=task, actor=team.member, data={"project": target, "title": "Moved"})

    moved = Task.objects.get(pk=task.pk)
    assert (moved.project_id, moved.title) == (target.pk, "Moved")


def test_edit_naming_the_same_project_is_an_update(team, task, monkeypatch):
    monkeypatch.setattr(services, "_move", lambda *args, **kwargs: pytest.fail("not a move"))

    services.task_edit(task=task, actor=team.member, data={"project": team.project, "title": "X"})

    assert Task.objects.get(pk=task.pk).title == "X"


def test_an_edit_of_a_task_changed_since_it_was_read_keeps_that_change(team, task):
    """The one-statement update writes only a row still as the caller read it; otherwise the
    locked path reads it again: the other change stays, and the task returned shows both."""
    services.task_edit(
        task=Task.objects.get(pk=task.pk), actor=team.owner, data={"description": "Meanwhile."}
    )

    saved = services.task_edit(task=task, actor=team.member, data={"title": "New"})

    assert (saved.title, saved.description) == ("New", "Meanwhile.")
    stored = Task.objects.get(pk=task.pk)
    assert (stored.title, stored.description) == ("New", "Meanwhile.")


def test_an_edit_after_the_assignee_was_deleted_shows_the_task_unassigned(team):
    """Deleting a user empties `assignee_id` (on_delete=SET_NULL) without moving `updated_at`:
    the edit still notices that the row is no longer as read."""
    task = make_task(project=team.project, created_by=team.member, assignee=team.other_member)
    read = Task.objects.select_related("assignee", "created_by").get(pk=task.pk)
    Task.objects.filter(pk=task.pk).update(assignee=None)  # what the deletion's collector runs

    saved = services.task_edit(task=read, actor=team.member, data={"title": "New"})

    assert saved.assignee is None
    assert Task.objects.get(pk=task.pk).assignee_id is None
