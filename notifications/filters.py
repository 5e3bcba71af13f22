"""`GET notifications/?unread=true`: validated like every filter, a bad or repeated value is
a 400 naming it."""

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.filters import BaseFilterBackend

from core.query import single_value

BOOLEANS = {"true": True, "false": False}


class UnreadFilter(BaseFilterBackend):
    """`unread=true` keeps the unread notifications; `unread=false` (or no value) keeps them
    all. Only `true` and `false`: anything else would be a guess."""

    param = "unread"

    def wanted(self, request) -> bool:
        raw = single_value(request.query_params, self.param)
        if not raw:  # absent or empty, as django-filter treats the other lists' filters
            return False
        if raw not in BOOLEANS:
            raise ValidationError(
                {self.param: [ErrorDetail("Use 'true' or 'false'.", code="invalid")]}
            )
        return BOOLEANS[raw]

    def filter_queryset(self, request, queryset, view):
        if self.wanted(request):
            return queryset.filter(read_at__isnull=True)
        return queryset

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": "`true` for unread notifications only (`false`, the default: all).",
                "schema": {"type": "boolean"},
            }
        ]
