"""Who may do what to a task. Strangers never get here: tasks are looked up among the
caller's projects (404); these tell members apart (403)."""

from rest_framework.exceptions import ParseError
from rest_framework.permissions import BasePermission

from core.views import request_body
from projects.models import Role
from projects.permissions import caller_role, can_manage_project


def can_delete_task(*, role: str | None, task, user) -> bool:
    """A task may be deleted (or moved out of its project) by its creator, an admin or the
    owner of its project."""
    if role is None:
        return False
    return task.created_by_id == user.id or can_manage_project(role)


class CanDeleteTask(BasePermission):
    message = "Only the task's creator or a project owner or admin may do this."

    def has_object_permission(self, request, view, obj):
        return can_delete_task(role=caller_role(obj), task=obj, user=request.user)


class CanMoveTask(BasePermission):
    """Changing `project_id` takes the right to delete the task where it is now; any member
    may change the rest."""

    message = CanDeleteTask.message

    def has_object_permission(self, request, view, obj):
        try:
            data = request_body(request)
        except ParseError:
            return True  # no move; the body's 400 comes after the preconditions
        if not isinstance(data, dict) or "project_id" not in data:
            return True
        if str(data["project_id"]) == str(obj.project_id):
            return True
        return can_delete_task(role=caller_role(obj), task=obj, user=request.user)


class CanChangeLabels(BasePermission):
    """Labels are created and changed by the owner, admins and members; viewers only read."""

    message = "Viewers may not create or change labels."

    def has_object_permission(self, request, view, obj):
        return caller_role(obj) in {Role.OWNER, Role.ADMIN, Role.MEMBER}
