"""Projects, members and activity entries as the API shows them, for responses and events.

Each *_FIELDS tuple is its resource's one field list, in the order a body shows it: the
serializer declares it as its `Meta.fields`, and tests/core/test_representations.py checks
that the render function beside it and the OpenAPI component say the same.
"""

from accounts.render import user_summary
from core.render import utc_timestamp
from projects.models import Activity, Membership, Project

PROJECT_FIELDS = (
    "id",
    "name",
    "description",
    "owner",  # accounts.render.user_summary
    "role",  # the caller's; events leave it out
    "is_inbox",
    "member_count",
    "created_at",
    "updated_at",
)
MEMBER_FIELDS = ("user", "role", "joined_at")
ACTIVITY_FIELDS = ("id", "actor", "verb", "task_id", "changes", "created_at")


def project_to_dict(project: Project, *, with_role: bool = True) -> dict:
    """`role` is the caller's (`caller_role`, annotated by the selectors); events go to every
    member alike and leave it out. `member_count` is annotated by the selectors too."""
    data = {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "owner": user_summary(project.owner),
        "role": getattr(project, "caller_role", None),
        "is_inbox": project.is_inbox,
        "member_count": project.member_count,
        "created_at": utc_timestamp(project.created_at),
        "updated_at": utc_timestamp(project.updated_at),
    }
    if not with_role:
        data.pop("role")
    return data


def member_to_dict(membership: Membership) -> dict:
    return {
        "user": user_summary(membership.user),
        "role": membership.role,
        "joined_at": utc_timestamp(membership.joined_at),
    }


def activity_to_dict(entry: Activity) -> dict:
    return {
        "id": entry.id,
        "actor": user_summary(entry.actor),
        "verb": entry.verb,
        "task_id": entry.task_id,
        "changes": entry.changes,
        "created_at": utc_timestamp(entry.created_at),
    }
