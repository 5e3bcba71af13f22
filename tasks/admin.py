from django import forms
from django.contrib import admin
from django.db import transaction

from core.admin import ServiceModelAdmin, copy_saved
from projects.models import Project
from tasks import services
from tasks.models import Task

EDITABLE_FIELDS = ["project", "title", "description", "status", "due_date", "assignee"]


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = EDITABLE_FIELDS

    def clean(self):
        cleaned = super().clean()
        project, assignee = cleaned.get("project"), cleaned.get("assignee")
        if project is not None and not services.assignee_is_member(
            project_id=project.pk, user_id=assignee.pk if assignee else None
        ):
            self.add_error("assignee", services.NOT_A_MEMBER)
        return cleaned


class ProjectFilter(admin.SimpleListFilter):
    """By project, without listing every project (every user has an Inbox): it shows the one
    chosen (`?project=<id>`, linked from the project list); search finds the others."""

    title = "project"
    parameter_name = "project"

    def _project_id(self) -> int | None:
        value = self.value()
        return int(value) if value and value.isdigit() and len(value) < 19 else None

    def lookups(self, request, model_admin):
        if self.value() is None:
            return []  # nothing listed; Django then also skips queryset()
        project_id = self._project_id()
        project = (
            Project.objects.select_related("owner").filter(pk=project_id).first()
            if project_id
            else None
        )
        return [(self.value(), str(project) if project else "No such project")]

    def queryset(self, request, queryset):
        project_id = self._project_id()
        return queryset.filter(project_id=project_id) if project_id else queryset.none()


@admin.register(Task)
class TaskAdmin(ServiceModelAdmin):
    """Tasks, written through tasks.services like the API: the assignee must be a member, the
    operator is the actor of the activity entry, and the event goes out on commit."""

    form = TaskAdminForm
    fields = [*EDITABLE_FIELDS, "created_by", "created_at", "updated_at", "completed_at"]
    readonly_fields = ["created_by", "created_at", "updated_at", "completed_at"]
    list_display = [
        "title",
        "project",
        "status",
        "due_date",
        "assignee",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "due_date", ProjectFilter]
    list_select_related = ["project__owner", "assignee", "created_by"]
    search_fields = [
        "title",
        "description",
        "project__name",
        "project__owner__email",
        "assignee__email",
    ]
    search_help_text = "Title, description, project name, project owner's or assignee's email."
    autocomplete_fields = ["project", "assignee"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        if change:
            data = {field: form.cleaned_data[field] for field in form.changed_data}
            saved = services.task_edit(task=obj, actor=request.user, data=data)
        else:
            data = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
            saved = services.task_create(actor=request.user, data=data)
        copy_saved(obj, saved)

    def delete_model(self, request, obj):
        services.task_delete(task=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        """A task's deletion takes its subtasks along: one selected with its parent may be
        gone by its turn."""
        with transaction.atomic():
            deleted: set[int] = set()
            for task in queryset:
                if task.pk not in deleted:
                    deleted.update(services.task_delete(task=task, actor=request.user))
