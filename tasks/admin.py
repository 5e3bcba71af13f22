from django.contrib import admin

from tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "project",
        "status",
        "due_date",
        "assignee",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "due_date", "project"]
    list_select_related = ["project", "assignee", "created_by"]
    search_fields = ["title", "description", "project__name", "assignee__email"]
    autocomplete_fields = ["project", "assignee", "created_by"]
    readonly_fields = ["created_at", "updated_at", "completed_at"]
    date_hierarchy = "created_at"
    list_per_page = 50
