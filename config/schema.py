"""OpenAPI: drf-spectacular's AutoSchema documenting the contract's error responses."""

from drf_spectacular.utils import OpenApiResponse
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


class AutoSchema(ErrorDocumentingAutoSchema):
    """drf-spectacular's schema with the contract's error envelope on every operation."""

    def _should_add_parse_error_response(self) -> bool:
        return False  # a malformed body is documented as the 400 validation_error

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413":
            return self.method in {"POST", "PUT", "PATCH"} and status_code not in responses
        return super()._should_add_error_response(responses, status_code)

    def _should_add_http404_error_response(self) -> bool:
        # Every detail route answers 404 for a missing object or a non-member.
        return super()._should_add_http404_error_response() or self.path.rstrip("/").endswith("}")
