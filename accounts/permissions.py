"""What a personal access token may not do, whatever its user may.

`TokenScopeAllows` is one of the default permission classes (config/settings.py), so every
authenticated endpoint checks it before looking anything up: a token without the scope a
method needs gets a 403 whatever the URL names, which tells nothing about what exists. A JWT
is never limited here.
"""

from rest_framework.exceptions import ParseError
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Scope, normalize_email
from accounts.personal_tokens import (
    allows_scope,
    is_personal_token,
    personal_token_of,
    project_limit,
)
from core.renderers import withhold_representation
from core.views import request_body


def scope_needed(method: str) -> Scope:
    return Scope.READ if method in SAFE_METHODS else Scope.WRITE


class TokenScopeAllows(BasePermission):
    """`read` for GET, HEAD and OPTIONS; `write` for every other method. A write allowed to a
    token without `read` is answered without the resource (its `id` alone): the answer to a
    write, even an empty `PATCH {}`, must not read what the token may not."""

    def has_permission(self, request, view):
        scope = scope_needed(request.method)
        if allows_scope(request.user, scope):
            if scope == Scope.WRITE and not allows_scope(request.user, Scope.READ):
                withhold_representation(request)
            return True
        self.message = f"This personal access token does not have the `{scope}` scope."
        return False


class NotWithPersonalToken(BasePermission):
    """Managing tokens and changing the password need a password login (a JWT): a leaked
    token must not be able to mint others or lock its owner out."""

    message = "A personal access token cannot do this; log in with your password."

    def has_permission(self, request, view):
        return personal_token_of(request.user) is None


class NotProjectLimited(BasePermission):
    """A token limited to some projects sees only those: a project it created would be one it
    cannot see, so it may not create one (403, nothing created)."""

    message = "A personal access token limited to some projects cannot create a project."

    def has_permission(self, request, view):
        return project_limit(request.user) is None


class EmailUnchangedWithPersonalToken(BasePermission):
    """A personal access token may edit the profile but not change its email: the email is
    how the account is recovered and logged into."""

    message = "A personal access token cannot change the email; log in with your password."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or personal_token_of(request.user) is None:
            return True
        try:
            data = request_body(request)
        except ParseError:
            return True  # the body's 400 comes later
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            return True  # no email, or one that is a 400 anyway
        return normalize_email(data["email"]) == request.user.email


class NoPersonalTokenPresented(BasePermission):
    """For the public email-token endpoints (password reset, verification), which
    authenticate nobody: a request that carries a personal access token anyway is refused
    (403), as every endpoint of the email flows refuses one. Scripts have no business there."""

    message = "A personal access token cannot do this."

    def has_permission(self, request, view):
        scheme, _, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        return not (scheme.lower() == "bearer" and is_personal_token(credential.strip()))
