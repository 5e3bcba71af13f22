from django.contrib import admin

from projects.models import Activity, Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_inbox", "created_at", "updated_at"]
    list_filter = ["is_inbox", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["is_inbox", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "joined_at"]
    list_filter = ["role"]
    list_select_related = ["project", "user"]
    search_fields = ["project__name", "user__email"]
    autocomplete_fields = ["project", "user"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """The feed, read-only: history is written by the services and never edited."""

    list_display = ["created_at", "project", "verb", "task_id", "actor"]
    list_filter = ["verb", "created_at"]
    list_select_related = ["project", "actor"]
    search_fields = ["project__name", "actor__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["project", "task_id", "actor", "verb", "changes", "mirror", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
