from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are made by the writes that concern their recipients, and
    read by them (an operator changing them would tell users something nobody did). Find a
    user's with `?recipient=<id>` or by their exact email."""

    list_display = ["id", "recipient", "verb", "actor", "project", "task", "created_at", "read_at"]
    list_filter = ["verb", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient", "actor", "project__owner", "task"]
    search_fields = ["=recipient__email"]
    fields = [
        "recipient",
        "verb",
        "actor",
        "project",
        "task",
        "comment",
        "created_at",
        "read_at",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
