"""Races on PostgreSQL: many requests at the same moment, each on its own connection.

Each race runs several rounds, because one round can pass by luck of the scheduling.
"""

from functools import partial

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from core.exceptions import FieldError, Invalid, NotFound
from projects.models import Membership, Project, Role
from projects.services import member_change_role, member_remove, project_transfer
from tasks.models import Task
from tasks.services import task_edit
from tests.factories import MembershipFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.auth import logged_in
from tests.support.concurrency import require_postgresql, run_together
from tests.support.envelope import assert_error
from tests.support.urls import member_url, members_url, task_url, transfer_url

ROUNDS = 5
PARALLEL = 20
PASSWORD = "a-long-test-passphrase-7"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql():
    require_postgresql()


def client_of(user) -> APIClient:
    return logged_in(user, raise_request_exception=False)


def call(client: APIClient, method: str, url: str, body: dict | None = None, **headers):
    """One request, to run later from a thread."""
    return partial(getattr(client, method), url, body, format="json", **headers)


def test_parallel_patches_with_one_if_match_let_exactly_one_through():
    project = ProjectFactory()
    member = MembershipFactory(project=project).user
    clients = [client_of(project.owner), client_of(member)]
    for round_ in range(ROUNDS):
        task = TaskFactory(project=project, title="Original")
        etag = clients[0].get(task_url(task.id))["ETag"]

        responses = run_together(
            [
                call(
                    clients[index % 2],
                    "patch",
                    task_url(task.id),
                    {"title": f"Writer {index}"},
                    HTTP_IF_MATCH=etag,
                )
                for index in range(PARALLEL)
            ]
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [412] * (PARALLEL - 1), (round_, statuses)
        for response in responses:
            if response.status_code == 412:
                assert_error(response, 412)
        winner = next(response for response in responses if response.status_code == 200)
        task.refresh_from_db()
        assert task.title == winner.json()["title"]


def test_parallel_patches_of_different_fields_keep_every_change():
    """No If-Match: each PATCH writes its own field, whether it wrote the task still as read
    or found it changed and took the locked path; none overwrites another's field."""
    project = ProjectFactory()
    client = client_of(project.owner)
    bodies = [
        {"title": "New title"},
        {"description": "New description"},
        {"status": "in-progress"},
        {"due_date": "2030-01-01"},
        {"assignee_id": project.owner.id},
    ]
    for round_ in range(ROUNDS):
        task = TaskFactory(project=project, title="Original", assignee=None)

        responses = run_together([call(client, "patch", task_url(task.id), b) for b in bodies])

        assert [response.status_code for response in responses] == [200] * len(bodies), round_
        final = client.get(task_url(task.id)).json()
        for body in bodies:
            assert {name: final[name] for name in body} == body, (round_, final)


def test_parallel_registrations_of_one_email_create_exactly_one_user():
    for round_ in range(ROUNDS):
        email = f"race{round_}@example.com"
        responses = run_together(
            [
                call(
                    APIClient(raise_request_exception=False),
                    "post",
                    "/api/v1/auth/register/",
                    # The same address however it is cased.
                    {"email": email if index % 2 else email.upper(), "password": PASSWORD},
                )
                for index in range(PARALLEL)
            ]
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [400] * (PARALLEL - 1), (round_, statuses)
        for response in responses:
            if response.status_code == 400:
                assert_error(response, 400, attr="email", code="unique")
        assert User.objects.filter(email__iexact=email).count() == 1
        assert Project.objects.filter(owner__email__iexact=email, is_inbox=True).count() == 1


def assert_consistent(project: Project) -> None:
    """One owner membership, and it is the project's owner; every assignee is a member."""
    project.refresh_from_db()
    owners = list(
        Membership.objects.filter(project=project, role=Role.OWNER).values_list(
            "user_id", flat=True
        )
    )
    assert owners == [project.owner_id], (owners, project.owner_id)
    members = set(Membership.objects.filter(project=project).values_list("user_id", flat=True))
    orphans = (
        Task.objects.filter(project=project, assignee__isnull=False)
        .exclude(assignee_id__in=members)
        .values_list("id", "assignee_id")
    )
    assert not orphans, list(orphans)


def test_concurrent_removal_role_change_transfer_and_assignment_leave_consistent_rows():
    """The owner hands the project to B while an admin removes B, changes B's role and assigns
    B a task, and the same for C; whatever order the database picks, the rows stay right and
    no request is a 500."""
    for round_ in range(ROUNDS):
        project = ProjectFactory()
        owner = project.owner
        admin = MembershipFactory(project=project, role=Role.ADMIN).user
        b = MembershipFactory(project=project).user
        c = MembershipFactory(project=project).user
        assigned_to_b = TaskFactory(project=project, assignee=b)
        assigned_to_c = TaskFactory(project=project, assignee=c)
        unassigned = TaskFactory(project=project)
        as_owner, as_admin, as_b = client_of(owner), client_of(admin), client_of(b)

        calls = [
            call(as_owner, "post", transfer_url(project.id), {"user_id": b.id}),
            call(as_admin, "delete", member_url(project.id, b.id)),
            call(as_owner, "delete", member_url(project.id, b.id)),
            call(as_admin, "patch", member_url(project.id, b.id), {"role": "admin"}),
            call(as_admin, "patch", task_url(unassigned.id), {"assignee_id": b.id}),
            call(as_owner, "patch", task_url(assigned_to_c.id), {"assignee_id": b.id}),
            call(as_owner, "post", transfer_url(project.id), {"user_id": c.id}),
            call(as_admin, "delete", member_url(project.id, c.id)),
            call(as_owner, "patch", member_url(project.id, c.id), {"role": "admin"}),
            call(as_admin, "patch", task_url(assigned_to_b.id), {"assignee_id": c.id}),
            call(as_b, "delete", member_url(project.id, b.id)),
            call(as_admin, "patch", member_url(project.id, admin.id), {"role": "member"}),
        ]
        responses = run_together(calls)

        statuses = [response.status_code for response in responses]
        assert all(status < 500 for status in statuses), (round_, statuses, responses)
        for response in responses:
            if response.status_code >= 400:
                assert_error(response, response.status_code)
        assert set(statuses) <= {200, 204, 400, 403, 404, 409}, (round_, statuses)
        assert_consistent(project)


# The same interleavings, made deterministic: the view validated against rows that changed
# before the service took its locks.


def test_removing_a_membership_that_just_went_is_a_404_not_a_500():
    project = ProjectFactory()
    membership = MembershipFactory(project=project)
    Membership.objects.filter(pk=membership.pk).delete()

    with pytest.raises(NotFound):
        member_remove(membership=membership, actor=project.owner)
    with pytest.raises(NotFound):
        member_change_role(membership=membership, role=Role.ADMIN, actor=project.owner)


def test_assigning_a_member_removed_after_validation_is_refused():
    project = ProjectFactory()
    leaver = MembershipFactory(project=project)
    task = TaskFactory(project=project)
    leaver.delete()

    with pytest.raises(Invalid) as refused:
        task_edit(task=task, actor=project.owner, data={"assignee": leaver.user})

    assert refused.value.errors == [
        FieldError(
            "The assignee must be a member of the task's project.", "not_a_member", "assignee_id"
        )
    ]
    task.refresh_from_db()
    assert task.assignee_id is None


def test_transferring_to_a_member_removed_after_validation_is_refused():
    project = ProjectFactory()
    leaver = MembershipFactory(project=project)
    leaver.delete()

    with pytest.raises(Invalid):
        project_transfer(project=project, new_owner=leaver.user, actor=project.owner)

    assert_consistent(project)
    assert project.owner_id != leaver.user_id


def test_parallel_deletes_of_one_project_delete_it_once_and_404_the_rest():
    """Found by schemathesis: two DELETEs of one project deadlocked into a 500."""
    for _ in range(ROUNDS):
        project = ProjectFactory()
        for _ in range(3):
            TaskFactory(project=project)
        owner = client_of(project.owner)

        responses = run_together(
            [call(owner, "delete", f"/api/v1/projects/{project.id}/") for _ in range(6)]
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [204, 404, 404, 404, 404, 404], [r.content for r in responses]
        assert not Project.objects.filter(pk=project.pk).exists()


# --- Writes racing the deletion of their project ---------------------------------------------


def project_with_owner_and_member():
    project = ProjectFactory()
    member = MembershipFactory(project=project, role=Role.ADMIN).user
    return project, client_of(project.owner), client_of(member)


def test_task_creates_racing_their_projects_deletion_are_201_or_400_never_500():
    """The create locks its project's row: the deletion goes first (the create then finds no
    such project, as its validation would have: 400) or waits and deletes the new task with
    it (the create answered 201 with the task it made, which is then gone)."""
    for round_ in range(ROUNDS):
        project, owner, admin = project_with_owner_and_member()
        creates = [
            call(admin, "post", "/api/v1/tasks/", {"title": f"t{i}", "project_id": project.id})
            for i in range(6)
        ]

        responses = run_together(
            [call(owner, "delete", f"/api/v1/projects/{project.id}/"), *creates]
        )

        assert responses[0].status_code == 204, (round_, responses[0].content)
        for response in responses[1:]:
            assert response.status_code in (201, 400), (round_, response.content)
            if response.status_code == 400:
                assert_error(response, 400, attr="project_id", code="does_not_exist")
        assert not Task.objects.filter(project_id=project.id).exists()


def test_task_moves_racing_the_targets_deletion_are_400_or_404_never_500():
    """The target's deletion went first (400 on project_id, the task stays), or the task moved
    and then went with its new project (404: it no longer exists)."""
    for round_ in range(ROUNDS):
        target, owner, admin = project_with_owner_and_member()
        source = ProjectFactory(owner=admin.user)
        tasks = [TaskFactory(project=source, created_by=admin.user) for _ in range(4)]

        responses = run_together(
            [call(owner, "delete", f"/api/v1/projects/{target.id}/")]
            + [call(admin, "patch", task_url(task.id), {"project_id": target.id}) for task in tasks]
        )

        assert responses[0].status_code == 204, (round_, responses[0].content)
        for task, response in zip(tasks, responses[1:], strict=True):
            assert response.status_code in (200, 400, 404), (round_, response.content)
            if response.status_code == 400:
                assert_error(response, 400, attr="project_id", code="does_not_exist")
                assert Task.objects.get(pk=task.id).project_id == source.id
            else:  # moved first, then deleted with its new project
                assert not Task.objects.filter(pk=task.id).exists()


def test_member_adds_racing_the_projects_deletion_are_404_never_500():
    for round_ in range(ROUNDS):
        project, owner, admin = project_with_owner_and_member()
        newcomers = UserFactory.create_batch(4)

        responses = run_together(
            [call(owner, "delete", f"/api/v1/projects/{project.id}/")]
            + [
                call(admin, "post", members_url(project.id), {"email": user.email})
                for user in newcomers
            ]
        )

        assert responses[0].status_code == 204, (round_, responses[0].content)
        for response in responses[1:]:
            assert response.status_code in (201, 404), (round_, response.content)
            if response.status_code == 404:
                assert_error(response, 404)
        assert not Membership.objects.filter(project_id=project.id).exists()


def test_task_updates_and_deletes_racing_their_projects_deletion_are_404_never_500():
    """An update or delete of a task whose project is being deleted: done first (its answer
    stands, the task then goes with the project) or finding the task gone (404)."""
    for round_ in range(ROUNDS):
        project, owner, admin = project_with_owner_and_member()
        tasks = [TaskFactory(project=project, created_by=admin.user) for _ in range(6)]
        writes = [
            call(admin, "patch", task_url(task.id), {"title": f"Changed {i}"})
            if i % 2
            else call(admin, "delete", task_url(task.id))
            for i, task in enumerate(tasks)
        ]

        responses = run_together(
            [call(owner, "delete", f"/api/v1/projects/{project.id}/"), *writes]
        )

        assert responses[0].status_code == 204, (round_, responses[0].content)
        for response in responses[1:]:
            assert response.status_code in (200, 204, 404), (round_, response.content)
        assert not Task.objects.filter(project_id=project.id).exists()
