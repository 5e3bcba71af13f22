"""One way for every view to answer a request, in the contract's order.

Each action reads top to bottom: the object it acts on (`get_object()`, or `authorize()` for a
parent), the body through its serializer (`get_serializer(...)`, `is_valid(raise_exception=
True)`), one service call (`services.<verb>(actor=request.user, ...)`), and the result's
representation in a `Response`. Viewsets override create/update/destroy whole: no
`perform_*` hooks, and no service called from a serializer (tests/test_layout.py checks).

The contract answers a request in a fixed order: 401 (authentication) → 404 (the object is not
the caller's) → 403 (the caller's role does not allow the action) → 409/412 (the state of the
target) → 400 (the body). DRF runs 401 in `initial()` and 404 in `get_object()`; the mixin
runs the action's permission classes (403) and then `check_preconditions` (409/412) on every
object it hands out, before an action reads the body. The services check the state again
under their row locks: these checks give the contract's order, the services keep the data
right under concurrency.
"""

from rest_framework.exceptions import ParseError, ValidationError

from core.render import ExpectedVersion


class PermissionTableMixin:
    #: action → permission classes (composed with & and |), on top of the defaults
    #: (DEFAULT_PERMISSION_CLASSES: authenticated, and within the credential's scope).
    permission_classes_by_action: dict = {}
    #: action → the serializer that reads its body, where that is not `serializer_class`.
    serializer_classes_by_action: dict = {}

    def get_permissions(self):
        extra = self.permission_classes_by_action.get(self.action, ())
        return [*super().get_permissions(), *(permission() for permission in extra)]

    def get_serializer_class(self):
        return self.serializer_classes_by_action.get(self.action) or super().get_serializer_class()

    def get_object(self):
        """DRF's lookup (404) and object permissions (403), then the preconditions."""
        obj = super().get_object()
        self.check_preconditions(obj)
        return obj

    def authorize(self, obj):
        """403 and 409/412 for an object found another way (a parent, a custom lookup)."""
        self.check_object_permissions(self.request, obj)
        self.check_preconditions(obj)
        return obj

    def check_preconditions(self, obj) -> None:
        """409/412 for this action on `obj`; nothing by default."""


def expected_version(request) -> ExpectedVersion | None:
    """The version `If-Match` names (strong comparison: tags as sent), `*` for any current
    version, or None when the request sets no precondition."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = frozenset(tag.strip() for tag in header.split(","))
    return ExpectedVersion(etags=tags - {"*"}, any_version="*" in tags)


def request_body(request):
    """`request.data`, raising its parse error every time it is asked for.

    DRF raises a ParseError once, then hands out an empty body: a permission that peeks at
    the body (a task move) would otherwise turn a malformed PATCH into an empty write.
    """
    error = getattr(request, "_tasklane_body_error", None)
    if error is not None:
        raise error
    try:
        return request.data
    except ParseError as exc:
        request._tasklane_body_error = exc
        raise


class EveryParameterErrorMixin:
    """A list answers every bad query parameter at once, one entry per problem, instead of
    stopping at the first filter backend (or the pagination) that refuses one."""

    def filter_queryset(self, queryset):
        errors = {}
        for backend in self.filter_backends:
            try:
                queryset = backend().filter_queryset(self.request, queryset, self)
            except ValidationError as error:
                errors.update(as_field_errors(error.detail))
        if self.action == "list" and self.paginator is not None:
            errors.update(self.paginator.parameter_errors(self.request))
        if errors:
            raise ValidationError(errors)
        return queryset


def as_field_errors(detail) -> dict:
    return detail if isinstance(detail, dict) else {"non_field_errors": detail}
