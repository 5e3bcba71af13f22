"""Who may do what in a project: one small permission class per question.

Views look objects up through the caller-scoped selectors first, so a stranger never reaches
these checks (404); these only tell members apart (403). Every object they check (a project,
a task, a member, a webhook, a delivery) carries the caller's role in its project as
`caller_role`, set by the selector or the view that looked it up.
"""

from rest_framework.permissions import BasePermission

from projects.models import Role

ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def caller_role(obj) -> str | None:
    return getattr(obj, "caller_role", None)


def can_manage_project(role: str | None) -> bool:
    return role in ADMIN_ROLES


class IsProjectMember(BasePermission):
    def has_object_permission(self, request, view, obj):
        return caller_role(obj) is not None


class IsProjectAdmin(BasePermission):
    """The owner or an admin."""

    message = "Only the project's owner or an admin may do this."

    def has_object_permission(self, request, view, obj):
        return can_manage_project(caller_role(obj))


class IsProjectOwner(BasePermission):
    message = "Only the project's owner may do this."

    def has_object_permission(self, request, view, obj):
        return caller_role(obj) == Role.OWNER


class IsSelf(BasePermission):
    """The membership is the caller's own: any member may leave a project."""

    def has_object_permission(self, request, view, obj):
        return obj.user_id == request.user.id
