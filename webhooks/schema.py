"""The OpenAPI documentation of the webhook and delivery endpoints, applied in webhooks/views.py
with one decorator line per viewset or action."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from webhooks.serializers import (
    SECRET_EXAMPLE,
    WEBHOOK_EXAMPLE,
    DeliverySerializer,
    WebhookWithSecretSerializer,
)

TAG = "webhooks"
ADMINS_ONLY = "The project's owner or an admin (members 403)."
WITH_SECRET_EXAMPLE = OpenApiExample(
    "Webhook with its secret", value={**WEBHOOK_EXAMPLE, "secret": SECRET_EXAMPLE}
)

webhook_schema = extend_schema_view(
    list=extend_schema(tags=[TAG], summary="List a project's webhooks", description=ADMINS_ONLY),
    create=extend_schema(
        tags=[TAG],
        summary="Create a webhook",
        description=(
            f"{ADMINS_ONLY} Events of the project are POSTed to `url` as Standard Webhooks "
            "requests signed with the `secret`, which this response shows once."
        ),
        responses={201: WebhookWithSecretSerializer},
        examples=[WITH_SECRET_EXAMPLE],
    ),
    retrieve=extend_schema(tags=[TAG], summary="Get a webhook", description=ADMINS_ONLY),
    partial_update=extend_schema(
        tags=[TAG],
        summary="Update a webhook",
        description=(
            f"{ADMINS_ONLY} Setting `is_active` back to true clears `disabled_reason` and "
            "delivers what waited."
        ),
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="Delete a webhook",
        description=f"{ADMINS_ONLY} Its pending deliveries are dropped.",
    ),
)

webhook_rotate_secret_schema = extend_schema(
    tags=[TAG],
    summary="Rotate a webhook's secret",
    description=(
        f"{ADMINS_ONLY} A new secret, shown once. Deliveries are signed with it, and for "
        "24 hours also with the old one (two signatures in `webhook-signature`), so "
        "receivers can switch without missing one."
    ),
    request=None,
    responses={200: WebhookWithSecretSerializer},
    examples=[WITH_SECRET_EXAMPLE],
)

webhook_ping_schema = extend_schema(
    tags=[TAG],
    summary="Send a ping event",
    description=(
        f"{ADMINS_ONLY} Queues a `ping` event for this webhook (behind its other "
        "deliveries); the answer is the queued delivery."
    ),
    request=None,
    responses={202: DeliverySerializer},
)

delivery_schema = extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="A webhook's deliveries",
        description=f"{ADMINS_ONLY} The delivery log, newest first.",
    ),
)

delivery_redeliver_schema = extend_schema(
    tags=[TAG],
    summary="Deliver an event again",
    description=(
        f"{ADMINS_ONLY} Queues the delivery's event again, with the same `webhook-id`; "
        "the answer is the new delivery."
    ),
    request=None,
    responses={202: DeliverySerializer},
)
