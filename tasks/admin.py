from django import forms
from django.contrib import admin
from django.db import transaction

from core.admin import ServiceModelAdmin, copy_saved
from projects.admin import ProjectAdmin
from projects.models import Project
from tasks import comments, services
from tasks.models import MAX_LABELS_PER_TASK, MAX_MENTIONS, Comment, Label, Task
from tasks.serializers import CommentWriteSerializer, LabelSerializer

EDITABLE_FIELDS = ["project", "title", "description", "status", "due_date", "assignee"]


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = [*EDITABLE_FIELDS, "labels"]

    def clean(self):
        cleaned = super().clean()
        project, assignee = cleaned.get("project"), cleaned.get("assignee")
        if project is not None and not services.assignee_is_member(
            project_id=project.pk, user_id=assignee.pk if assignee else None
        ):
            self.add_error("assignee", services.NOT_A_MEMBER)
        labels = cleaned.get("labels")
        if labels is not None and project is not None:
            if len(labels) > MAX_LABELS_PER_TASK:
                self.add_error("labels", services.TOO_MANY_TASK_LABELS)
            elif any(label.project_id != project.pk for label in labels):
                self.add_error("labels", services.NO_SUCH_LABEL)
        return cleaned


def label_data(data: dict) -> dict:
    """The admin's `labels` (Label objects) as the services' `label_ids`."""
    if "labels" not in data:
        return data
    data = dict(data)
    data["label_ids"] = [label.pk for label in data.pop("labels")]
    return data


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


# --- comments (inline on the task's page) ----------------------------------------------------


class CommentAdminForm(forms.ModelForm):
    """The API's rules for a comment: the body trimmed, 1-10,000 characters, no NUL (the
    serializer's own checks), at most MAX_MENTIONS mentions, each a member of the task's
    project (checked again by the services under their locks)."""

    class Meta:
        model = Comment
        fields = ["body", "mentions"]

    def clean(self):
        cleaned = super().clean()
        if "body" in cleaned:
            checked = CommentWriteSerializer(data={"body": cleaned["body"]}, partial=True)
            if checked.is_valid():
                cleaned["body"] = checked.validated_data["body"]
            else:
                self.add_error("body", checked.errors["body"])
        mentions = cleaned.get("mentions")
        task = self.instance.task if self.instance.task_id else None
        if mentions is not None and len(mentions) > MAX_MENTIONS:
            self.add_error("mentions", comments.TOO_MANY_MENTIONS)
        elif mentions and task is not None:
            members = set(
                task.project.memberships.filter(user__in=mentions).values_list("user_id", flat=True)
            )
            if any(user.pk not in members for user in mentions):
                self.add_error("mentions", comments.NO_SUCH_MENTION)
        return cleaned


class CommentInline(admin.StackedInline):
    """A task's comments on its page, written through tasks.comments like the API's: a new
    comment's author is the operator; events and notifications go out on commit."""

    model = Comment
    form = CommentAdminForm
    extra = 0
    fields = ["body", "mentions", "author", "created_at", "updated_at"]
    readonly_fields = ["author", "created_at", "updated_at"]
    autocomplete_fields = ["mentions"]


def _comment_data(form) -> dict:
    """What the comment form changed, as the comment services take it."""
    data = {}
    if "body" in form.changed_data:
        data["body"] = form.cleaned_data["body"]
    if "mentions" in form.changed_data:
        data["mention_ids"] = [user.pk for user in form.cleaned_data["mentions"]]
    return data


def save_comments(request, task: Task, formset) -> None:
    """The comment inline's rows through the comment services (never the formset's own
    save): the operator writes as themselves, member of the project or not."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    deleted = set(formset.deleted_forms)
    for form in formset.forms:
        comment = form.instance
        if form in deleted:
            if comment.pk is not None:
                comments.comment_delete(comment=comment, actor=request.user, as_member=False)
                formset.deleted_objects.append(comment)
        elif comment.pk is None and form.has_changed():
            mentions = form.cleaned_data.get("mentions") or []
            formset.new_objects.append(
                comments.comment_create(
                    task=task,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    mention_ids=[user.pk for user in mentions],
                    as_member=False,
                )
            )
        elif comment.pk is not None and form.changed_data:
            comments.comment_edit(
                comment=comment, actor=request.user, data=_comment_data(form), as_member=False
            )
            formset.changed_objects.append((comment, form.changed_data))


@admin.register(Task)
class TaskAdmin(ServiceModelAdmin):
    """Tasks, written through tasks.services like the API: the assignee must be a member, the
    operator is the actor of the activity entry, and the event goes out on commit."""

    form = TaskAdminForm
    fields = [*EDITABLE_FIELDS, "labels", "created_by", "created_at", "updated_at", "completed_at"]
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
    autocomplete_fields = ["project", "assignee", "labels"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    inlines = [CommentInline]

    def save_model(self, request, obj, form, change):
        if change:
            data = {field: form.cleaned_data[field] for field in form.changed_data}
            saved = services.task_edit(task=obj, actor=request.user, data=label_data(data))
        else:
            data = {field: form.cleaned_data[field] for field in [*EDITABLE_FIELDS, "labels"]}
            saved = services.task_create(actor=request.user, data=label_data(data))
        copy_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        """The labels were set by the service (save_model): the form's own m2m save would
        write them again, past the rules."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Comment:
            return save_comments(request, form.instance, formset)
        return super().save_formset(request, form, formset, change)

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


# --- labels ---------------------------------------------------------------------------------


class LabelAdminForm(forms.ModelForm):
    """The API's rules for a label's name and color (trimmed, 1-50 characters; `#rrggbb`,
    lower-cased); the uniqueness of the name and the cap are the services'."""

    class Meta:
        model = Label
        fields = ["project", "name", "color"]

    def clean(self):
        cleaned = super().clean()
        given = {name: cleaned[name] for name in ("name", "color") if cleaned.get(name)}
        checked = LabelSerializer(data=given, partial=self.instance.pk is not None)
        if not checked.is_valid():
            for field, errors in checked.errors.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            cleaned.update(checked.validated_data)
        return cleaned


def _label_write(request, label: Label, form, *, project: Project | None = None) -> Label:
    data = {
        name: form.cleaned_data[name] for name in ("name", "color") if name in form.cleaned_data
    }
    if label.pk is None:
        return services.label_create(
            actor=request.user, project=project or form.cleaned_data["project"], data=data
        )
    changed = {name: value for name, value in data.items() if name in form.changed_data}
    return services.label_update(actor=request.user, label=label, data=changed)


@admin.register(Label)
class LabelAdmin(ServiceModelAdmin):
    """Labels, written through tasks.services like the API: names unique in a project
    ignoring case, at most 200 per project, a deletion takes the label off its tasks."""

    form = LabelAdminForm
    list_display = ["name", "color", "project", "created_at"]
    list_select_related = ["project__owner"]
    search_fields = ["name", "project__name"]
    search_help_text = "Label or project name."
    autocomplete_fields = ["project"]
    readonly_fields = ["created_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "project"] if obj is not None else readonly

    def save_model(self, request, obj, form, change):
        copy_saved(obj, _label_write(request, obj, form))

    def delete_model(self, request, obj):
        services.label_delete(actor=request.user, label=obj)


class LabelInline(admin.TabularInline):
    """A project's labels on its page, written through the label services."""

    model = Label
    form = LabelAdminForm
    extra = 0
    fields = ["name", "color", "created_at"]
    readonly_fields = ["created_at"]


class ProjectWithLabelsAdmin(ProjectAdmin):
    """The project admin with its labels inline: registered here, since projects may not
    import tasks (import-linter's layers)."""

    inlines = [*ProjectAdmin.inlines, LabelInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Label:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = set(formset.deleted_forms)
        for label_form in formset.forms:
            label = label_form.instance
            if label_form in deleted:
                if label.pk is not None:
                    services.label_delete(actor=request.user, label=label)
                    formset.deleted_objects.append(label)
            elif label.pk is None and label_form.has_changed():
                formset.new_objects.append(
                    _label_write(request, label, label_form, project=form.instance)
                )
            elif label.pk is not None and label_form.changed_data:
                _label_write(request, label, label_form)
                formset.changed_objects.append((label, label_form.changed_data))
        return None


admin.site.unregister(Project)  # registered by projects.admin, imported above
admin.site.register(Project, ProjectWithLabelsAdmin)
