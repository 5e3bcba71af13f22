from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ServiceModelAdmin, copy_saved, form_error
from core.exceptions import DomainError
from projects import services
from projects.models import Activity, Membership, Project, Role
from projects.serializers import MEMBER_ROLES, TransferSerializer

# --- memberships ----------------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    """A new member gets `admin`, `member` or `viewer` (the owner is made by creating or
    transferring the project); an existing row changes only its role, through
    member_change_role (a change to viewer unassigns their tasks), and the owner's row not at
    all."""

    class Meta:
        model = Membership
        fields = ["project", "user", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = self.instance.pk is not None
        if existing:
            for name in ("project", "user"):
                if name in self.fields:
                    # The row as it is, without an autocomplete lookup per row.
                    current = getattr(self.instance, name)
                    self.fields[name].widget = forms.Select(choices=[(current.pk, str(current))])
                    self.fields[name].disabled = True
        role = self.fields.get("role")
        if role is not None:
            if existing and self.instance.role == Role.OWNER:
                role.disabled = True
            else:
                role.choices = [choice for choice in Role.choices if choice[0] in MEMBER_ROLES]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            return cleaned
        project, user = cleaned.get("project"), cleaned.get("user")
        if project is not None:
            try:
                services.ensure_not_inbox(project, "shared")
            except DomainError as error:
                inline = isinstance(self.fields["project"], InlineForeignKeyField)
                form_error(self, error, None if inline else "project")
        if user is not None and not user.is_active:
            self.add_error("user", "An inactive user cannot be added to a project.")
        return cleaned


class MembershipInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.pk is not None and form.instance.role == Role.OWNER:
            form.fields["DELETE"].disabled = True  # the owner's row stays


class MembershipInline(admin.TabularInline):
    """A project's members, changed through the member services when the project is saved."""

    model = Membership
    form = MembershipForm
    formset = MembershipInlineFormSet
    extra = 0
    fields = ["user", "role", "joined_at"]
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return (obj is None or not obj.is_inbox) and super().has_add_permission(request, obj)


def save_membership_formset(request, project: Project, formset) -> None:
    """Apply an inline's rows through the services, and tell the admin's history what changed
    (it reads what `formset.save()` would have set)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    deleted = set(formset.deleted_forms)
    for form in formset.initial_forms:
        membership = form.instance
        if form in deleted:
            services.member_remove(membership=membership, actor=request.user)
            formset.deleted_objects.append(membership)
        elif "role" in form.changed_data:
            services.member_change_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
            formset.changed_objects.append((membership, ["role"]))
    for form in formset.extra_forms:
        if form.has_changed() and form not in deleted:
            formset.new_objects.append(
                services.member_add(
                    project=project,
                    user=form.cleaned_data["user"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                )
            )


# --- projects -------------------------------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "owner"]

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        project = self.instance
        if project.pk is None or owner.pk == project.owner_id:
            return owner
        try:
            services.ensure_not_inbox(project, "transferred")
        except DomainError as error:
            form_error(self, error, "owner")
            return owner
        transfer = TransferSerializer(data={"user_id": owner.pk}, context={"project": project})
        if not transfer.is_valid():
            self.add_error("owner", transfer.errors["user_id"])
        return owner


@admin.register(Project)
class ProjectAdmin(ServiceModelAdmin):
    """Projects, written through projects.services like the API: a new owner is a transfer to
    a member, an Inbox is neither deleted, transferred nor shared, and members are added,
    changed and removed by the member services (a removed member's tasks are unassigned)."""

    form = ProjectAdminForm
    fields = ["name", "description", "owner", "is_inbox", "created_at", "updated_at"]
    list_display = ["__str__", "owner", "is_inbox", "created_at", "updated_at", "tasks_link"]
    list_filter = ["is_inbox", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__email"]
    search_help_text = "Project name or owner's email."
    autocomplete_fields = ["owner"]
    readonly_fields = ["is_inbox", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]
    show_full_result_count = False

    def get_queryset(self, request):
        # The owner names an Inbox (Project.__str__), here and in autocomplete results.
        return super().get_queryset(request).select_related("owner")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # members are added once it exists

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "owner"] if obj is not None and obj.is_inbox else readonly

    @admin.display(description="Tasks")
    def tasks_link(self, project):
        return format_html(
            '<a href="{}?project={}">Tasks</a>', reverse("admin:tasks_task_changelist"), project.pk
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.project_create(
                owner=data["owner"],
                name=data["name"],
                description=data["description"],
                actor=request.user,
            )
            copy_saved(obj, saved)
            return
        current = Project.objects.get(pk=obj.pk)  # as it was before this form
        changes = {
            field: data[field] for field in ("name", "description") if field in form.changed_data
        }
        if changes:
            services.project_update(project=current, actor=request.user, data=changes)
        if "owner" in form.changed_data:
            services.project_transfer(project=current, new_owner=data["owner"], actor=request.user)
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_membership_formset(request, form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def check_delete(self, obj):
        services.ensure_not_inbox(obj, "deleted")

    def delete_model(self, request, obj):
        services.project_delete(project=obj, actor=request.user)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The feed goes with its project (project_delete); on its own it stays read-only.
        perms_needed.discard(Activity._meta.verbose_name)
        return deleted, model_count, perms_needed, protected


@admin.register(Membership)
class MembershipAdmin(ServiceModelAdmin):
    """Memberships through the member services: adding, changing a role and removing record
    activity, send events and update the member's sockets; the owner's row stays."""

    form = MembershipForm
    list_display = ["project", "user", "role", "joined_at"]
    list_filter = ["role"]
    list_select_related = ["project__owner", "user"]
    search_fields = ["project__name", "project__owner__email", "user__email"]
    search_help_text = "Project name, project owner's or member's email."
    autocomplete_fields = ["project", "user"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["joined_at"]
        return ["project", "user", "joined_at"] + (["role"] if obj.role == Role.OWNER else [])

    def save_model(self, request, obj, form, change):
        if change:
            if "role" in form.changed_data:
                services.member_change_role(
                    membership=obj, role=form.cleaned_data["role"], actor=request.user
                )
            return
        saved = services.member_add(
            project=form.cleaned_data["project"],
            user=form.cleaned_data["user"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
        copy_saved(obj, saved)

    def check_delete(self, obj):
        services.ensure_not_owner_row(obj, "removed")

    def delete_model(self, request, obj):
        services.member_remove(membership=obj, actor=request.user)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """The feed, read-only: history is written by the services and never edited."""

    list_display = ["created_at", "project", "verb", "task_id", "actor"]
    list_filter = ["verb", "created_at"]
    list_select_related = ["project__owner", "actor"]
    search_fields = ["project__name", "actor__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["project", "task_id", "actor", "verb", "changes", "mirror", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
