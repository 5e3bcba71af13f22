"""Who may do what to a task. Strangers never get here: tasks are looked up among the
caller's projects (404); these tell members apart (403). A viewer reads tasks and writes
none: every task write (create, update, reorder, delete, restore, move) asks one of these."""

from rest_framework import exceptions
from rest_framework.exceptions import ParseError
from rest_framework.permissions import BasePermission

from core.views import request_body
from projects.models import Role
from projects.permissions import caller_role, can_manage_project
from tasks.comments import NOT_THE_AUTHOR
from tasks.selectors import roles_for
from tasks.services import VIEWER_REFUSED as VIEWER_MESSAGE


def can_edit_task(role: str | None) -> bool:
    """Create, update and reorder tasks of a project: any member but a viewer."""
    return role is not None and role != Role.VIEWER


def can_delete_task(*, role: str | None, task, user) -> bool:
    """A task may be deleted (restored, or moved out of its project) by its creator while
    they are a member and not a viewer, an admin or the owner of its project."""
    if not can_edit_task(role):
        return False
    return task.created_by_id == user.id or can_manage_project(role)


class CanEditTask(BasePermission):
    """Update (PUT/PATCH) and reorder: any member of the task's project but a viewer."""

    message = VIEWER_MESSAGE

    def has_object_permission(self, request, view, obj):
        return can_edit_task(caller_role(obj))


class CanDeleteTask(BasePermission):
    message = "Only the task's creator or a project owner or admin may do this."

    def has_object_permission(self, request, view, obj):
        return can_delete_task(role=caller_role(obj), task=obj, user=request.user)


def _named_project_id(request) -> int | None:
    """The `project_id` the body names, if it is one that could be a project; None for a
    body whose errors the serializer answers (after the preconditions)."""
    try:
        data = request_body(request)
    except ParseError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("project_id")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def is_viewer_in(request, project_id: int | None) -> bool:
    """Whether the caller is a viewer of the project (within their token's projects); a
    project that is not theirs is the body's 400, not a 403."""
    if project_id is None:
        return False
    return roles_for(request.user).get(project_id) == Role.VIEWER


def ensure_may_create_in_named_project(request) -> None:
    """Creating a task in a project where the caller is a viewer is a 403; the Inbox, the
    default, is always the caller's own. The write itself refuses it under its lock
    (tasks.services.task_create) at no extra statement; this asks only when the body is
    refused too, so that the role's 403 comes before the body's 400."""
    if is_viewer_in(request, _named_project_id(request)):
        raise exceptions.PermissionDenied(VIEWER_MESSAGE)


class CanMoveTask(BasePermission):
    """Changing `project_id` takes the right to delete the task where it is now and a role
    other than viewer in the target; any member but a viewer may change the rest."""

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
        if not can_delete_task(role=caller_role(obj), task=obj, user=request.user):
            return False
        if is_viewer_in(request, _named_project_id(request)):
            self.message = VIEWER_MESSAGE
            return False
        return True


class CanChangeLabels(BasePermission):
    """Labels are created and changed by the owner, admins and members; viewers only read."""

    message = "Viewers may not create or change labels."

    def has_object_permission(self, request, view, obj):
        return caller_role(obj) in {Role.OWNER, Role.ADMIN, Role.MEMBER}


class IsCommentAuthor(BasePermission):
    """A comment is edited by its author only; members read and write comments alike."""

    message = NOT_THE_AUTHOR

    def has_object_permission(self, request, view, obj):
        return obj.author_id == request.user.id


class CanDeleteComment(BasePermission):
    """A comment is deleted by its author, a project admin or the owner (others 403)."""

    message = "Only the comment's author or a project owner or admin may delete it."

    def has_object_permission(self, request, view, obj):
        return obj.author_id == request.user.id or can_manage_project(caller_role(obj))
