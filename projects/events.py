"""The project and membership events a write publishes (core.events.publish)."""

from core.events import Event, Notice, event
from core.realtime import project_group, user_group
from projects.render import member_to_dict, project_to_dict
from projects.selectors import project_with_member_count


def project_updated(*, project_id: int, actor_id: int, changes: list[str]) -> Event:
    data = project_to_dict(project_with_member_count(project_id), with_role=False)
    return event(
        "project.updated",
        project_id=project_id,
        actor_id=actor_id,
        data={**data, "changes": changes},
    )


def project_deleted(*, project_id: int, actor_id: int) -> Event:
    return event(
        "project.deleted", project_id=project_id, actor_id=actor_id, data={"id": project_id}
    )


def member_added(*, membership, actor_id: int) -> Event:
    """To the project, and to the added user, whose sockets then join the project's group."""
    return event(
        "member.added",
        project_id=membership.project_id,
        actor_id=actor_id,
        data=member_to_dict(membership),
        groups=(user_group(membership.user_id), project_group(membership.project_id)),
    )


def added_to_project(*, membership, actor_id: int) -> Notice:
    """The added user's `added_to_project` notification (none when they added themselves)."""
    return Notice(
        verb="added_to_project",  # notifications.models.Verb.ADDED_TO_PROJECT
        user_ids=(membership.user_id,),
        actor_id=actor_id,
        project_id=membership.project_id,
    )


def member_updated(
    *, membership, actor_id: int, unassigned_task_ids: list[int] | None = None
) -> Event:
    """A role change; a change to viewer also lists the member's tasks it unassigned."""
    data = member_to_dict(membership)
    if unassigned_task_ids is not None:
        data = {**data, "unassigned_task_ids": unassigned_task_ids}
    return event("member.updated", project_id=membership.project_id, actor_id=actor_id, data=data)


def member_removed(*, membership, actor_id: int, unassigned_task_ids: list[int]) -> Event:
    """To the project and the removed user, whose sockets leave the group right after it."""
    data = member_to_dict(membership)
    return event(
        "member.removed",
        project_id=membership.project_id,
        actor_id=actor_id,
        data={
            "user": data["user"],
            "role": data["role"],
            "unassigned_task_ids": unassigned_task_ids,
        },
        groups=(project_group(membership.project_id), user_group(membership.user_id)),
    )
