from django.core.paginator import InvalidPage
from rest_framework import exceptions, pagination

from core.numbers import positive_bigint
from core.query import single_value


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`: positive 64-bit integers or a 400 naming the parameter.

    DRF's own class silently falls back to the default for a bad `page_size` and accepts
    `page=last`; the contract wants both refused. `page_size` is clamped to 100.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    @staticmethod
    def _positive_int(request, name: str) -> int | None:
        raw = single_value(request.query_params, name)
        if raw is None:
            return None
        value = positive_bigint(raw)
        if value is None:
            raise exceptions.ValidationError(
                {name: [exceptions.ErrorDetail("A positive integer is required.", code="invalid")]}
            )
        return value

    def get_page_size(self, request) -> int:
        size = self._positive_int(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def parameter_errors(self, request) -> dict:
        """Every problem with `page` and `page_size`, each under its name."""
        errors = {}
        for name in (self.page_query_param, self.page_size_query_param):
            try:
                self._positive_int(request, name)
            except exceptions.ValidationError as error:
                errors.update(error.detail)
        return errors

    def paginate_queryset(self, queryset, request, view=None):
        errors = self.parameter_errors(request)
        if errors:
            raise exceptions.ValidationError(errors)
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = request.query_params.get(self.page_query_param) or 1
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise exceptions.NotFound(f"Invalid page: {exc}") from exc
        return list(self.page)

    def get_paginated_response_schema(self, schema):
        """DRF's page schema, with examples on the documented base path (DRF's own point at
        `api.example.org/accounts/`). Every key is always sent (`next` and `previous` as null
        at either end), so all four are required."""
        page_schema = super().get_paginated_response_schema(schema)
        page_schema["required"] = ["count", "next", "previous", "results"]
        base = "https://tasklane.example.com/api/v1/tasks/"
        page_schema["properties"]["next"]["example"] = f"{base}?page=4"
        page_schema["properties"]["previous"]["example"] = f"{base}?page=2"
        return page_schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["default"] = self.page_size
                parameter["description"] = (
                    f"Results per page (default {self.page_size}; larger values are "
                    f"clamped to {self.max_page_size})."
                )
        return parameters
