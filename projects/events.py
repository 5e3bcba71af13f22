"""The project and membership events the services publish (core.realtime sends them)."""

from core.realtime import broadcast, project_group, to_project, user_group
from projects.render import member_to_dict, project_to_dict
from projects.selectors import project_with_member_count


def project_data(project_id: int) -> dict:
    return project_to_dict(project_with_member_count(project_id), with_role=False)


def member_data(membership) -> dict:
    return member_to_dict(membership)


def project_updated(*, project_id: int, actor_id: int, changes: list[str]) -> None:
    to_project(
        event_type="project.updated",
        project_id=project_id,
        actor_id=actor_id,
        data={**project_data(project_id), "changes": changes},
    )


def project_deleted(*, project_id: int, actor_id: int) -> None:
    to_project(
        event_type="project.deleted",
        project_id=project_id,
        actor_id=actor_id,
        data={"id": project_id},
    )


def member_added(*, membership, actor_id: int) -> None:
    """To the project, and to the added user, whose sockets then join the project's group."""
    broadcast(
        event_type="member.added",
        project_id=membership.project_id,
        actor_id=actor_id,
        data=member_data(membership),
        groups=[user_group(membership.user_id), project_group(membership.project_id)],
    )


def member_updated(*, membership, actor_id: int) -> None:
    to_project(
        event_type="member.updated",
        project_id=membership.project_id,
        actor_id=actor_id,
        data=member_data(membership),
    )


def member_removed(*, membership, actor_id: int, unassigned_task_ids: list[int]) -> None:
    """To the project and the removed user, whose sockets leave the group right after it."""
    data = member_data(membership)
    broadcast(
        event_type="member.removed",
        project_id=membership.project_id,
        actor_id=actor_id,
        data={
            "user": data["user"],
            "role": data["role"],
            "unassigned_task_ids": unassigned_task_ids,
        },
        groups=[project_group(membership.project_id), user_group(membership.user_id)],
    )
