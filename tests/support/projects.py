"""A database snapshot shared by the project tests."""

from projects.models import Membership, Project
from tasks.models import Task


def db_state() -> dict:
    """Every row a project or member write could touch, to prove a refused write changed
    nothing (`updated_at` included, so even a no-op save would show)."""
    return {
        "projects": list(
            Project.objects.order_by("id").values_list(
                "id", "name", "description", "owner_id", "is_inbox", "updated_at"
            )
        ),
        "memberships": list(
            Membership.objects.order_by("id").values_list("id", "project_id", "user_id", "role")
        ),
        "tasks": list(
            Task.objects.order_by("id").values_list("id", "project_id", "assignee_id", "updated_at")
        ),
    }
