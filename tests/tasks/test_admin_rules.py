"""Task writes in the admin follow the API's rules: the assignee is a member, the operator is
the actor of the activity entry, and the event goes out after the commit."""

import pytest

from projects.models import Activity, Verb
from tasks import admin as task_admin
from tasks.models import Task
from tests.factories import ProjectFactory, UserFactory
from tests.support.admin import errors_of, form_data, messages_of, sent_fixture  # noqa: F401
from tests.support.tasks import make_task

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tasks/task/"


def change_url(task) -> str:
    return f"{CHANGELIST}{task.pk}/change/"


@pytest.fixture
def task(team):
    return make_task(project=team.project, title="Draft the launch post", assignee=team.member)


def test_an_edit_is_recorded_with_the_operator_as_actor_and_sent_on_commit(
    admin_client, admin_user, team, task, sent, django_capture_on_commit_callbacks
):
    data = form_data(admin_client.get(change_url(task)), title="Publish the launch post")
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(change_url(task), data)
        assert sent() == []  # nothing before the commit

    assert response.status_code == 302, errors_of(response)
    for callback in callbacks:
        callback()
    task.refresh_from_db()
    assert task.title == "Publish the launch post"
    entry = Activity.objects.get(task_id=task.pk, verb=Verb.UPDATED)
    assert entry.actor == admin_user
    assert entry.changes == {
        "title": {"from": "Draft the launch post", "to": "Publish the launch post"}
    }
    assert sent() == [(f"project.{team.project.pk}", "task.updated", admin_user.pk)]


def test_a_non_member_assignee_is_an_error_on_the_assignee_field(
    admin_client, team, task, sent, django_capture_on_commit_callbacks
):
    data = form_data(admin_client.get(change_url(task)), title="Changed", assignee=team.stranger.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(task), data)

    assert errors_of(response)["assignee"] == [
        "The assignee must be a member of the task's project."
    ]
    task.refresh_from_db()
    assert (task.title, task.assignee) == ("Draft the launch post", team.member)
    assert not Activity.objects.filter(task_id=task.pk).exists()
    assert sent() == []


def test_moving_a_task_keeps_its_assignee_a_member_of_the_new_project(admin_client, team, task):
    elsewhere = ProjectFactory()  # team.member is not in it

    response = admin_client.post(
        change_url(task), form_data(admin_client.get(change_url(task)), project=elsewhere.pk)
    )

    assert "assignee" in errors_of(response)
    task.refresh_from_db()
    assert task.project == team.project


def test_a_move_is_recorded_in_both_feeds_and_sent_to_both_projects(
    admin_client, admin_user, team, task, sent, django_capture_on_commit_callbacks
):
    other = ProjectFactory(owner=team.owner)
    data = form_data(admin_client.get(change_url(task)), project=other.pk, assignee="")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(task), data)

    assert response.status_code == 302, errors_of(response)
    feeds = Activity.objects.filter(task_id=task.pk, verb=Verb.UPDATED, actor=admin_user)
    assert sorted(feeds.values_list("project_id", "mirror")) == sorted(
        [(other.pk, False), (team.project.pk, True)]
    )
    assert sent() == [
        (f"project.{team.project.pk}", "task.deleted", admin_user.pk),
        (f"project.{other.pk}", "task.created", admin_user.pk),
    ]


def test_a_task_added_in_the_admin_is_created_by_the_operator(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    data = form_data(
        admin_client.get(f"{CHANGELIST}add/"),
        project=team.project.pk,
        title="Book the venue",
        status="pending",
        assignee=team.member.pk,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}add/", data)

    assert response.status_code == 302, errors_of(response)
    task = Task.objects.get(title="Book the venue")
    assert task.created_by == admin_user
    assert Activity.objects.get(task_id=task.pk, verb=Verb.CREATED).actor == admin_user
    assert sent() == [
        (f"project.{team.project.pk}", "task.created", admin_user.pk),
        (f"user.{team.member.pk}", "task.assigned", admin_user.pk),
        (f"user.{team.member.pk}", "notification.created", admin_user.pk),  # assigned
    ]


def test_a_task_cannot_be_added_with_a_non_member_assignee(admin_client, team):
    data = form_data(
        admin_client.get(f"{CHANGELIST}add/"),
        project=team.project.pk,
        title="Book the venue",
        status="pending",
        assignee=team.stranger.pk,
    )

    response = admin_client.post(f"{CHANGELIST}add/", data)

    assert "assignee" in errors_of(response)
    assert not Task.objects.filter(title="Book the venue").exists()


def test_a_delete_is_recorded_and_sent(
    admin_client, admin_user, team, task, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}{task.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()
    assert Activity.objects.get(task_id=task.pk, verb=Verb.DELETED).actor == admin_user
    assert sent() == [(f"project.{team.project.pk}", "task.deleted", admin_user.pk)]


def test_the_bulk_delete_action_deletes_through_the_service(
    admin_client, admin_user, team, task, sent, django_capture_on_commit_callbacks
):
    second = make_task(project=team.project, title="Second")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [task.pk, second.pk], "post": "yes"},
        )

    assert response.status_code == 302
    assert not Task.objects.filter(pk__in=[task.pk, second.pk]).exists()
    deleted = Activity.objects.filter(verb=Verb.DELETED, actor=admin_user)
    assert sorted(deleted.values_list("task_id", flat=True)) == sorted([task.pk, second.pk])
    assert [type_ for _, type_, _ in sent()] == ["task.deleted", "task.deleted"]


def test_the_project_filter_lists_only_the_chosen_project_and_names_inboxes_by_owner(
    admin_client, team, task
):
    owners = [UserFactory(email=f"owner{i}@example.com") for i in range(5)]
    inbox = owners[0].owned_projects.get(is_inbox=True)
    make_task(project=inbox, title="Inbox chore")

    unfiltered = admin_client.get(CHANGELIST).content.decode()
    assert "owner1@example.com" not in unfiltered  # no project listed by the filter
    assert f"?project={inbox.pk}" not in unfiltered

    filtered = admin_client.get(f"{CHANGELIST}?project={inbox.pk}")
    content = filtered.content.decode()
    assert "Inbox (owner0@example.com)" in content
    assert [t.title for t in filtered.context["cl"].result_list] == ["Inbox chore"]


def test_an_unknown_project_filter_value_lists_nothing(admin_client, task):
    for value in ("nope", "999999999"):
        response = admin_client.get(f"{CHANGELIST}?project={value}")

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == []


def test_tasks_are_found_by_their_inbox_owners_email(admin_client, team):
    owner = UserFactory(email="zelda@example.com")
    make_task(project=owner.owned_projects.get(is_inbox=True), title="Zelda's chore")

    response = admin_client.get(f"{CHANGELIST}?q=zelda@example")

    assert [t.title for t in response.context["cl"].result_list] == ["Zelda's chore"]


def test_a_service_refusal_after_validation_is_a_message_not_a_500(
    admin_client, team, task, monkeypatch
):
    """A member removed between the form's check and the write: the service refuses."""

    monkeypatch.setattr(task_admin.services, "assignee_is_member", lambda **_: True)
    data = form_data(admin_client.get(change_url(task)), assignee=team.stranger.pk)

    response = admin_client.post(change_url(task), data, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["The assignee must be a member of the task's project."]
    task.refresh_from_db()
    assert task.assignee == team.member
