"""Operators' view of webhooks: switch one off or on, read the delivery log with each
attempt's answer and error, deliver again. The URL and events are the project admins' (over
the API, where the URL is checked); the secret is never shown."""

from django.contrib import admin

from webhooks import services
from webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "url", "project", "is_active", "consecutive_failures", "updated_at"]
    list_filter = ["is_active"]
    list_select_related = ["project__owner"]
    search_fields = ["url", "description"]
    fields = [
        "project",
        "url",
        "events",
        "description",
        "is_active",
        "disabled_reason",
        "consecutive_failures",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "project",
        "url",
        "events",
        "disabled_reason",
        "consecutive_failures",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False  # created over the API, where the URL is checked

    def save_model(self, request, obj, form, change):
        services.webhook_update(
            webhook=obj,
            data={field: form.cleaned_data[field] for field in form.changed_data},
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "webhook",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["webhook", "event"]
    search_fields = ["event__id", "webhook__url"]
    readonly_fields = [
        "webhook",
        "event",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "duration_ms",
        "response_body",
        "error",
        "next_attempt_at",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["redeliver"]

    @admin.display(description="event type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.action(description="Deliver the selected events again")
    def redeliver(self, request, queryset):
        for delivery in queryset.select_related("event", "webhook"):
            services.delivery_redeliver(delivery=delivery)
        self.message_user(request, f"{queryset.count()} deliveries queued again.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
