"""OpenAPI: drf-spectacular's AutoSchema documenting the contract's error responses.

Every error body has one shape, `{"type", "errors": [{"code", "detail", "attr"}]}`, and the
schema says exactly that and no more: `code` is a string and `attr` a string or null. Each
operation's 400 lists, in its description, the fields and parameters it validates and the
usual codes, but does not enumerate them as a constraint: a client that validates responses
against this schema must never reject a real error. (drf-standardized-errors' default 400
components enumerate `attr` and `code` per field, and real errors fall outside them: parse
errors with `attr: null`, `min_value` on list parameters, `unique` at register, the
`Idempotency-Key` header on every POST, ...)
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as ErrorDocumentingAutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from core.numbers import MAX_BIGINT
from core.urls_helpers import ID_PATTERN

COMMON_VALIDATION_CODES = (
    "required, null, blank, invalid, max_length, min_value, max_value, invalid_choice, "
    "does_not_exist, unique, parse_error"
)
COMMON_QUERY_CODES = "invalid, invalid_choice, min_value, max_value, max_length"


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=(
            "Machine-readable reason. Common values: for 400, "
            f"{COMMON_VALIDATION_CODES}; for 401, not_authenticated, token_not_valid, "
            "token_expired, invalid_credentials; then permission_denied (403), not_found "
            "(404), method_not_allowed (405), request_timeout (408), conflict and "
            "idempotency_key_in_use (409), precondition_failed (412), request_too_large "
            "(413), unsupported_media_type (415), idempotency_key_reused (422), throttled "
            "(429), error (500), database_unavailable (503). New codes may be added: treat an "
            "unknown one like its status."
        )
    )
    detail = serializers.CharField(help_text="Human-readable message (English).")
    attr = serializers.CharField(
        allow_null=True,
        help_text=(
            "The body field (dotted for nested fields, e.g. `project_ids.0`), query "
            "parameter or header at fault, or null when the error is about the request as "
            "a whole (a malformed body, a bad token, a missing object, ...)."
        ),
    )


class ValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["validation_error"])
    errors = ErrorSerializer(many=True, help_text="One entry per problem.")


class ClientErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["client_error"])
    errors = ErrorSerializer(many=True)


class ServerErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["server_error"])
    errors = ErrorSerializer(many=True)


def client_error(description: str) -> OpenApiResponse:
    """A documented 4xx response (409, 412, 422, ...) in the contract's envelope."""
    return OpenApiResponse(ClientErrorResponseSerializer, description=description)


READ_SCOPE_403 = "The personal access token used lacks the `read` scope."
ERROR_DESCRIPTIONS = {
    "401": (
        "Missing, malformed, expired (`token_expired`) or revoked (`token_not_valid`) access "
        "token or personal access token."
    ),
    "403": (
        "Your role in the project does not allow this, or the personal access token used "
        "lacks the `write` scope."
    ),
    "404": (
        "No such object, or you are not a member of its project; for a list, a page past the end."
    ),
    "405": "Method not allowed on this URL.",
    "413": "Request body larger than the server's limit (`MAX_BODY_BYTES`).",
    "415": "The body is not `application/json`.",
    "429": "Throttled; `Retry-After` says when to try again.",
    "500": "Unexpected server error.",
}


def _example(name: str, status: str, error_type: str, code: str, detail: str, attr=None):
    return OpenApiExample(
        name,
        value={"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]},
        status_codes=[status],
        response_only=True,
    )


INVALID_PARAMETER_EXAMPLE = _example(
    "Invalid parameter",
    "400",
    "validation_error",
    "invalid",
    "A positive integer is required.",
    "page_size",
)
QUERY_ERROR_EXAMPLES = [INVALID_PARAMETER_EXAMPLE]
CONFLICT_EXAMPLE = _example(
    "Conflict", "409", "client_error", "conflict", "The Inbox cannot be deleted."
)
IN_USE_EXAMPLE = _example(
    "Idempotency-Key in use",
    "409",
    "client_error",
    "idempotency_key_in_use",
    "A request with this Idempotency-Key is still being processed.",
)
BODY_ERROR_EXAMPLES = [
    _example(
        "Invalid field",
        "400",
        "validation_error",
        "required",
        "This field is required.",
        "title",
    ),
    _example(
        "Malformed body",
        "400",
        "validation_error",
        "parse_error",
        "JSON parse error - Expecting value: line 1 column 1 (char 0)",
    ),
    _example(
        "Stale If-Match",
        "412",
        "client_error",
        "precondition_failed",
        "If-Match does not match the current ETag.",
    ),
    _example(
        "Body too large",
        "413",
        "client_error",
        "request_too_large",
        "Request body is larger than 1048576 bytes.",
    ),
    _example(
        "Idempotency-Key reused",
        "422",
        "client_error",
        "idempotency_key_reused",
        "This Idempotency-Key was used with a different request.",
    ),
]


ID_SCHEMA_PATTERN = f"^{ID_PATTERN}$"
# Integers in parameters must fit PostgreSQL's bigint; a larger one is a 400 naming it.
POSITIVE_INT64 = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_BIGINT}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "1-255 characters, scoped to you. A retry with the same key and the same request "
        "within 24 hours returns the first response again (with `Idempotent-Replayed: true`) "
        "and changes nothing. The same key with another request is a 422; a duplicate while "
        "the first is still running is a 409. An empty or longer key is a 400 on "
        "`Idempotency-Key`."
    ),
)
DATABASE_UNAVAILABLE_503 = OpenApiResponse(
    ServerErrorResponseSerializer,
    description=(
        "The database is unavailable (`database_unavailable`); `Retry-After` says when to "
        "try again. Nothing was changed."
    ),
)
BODY_TIMEOUT_408 = client_error(
    "The request body stopped arriving before it was complete (`request_timeout`)."
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

    def _map_basic_serializer(self, serializer, direction):
        """In a response every field is present, so every field is required there.
        drf-spectacular marks writable fields with a default (`status`, `description`,
        `due_date`, ...) optional in responses too, and generated clients then type them as
        "maybe absent" (openapi-python-client's `Unset`) for every reader."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and schema.get("properties"):
            schema["required"] = sorted(schema["properties"])
        return schema

    def _get_parameters(self):
        """Ids in paths are integers (at most 18 digits, see `ID_PATTERN`), not strings:
        typed so, a client and a fuzzer can follow a created object's `id` into its URLs."""
        parameters = super()._get_parameters()
        for parameter in parameters:
            if (
                parameter["in"] == "path"
                and parameter["schema"].get("pattern") == ID_SCHEMA_PATTERN
            ):
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        for parameter in parameters:
            if parameter["name"] in {"page", "page_size"}:
                parameter["schema"] = {**parameter["schema"], **POSITIVE_INT64}
        return parameters

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_idempotent_create():
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        extra = {"503": DATABASE_UNAVAILABLE_503}
        if self._has_body():
            extra["408"] = BODY_TIMEOUT_408
        if self._is_idempotent_create():
            extra.update(IDEMPOTENCY_RESPONSES)
        for status_code, response in extra.items():
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(response, status_code)
        return dict(sorted(responses.items()))

    def _get_error_response_serializer(self, status_code: str):
        if status_code == "400":
            return OpenApiResponse(
                ValidationErrorResponseSerializer, description=self._validation_description()
            )
        serializer = super()._get_error_response_serializer(status_code)
        if serializer and status_code == "403" and self.method in SAFE_METHODS:
            return OpenApiResponse(serializer, description=READ_SCOPE_403)
        if serializer and status_code in ERROR_DESCRIPTIONS:
            return OpenApiResponse(serializer, description=ERROR_DESCRIPTIONS[status_code])
        return serializer

    def _validation_description(self) -> str:
        """What this operation's 400 names, as documentation rather than a constraint."""
        attrs = list(
            self._get_validation_error_codes_by_field(self._determine_fields_with_error_codes())
        )
        attrs += [p["name"] for p in self._get_parameters() if p["in"] == "query"]
        if self._is_idempotent_create():
            attrs.append(IDEMPOTENCY_KEY.name)
        named = ", ".join(f"`{a}`" for a in dict.fromkeys(attrs) if a != "non_field_errors")
        if self._has_body():
            return (
                "Invalid request: one entry per problem. `attr` names the body field or "
                f"header at fault ({named}), or is null for a malformed body or a rule about "
                f"the body as a whole. Common `code` values: {COMMON_VALIDATION_CODES}."
            )
        return (
            f"Invalid query parameter: one entry per problem; `attr` names it ({named}). "
            f"Common `code` values: {COMMON_QUERY_CODES}."
        )

    def _has_body(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH"}

    def _get_error_response_examples(self):
        examples = BODY_ERROR_EXAMPLES if self._has_body() else QUERY_ERROR_EXAMPLES
        conflict = IN_USE_EXAMPLE if self._is_idempotent_create() else CONFLICT_EXAMPLE
        return [*super()._get_error_response_examples(), *examples, conflict]

    def _should_add_parse_error_response(self) -> bool:
        return False  # a malformed body is documented as the 400 validation_error

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413":
            return self._has_body() and status_code not in responses
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
        # Role checks guard every write to an existing project, member or task, and a
        # personal access token without the scope a method needs is refused wherever it is
        # accepted: any authenticated operation may answer 403.
        return self._should_add_http401_error_response()

    def _should_add_http415_error_response(self) -> bool:
        return self._has_body()

    def _should_add_validation_error_response(self) -> bool:
        # `page` and `page_size` are validated too, and so is an `Idempotency-Key` header,
        # on a POST without a body as well (ping, rotate-secret, redeliver).
        return (
            super()._should_add_validation_error_response()
            or self._is_paginated_list()
            or self._is_idempotent_create()
        )


# OpenAPI links: how one operation's response feeds the next. They document the flows for
# readers and generated clients, and let schemathesis's stateful phase reach the member and
# token endpoints with real ids and tokens instead of guessing them.
LINKS = {
    ("/api/v1/auth/login/", "post", "200"): {
        "RefreshTheTokens": {
            "operationId": "auth_refresh_create",
            "requestBody": {"refresh": "$response.body#/refresh"},
        },
        "LogOut": {
            "operationId": "auth_logout_create",
            "requestBody": {"refresh": "$response.body#/refresh"},
        },
    },
    ("/api/v1/projects/{project_pk}/members/", "post", "201"): {
        "ChangeTheRole": {
            "operationId": "projects_members_partial_update",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "user_id": "$response.body#/user/id",
            },
        },
        "RemoveTheMember": {
            "operationId": "projects_members_destroy",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "user_id": "$response.body#/user/id",
            },
        },
    },
    ("/api/v1/projects/", "post", "201"): {
        "AddAWebhook": {
            "operationId": "projects_webhooks_create",
            "parameters": {"project_pk": "$response.body#/id"},
        },
    },
    ("/api/v1/projects/{project_pk}/webhooks/", "post", "201"): {
        "GetTheWebhook": {
            "operationId": "projects_webhooks_retrieve",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "id": "$response.body#/id",
            },
        },
        "UpdateTheWebhook": {
            "operationId": "projects_webhooks_partial_update",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "id": "$response.body#/id",
            },
        },
        "PingTheWebhook": {
            "operationId": "projects_webhooks_ping_create",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "id": "$response.body#/id",
            },
        },
        "RotateTheSecret": {
            "operationId": "projects_webhooks_rotate_secret_create",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "id": "$response.body#/id",
            },
        },
        "ReadTheDeliveries": {
            "operationId": "projects_webhooks_deliveries_list",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "webhook_pk": "$response.body#/id",
            },
        },
        "DeleteTheWebhook": {
            "operationId": "projects_webhooks_destroy",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "id": "$response.body#/id",
            },
        },
    },
    ("/api/v1/projects/{project_pk}/webhooks/{id}/ping/", "post", "202"): {
        "DeliverTheEventAgain": {
            "operationId": "projects_webhooks_deliveries_redeliver_create",
            "parameters": {
                "project_pk": "$request.path.project_pk",
                "webhook_pk": "$request.path.id",
                "id": "$response.body#/id",
            },
        },
    },
}


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the LINKS above, on their responses."""
    for (path, method, status), links in LINKS.items():
        response = result["paths"][path][method]["responses"][status]
        response.setdefault("links", {}).update(links)
    return result


def require_bodies_with_required_fields(result, generator, request, public):
    """drf-spectacular postprocessing hook: a request body whose inline schema requires a
    field is itself required. drf-spectacular leaves a body given as a plain schema optional
    (a PATCH that requires its one field, as `PATCH members/{user_id}/` requires `role`)."""
    for operations in result["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body is None:
                continue
            schemas = [content.get("schema", {}) for content in body.get("content", {}).values()]
            if any(schema.get("required") for schema in schemas):
                body["required"] = True
    return result
