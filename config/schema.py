"""OpenAPI: drf-spectacular's AutoSchema documenting the contract's error responses."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as ErrorDocumentingAutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ClientErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["client_error"])
    errors = ErrorSerializer(many=True)


class ServerErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["server_error"])
    errors = ErrorSerializer(many=True)


def client_error(description: str) -> OpenApiResponse:
    """A documented 4xx response (409, 412, 422, ...) in the contract's envelope."""
    return OpenApiResponse(ClientErrorResponseSerializer, description=description)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "1-255 characters, scoped to you. A retry with the same key and the same request "
        "within 24 hours returns the first response again (with `Idempotent-Replayed: true`) "
        "and changes nothing. The same key with another request is a 422; a duplicate while "
        "the first is still running is a 409."
    ),
)
IDEMPOTENCY_RESPONSES = {
    "409": client_error("A request with this Idempotency-Key is still being processed."),
    "422": client_error("This Idempotency-Key was used with a different request."),
}


class AutoSchema(ErrorDocumentingAutoSchema):
    """drf-spectacular's schema with the contract's error envelope on every operation, and
    the Idempotency-Key header on every authenticated POST."""

    def _is_idempotent_create(self) -> bool:
        return self.method == "POST" and not self.path.startswith("/api/v1/auth/")

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_idempotent_create():
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction == "response" and self._is_idempotent_create():
            for status_code, response in IDEMPOTENCY_RESPONSES.items():
                if status_code not in responses:
                    responses[status_code] = self._get_response_for_code(response, status_code)
        return responses

    def _should_add_parse_error_response(self) -> bool:
        return False  # a malformed body is documented as the 400 validation_error

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413":
            return self.method in {"POST", "PUT", "PATCH"} and status_code not in responses
        return super()._should_add_error_response(responses, status_code)

    def _is_paginated_list(self) -> bool:
        if self.method != "GET":
            return False
        declared = [p.name for p in self.get_override_parameters() if hasattr(p, "name")]
        paginated = [p["name"] for p in self._get_pagination_parameters()]
        return "page_size" in declared or "page_size" in paginated

    def _should_add_http404_error_response(self) -> bool:
        # A missing object or a non-member's request; for lists, a page past the end.
        return "{" in self.path or self._is_paginated_list()

    def _should_add_http403_error_response(self) -> bool:
        # Role checks guard every write to an existing project, member or task.
        return "{" in self.path and self.method in {"POST", "PUT", "PATCH", "DELETE"}

    def _should_add_http415_error_response(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH"}

    def _should_add_validation_error_response(self) -> bool:
        # `page` and `page_size` are validated too.
        return super()._should_add_validation_error_response() or self._is_paginated_list()
