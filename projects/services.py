"""Every write to projects and memberships, each in one transaction; the one place each rule
lives. Views call these after the caller-scoped lookup (404) and the role check (403).

Writes that touch memberships lock rows in one order, the project, then its membership rows,
then tasks, and re-read what they check under those locks: concurrent removals, role changes,
transfers and assignments then run one after the other instead of deadlocking or leaving two
owners or a task assigned to a non-member. The project is locked `FOR NO KEY UPDATE`, which
leaves the foreign-key checks of concurrent inserts (tasks, activity) unblocked.
"""

from django.db import IntegrityError, transaction

from accounts.models import User
from core.events import publish
from core.exceptions import Conflict, Invalid, NotFound, PermissionDenied
from core.services import model_update
from projects import activity, events
from projects.models import Membership, Project, Role, Verb

# The one call from projects into tasks: the tasks of a member who is removed (or becomes a
# viewer) become unassigned.
from tasks.services import task_unassign_member  # isort: skip

INBOX_NAME = "Inbox"


def _lock_project(project_id: int) -> Project:
    try:
        return Project.objects.select_for_update(no_key=True).get(pk=project_id)
    except Project.DoesNotExist:  # deleted since the view looked it up
        raise NotFound() from None


def _lock_membership(pk: int) -> Membership:
    """The membership row, locked after its project's row; 404 if it went meanwhile."""
    project_id = Membership.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound()
    _lock_project(project_id)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("project", "user")
        .filter(pk=pk)
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership


def _record_created(project: Project, actor: User) -> None:
    activity.record(
        project_id=project.pk,
        actor=actor,
        verb=Verb.PROJECT_CREATED,
        changes={
            "name": activity.change(None, project.name),
            "description": activity.change(None, project.description),
        },
    )


def projects_not_joined(*, user: User, project_ids: list[int]) -> list[int]:
    """Those of `project_ids` that name no project of the user's: a personal access token
    may be limited only to projects its user belongs to
    (accounts.services.personal_token_create)."""
    joined = set(
        Membership.objects.filter(user=user, project_id__in=project_ids).values_list(
            "project_id", flat=True
        )
    )
    return [project_id for project_id in project_ids if project_id not in joined]


@transaction.atomic
def project_create_inbox(*, owner: User) -> Project:
    """The personal Inbox every user gets when they come to exist
    (accounts.services.user_create)."""
    project = Project.objects.create(name=INBOX_NAME, owner=owner, is_inbox=True)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    _record_created(project, owner)
    return project


def project_inbox_for(*, owner: User) -> Project:
    """The user's Inbox, made now if it is missing (a user inserted behind the API's back):
    a missing Inbox is never a 500."""
    inbox = Project.objects.filter(owner=owner, is_inbox=True).first()
    if inbox is not None:
        return inbox
    try:
        with transaction.atomic():
            return project_create_inbox(owner=owner)
    except IntegrityError:  # a concurrent request made it first
        return Project.objects.get(owner=owner, is_inbox=True)


@transaction.atomic
def project_create(
    *, owner: User, name: str, description: str = "", actor: User | None = None
) -> Project:
    """A new project owned by `owner`; `actor` is who made it, if not the owner (an operator
    in the admin)."""
    project = Project.objects.create(name=name, description=description, owner=owner)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    _record_created(project, actor or owner)
    return project


@transaction.atomic
def project_update(*, project: Project, actor: User, data: dict) -> dict:
    """Change name/description; returns `{field: {"from", "to"}}` for what really changed."""
    locked = _lock_project(project.pk)
    before = {field: getattr(locked, field) for field in data}
    changed = model_update(locked, data)
    changes = {field: {"from": before[field], "to": getattr(locked, field)} for field in changed}
    if changes:
        activity.record(
            project_id=locked.pk, actor=actor, verb=Verb.PROJECT_UPDATED, changes=changes
        )
        publish(
            events.project_updated(project_id=locked.pk, actor_id=actor.pk, changes=list(changes))
        )
    return changes


@transaction.atomic
def project_delete(*, project: Project, actor: User) -> None:
    """Delete a project with its tasks and memberships. The Inbox stays.

    The row is locked first: concurrent deletes then queue behind the first one and find the
    project gone (404) instead of deadlocking on its tasks and memberships.
    """
    ensure_not_inbox(project, "deleted")
    try:
        locked = Project.objects.select_for_update().get(pk=project.pk)
    except Project.DoesNotExist:
        raise NotFound() from None
    publish(events.project_deleted(project_id=locked.pk, actor_id=actor.pk))
    locked.delete()


def ensure_not_inbox(project: Project, action: str) -> None:
    if project.is_inbox:
        raise Conflict(f"The Inbox cannot be {action}.", code="inbox")


@transaction.atomic
def project_transfer(*, project: Project, new_owner: User, actor: User) -> None:
    """Hand the project to another member; the old owner stays on as an admin.

    `project` is the project as the caller saw it when checking who may transfer it (the
    owner, or an operator in the admin).
    """
    ensure_not_inbox(project, "transferred")
    locked = _lock_project(project.pk)
    old_owner_id = locked.owner_id
    if old_owner_id != project.owner_id:  # a concurrent transfer went first
        raise PermissionDenied("Only the project's owner may do this.")
    memberships = Membership.objects.select_for_update().filter(
        project=locked, user_id__in=(old_owner_id, new_owner.pk)
    )
    if new_owner.pk not in {m.user_id for m in memberships.order_by("id")}:
        # Removed since the request was validated.
        raise Invalid(
            "The new owner must be another member of the project.",
            code="not_a_member",
            attr="user_id",
        )
    Membership.objects.filter(project=locked, user_id=old_owner_id).update(role=Role.ADMIN)
    Membership.objects.filter(project=locked, user=new_owner).update(role=Role.OWNER)
    locked.owner = new_owner
    locked.save(update_fields=["owner", "updated_at"])
    activity.record(
        project_id=locked.pk,
        actor=actor,
        verb=Verb.OWNERSHIP_TRANSFERRED,
        changes={"owner": activity.change(old_owner_id, new_owner.pk)},
    )
    members = Membership.objects.select_related("user").filter(project=locked)
    publish(
        events.project_updated(project_id=locked.pk, actor_id=actor.pk, changes=["owner"]),
        *(
            events.member_updated(membership=members.get(user_id=user_id), actor_id=actor.pk)
            for user_id in (old_owner_id, new_owner.pk)
        ),
    )


@transaction.atomic
def member_add(*, project: Project, user: User, role: str, actor: User) -> Membership:
    ensure_not_inbox(project, "shared")
    _lock_project(project.pk)  # a concurrent deletion of the project: 404, never a 500
    if Membership.objects.filter(project=project, user=user).exists():
        raise Conflict("This user is already a member of the project.", code="already_member")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError as exc:  # a concurrent add of the same user
        raise Conflict(
            "This user is already a member of the project.", code="already_member"
        ) from exc
    activity.record(
        project_id=project.pk,
        actor=actor,
        verb=Verb.MEMBER_ADDED,
        changes={"user_id": activity.change(None, user.pk), "role": activity.change(None, role)},
    )
    publish(
        events.member_added(membership=membership, actor_id=actor.pk),
        events.added_to_project(membership=membership, actor_id=actor.pk),
    )
    return membership


def ensure_not_owner_row(membership: Membership, action: str) -> None:
    if membership.role == Role.OWNER:
        raise Conflict(f"The owner cannot be {action}; transfer ownership first.", code="owner")


@transaction.atomic
def member_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Change a member's role. A change to viewer unassigns their tasks in the project, as a
    removal does, under the same locks (the membership row, then the tasks): a concurrent
    assignment either runs first and is unassigned here, or waits and finds a viewer."""
    locked = _lock_membership(membership.pk)
    ensure_not_owner_row(locked, "demoted")
    if locked.role != role:
        changes = {
            "user_id": activity.change(locked.user_id, locked.user_id),
            "role": activity.change(locked.role, role),
        }
        unassigned = None
        if role == Role.VIEWER:
            unassigned = task_unassign_member(project=locked.project, user=locked.user)
            changes["unassigned_task_ids"] = activity.change(unassigned, [])
        activity.record(
            project_id=locked.project_id, actor=actor, verb=Verb.ROLE_CHANGED, changes=changes
        )
        locked.role = role
        locked.save(update_fields=["role"])
        publish(
            events.member_updated(
                membership=locked, actor_id=actor.pk, unassigned_task_ids=unassigned
            )
        )
    return locked


@transaction.atomic
def member_remove(*, membership: Membership, actor: User) -> list[int]:
    """Remove a member (or let one leave); their tasks in the project become unassigned.

    Returns the ids of the tasks that were unassigned.
    """
    locked = _lock_membership(membership.pk)
    ensure_not_owner_row(locked, "removed")
    unassigned = task_unassign_member(project=locked.project, user=locked.user)
    activity.record(
        project_id=locked.project_id,
        actor=actor,
        verb=Verb.MEMBER_REMOVED,
        changes={
            "user_id": activity.change(locked.user_id, None),
            "role": activity.change(locked.role, None),
            "unassigned_task_ids": activity.change(unassigned, []),
        },
    )
    publish(
        events.member_removed(membership=locked, actor_id=actor.pk, unassigned_task_ids=unassigned)
    )
    locked.delete()
    return unassigned
