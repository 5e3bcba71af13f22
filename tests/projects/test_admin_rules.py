"""Project and membership writes in the admin follow the API's rules (projects.services): the
Inbox is neither deleted, transferred nor shared, the owner's row stays, a removed member's
tasks are unassigned; each write is recorded with the operator as actor and sent on commit.
A refused write is a message or a form error, never a 500."""

import pytest

from projects.models import Activity, Membership, Project, Role, Verb
from tasks.models import Task
from tests.factories import UserFactory
from tests.support.admin import errors_of, form_data, messages_of, sent_fixture  # noqa: F401
from tests.support.tasks import make_task

pytestmark = pytest.mark.django_db

PROJECTS = "/admin/projects/project/"
MEMBERSHIPS = "/admin/projects/membership/"


def project_url(project) -> str:
    return f"{PROJECTS}{project.pk}/change/"


def membership_url(membership) -> str:
    return f"{MEMBERSHIPS}{membership.pk}/change/"


def row_prefix(response, user) -> str:
    """The inline row of `user` on a project's change page."""
    formset = response.context["inline_admin_formsets"][0].formset
    (form,) = [form for form in formset.forms if form.instance.user_id == user.pk]
    return form.prefix


@pytest.fixture
def inbox(team):
    return team.owner.owned_projects.get(is_inbox=True)


# --- projects -------------------------------------------------------------------------------


def test_a_renamed_project_is_recorded_with_the_operator_and_sent(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    data = form_data(admin_client.get(project_url(team.project)), name="Relaunch")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(project_url(team.project), data)

    assert response.status_code == 302, errors_of(response)
    entry = Activity.objects.get(project=team.project, verb=Verb.PROJECT_UPDATED)
    assert entry.actor == admin_user
    assert entry.changes == {"name": {"from": "Launch", "to": "Relaunch"}}
    assert sent() == [(f"project.{team.project.pk}", "project.updated", admin_user.pk)]


def test_a_project_added_in_the_admin_gets_its_owner_membership_and_activity(
    admin_client, admin_user, team
):
    data = form_data(admin_client.get(f"{PROJECTS}add/"), name="Ops", owner=team.member.pk)

    response = admin_client.post(f"{PROJECTS}add/", data)

    assert response.status_code == 302, errors_of(response)
    project = Project.objects.get(name="Ops")
    assert list(project.memberships.values_list("user_id", "role")) == [
        (team.member.pk, Role.OWNER)
    ]
    assert Activity.objects.get(project=project, verb=Verb.PROJECT_CREATED).actor == admin_user


def test_changing_the_owner_is_a_transfer_to_a_member(admin_client, admin_user, team):
    data = form_data(admin_client.get(project_url(team.project)), owner=team.admin.pk)

    response = admin_client.post(project_url(team.project), data)

    assert response.status_code == 302, errors_of(response)
    roles = dict(team.project.memberships.values_list("user_id", "role"))
    assert roles[team.admin.pk] == Role.OWNER
    assert roles[team.owner.pk] == Role.ADMIN
    entry = Activity.objects.get(project=team.project, verb=Verb.OWNERSHIP_TRANSFERRED)
    assert entry.actor == admin_user


def test_the_owner_cannot_be_changed_to_a_non_member(admin_client, team):
    data = form_data(admin_client.get(project_url(team.project)), owner=team.stranger.pk)

    response = admin_client.post(project_url(team.project), data)

    assert errors_of(response)["owner"] == ["The new owner must be another member of the project."]
    team.project.refresh_from_db()
    assert team.project.owner == team.owner


def test_an_inbox_cannot_be_transferred(admin_client, team, inbox):
    response = admin_client.get(project_url(inbox))
    assert "owner" not in response.context["adminform"].form.fields  # read-only

    admin_client.post(project_url(inbox), form_data(response, owner=team.member.pk))

    inbox.refresh_from_db()
    assert inbox.owner == team.owner


def test_a_deleted_project_is_sent_and_its_tasks_go(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    make_task(project=team.project)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{PROJECTS}{team.project.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Project.objects.filter(pk=team.project.pk).exists()
    assert not Task.objects.filter(project_id=team.project.pk).exists()
    assert sent() == [(f"project.{team.project.pk}", "project.deleted", admin_user.pk)]


@pytest.mark.parametrize("method", ["get", "post"])
def test_deleting_an_inbox_is_a_message_not_a_500(admin_client, inbox, method):
    url = f"{PROJECTS}{inbox.pk}/delete/"
    response = getattr(admin_client, method)(url, {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["The Inbox cannot be deleted."]
    assert Project.objects.filter(pk=inbox.pk).exists()


def test_an_inbox_change_page_offers_no_delete(admin_client, inbox):
    content = admin_client.get(project_url(inbox)).content.decode()

    assert f"{inbox.pk}/delete/" not in content
    assert "Inbox (" in content


def test_a_bulk_delete_including_an_inbox_deletes_nothing(admin_client, team, inbox):
    response = admin_client.post(
        PROJECTS,
        {"action": "delete_selected", "_selected_action": [team.project.pk, inbox.pk], "post": "y"},
    )

    assert response.status_code == 200
    assert "The Inbox cannot be deleted." in response.content.decode()
    assert Project.objects.filter(pk__in=[team.project.pk, inbox.pk]).count() == 2


def test_a_bulk_delete_goes_through_the_service(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            PROJECTS,
            {"action": "delete_selected", "_selected_action": [team.project.pk], "post": "yes"},
        )

    assert response.status_code == 302
    assert not Project.objects.filter(pk=team.project.pk).exists()
    assert sent() == [(f"project.{team.project.pk}", "project.deleted", admin_user.pk)]


# --- members on the project's page ----------------------------------------------------------


def test_removing_a_member_inline_unassigns_their_tasks_and_is_recorded_and_sent(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    task = make_task(project=team.project, assignee=team.member)
    page = admin_client.get(project_url(team.project))
    data = form_data(page, **{f"{row_prefix(page, team.member)}-DELETE": True})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(project_url(team.project), data)

    assert response.status_code == 302, errors_of(response)
    assert not team.project.memberships.filter(user=team.member).exists()
    task.refresh_from_db()
    assert task.assignee is None
    entry = Activity.objects.get(project=team.project, verb=Verb.MEMBER_REMOVED)
    assert entry.actor == admin_user
    assert entry.changes["unassigned_task_ids"] == {"from": [task.pk], "to": []}
    assert (f"user.{team.member.pk}", "member.removed", admin_user.pk) in sent()


def test_the_owners_row_cannot_be_removed_or_demoted_inline(admin_client, team):
    page = admin_client.get(project_url(team.project))
    prefix = row_prefix(page, team.owner)
    data = form_data(page, **{f"{prefix}-DELETE": True, f"{prefix}-role": Role.MEMBER})

    response = admin_client.post(project_url(team.project), data)

    assert response.status_code == 302, errors_of(response)
    assert team.project.memberships.get(user=team.owner).role == Role.OWNER


def test_a_role_changed_and_a_member_added_inline_go_through_the_services(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    newcomer = UserFactory()
    page = admin_client.get(project_url(team.project))
    formset = page.context["inline_admin_formsets"][0].formset
    total = formset.total_form_count()
    data = form_data(
        page,
        **{
            f"{row_prefix(page, team.member)}-role": Role.ADMIN,
            "memberships-TOTAL_FORMS": total + 1,
            f"memberships-{total}-user": newcomer.pk,
            f"memberships-{total}-role": Role.MEMBER,
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(project_url(team.project), data)

    assert response.status_code == 302, errors_of(response)
    roles = dict(team.project.memberships.values_list("user_id", "role"))
    assert (roles[team.member.pk], roles[newcomer.pk]) == (Role.ADMIN, Role.MEMBER)
    verbs = Activity.objects.filter(project=team.project, actor=admin_user)
    assert set(verbs.values_list("verb", flat=True)) == {Verb.ROLE_CHANGED, Verb.MEMBER_ADDED}
    assert sorted(type_ for _, type_, _ in sent()) == [
        "member.added",
        "member.added",
        "member.updated",
        "notification.created",  # the newcomer's added_to_project
    ]


def test_an_inbox_page_offers_no_new_member_row(admin_client, inbox):
    response = admin_client.get(project_url(inbox))

    assert response.context["inline_admin_formsets"][0].formset.max_num == 0


# --- the membership pages -------------------------------------------------------------------


def test_removing_a_member_unassigns_their_tasks_and_is_recorded_and_sent(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    task = make_task(project=team.project, assignee=team.member)
    membership = team.project.memberships.get(user=team.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{MEMBERSHIPS}{membership.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee is None
    assert Activity.objects.get(verb=Verb.MEMBER_REMOVED).actor == admin_user
    assert sent()[:2] == [
        (f"project.{team.project.pk}", "member.removed", admin_user.pk),
        (f"user.{team.member.pk}", "member.removed", admin_user.pk),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_removing_the_owners_row_is_a_message_not_a_500(admin_client, team, method):
    membership = team.project.memberships.get(role=Role.OWNER)
    url = f"{MEMBERSHIPS}{membership.pk}/delete/"

    response = getattr(admin_client, method)(url, {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["The owner cannot be removed; transfer ownership first."]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_owners_row_offers_neither_delete_nor_a_role(admin_client, team):
    membership = team.project.memberships.get(role=Role.OWNER)

    response = admin_client.get(membership_url(membership))

    assert "role" not in response.context["adminform"].form.fields
    assert f"{membership.pk}/delete/" not in response.content.decode()


def test_a_bulk_removal_including_the_owner_removes_nobody(admin_client, team):
    rows = list(team.project.memberships.values_list("pk", flat=True))

    response = admin_client.post(
        MEMBERSHIPS, {"action": "delete_selected", "_selected_action": rows, "post": "yes"}
    )

    assert response.status_code == 200
    assert "transfer ownership first" in response.content.decode()
    assert team.project.memberships.count() == len(rows)


def test_a_bulk_removal_goes_through_the_service(admin_client, admin_user, team):
    task = make_task(project=team.project, assignee=team.member)
    rows = team.project.memberships.exclude(role=Role.OWNER).values_list("pk", flat=True)

    response = admin_client.post(
        MEMBERSHIPS, {"action": "delete_selected", "_selected_action": list(rows), "post": "yes"}
    )

    assert response.status_code == 302
    assert list(team.project.memberships.values_list("role", flat=True)) == [Role.OWNER]
    task.refresh_from_db()
    assert task.assignee is None
    assert Activity.objects.filter(verb=Verb.MEMBER_REMOVED, actor=admin_user).count() == 3


def test_a_role_change_is_recorded_and_sent(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    membership = team.project.memberships.get(user=team.member)
    data = form_data(admin_client.get(membership_url(membership)), role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(membership_url(membership), data)

    assert response.status_code == 302, errors_of(response)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    assert Activity.objects.get(verb=Verb.ROLE_CHANGED).actor == admin_user
    assert sent() == [(f"project.{team.project.pk}", "member.updated", admin_user.pk)]


def test_a_member_added_is_recorded_and_sent(
    admin_client, admin_user, team, sent, django_capture_on_commit_callbacks
):
    data = form_data(
        admin_client.get(f"{MEMBERSHIPS}add/"),
        project=team.project.pk,
        user=team.stranger.pk,
        role=Role.MEMBER,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{MEMBERSHIPS}add/", data)

    assert response.status_code == 302, errors_of(response)
    assert team.project.memberships.filter(user=team.stranger, role=Role.MEMBER).exists()
    assert Activity.objects.get(verb=Verb.MEMBER_ADDED).actor == admin_user
    assert (f"user.{team.stranger.pk}", "member.added", admin_user.pk) in sent()


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("inbox", "project", "The Inbox cannot be shared."),
        ("owner_role", "role", "Select a valid choice. owner is not one of the available choices."),
    ],
)
def test_a_member_that_the_api_would_refuse_is_a_form_error(
    admin_client, team, inbox, case, field, message
):
    project, user, role = {
        "inbox": (inbox, team.stranger, Role.MEMBER),
        "owner_role": (team.project, team.stranger, Role.OWNER),
    }[case]
    before = Membership.objects.count()
    data = form_data(
        admin_client.get(f"{MEMBERSHIPS}add/"), project=project.pk, user=user.pk, role=role
    )

    response = admin_client.post(f"{MEMBERSHIPS}add/", data)

    assert errors_of(response)[field] == [message]
    assert Membership.objects.count() == before
