"""What every Tasklane ModelAdmin shares: its writes go through the services, and a service's
refusal is shown on the page, never a 500.

Django's admin saves and deletes rows itself, which would skip every rule the API enforces,
record no activity and send no event. Each ModelAdmin therefore calls its app's services in
`save_model`, `delete_model` and `delete_queryset`, and its forms check the same rules first
so that an error shows on the field it concerns. This base class is the rest:

- a refusal a service still raises (a rule the form could not see, or a concurrent change
  since the form was checked) rolls the whole request back and becomes an error message on
  the page the operator came from;
- `check_delete(obj)` names what may not be deleted (an Inbox, the owner's membership): the
  change page offers no Delete button for it, its delete page answers with the reason, and a
  bulk delete that includes it lists it as protected and deletes nothing;
- bulk deletes run one service call per row, all in one transaction.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from core.exceptions import DomainError


def describe(error: DomainError) -> str:
    """A service's refusal in one sentence, however many problems it names."""
    return " ".join(error.messages)


def form_error(form, error: DomainError, field: str | None = None) -> None:
    """Show a service's refusal on the form, on `field` (None: above the form)."""
    form.add_error(field, describe(error))


def copy_saved(target, saved) -> None:
    """Copy the row a service saved onto the admin's own instance, which the admin goes on
    with (messages, history, inlines, redirect)."""
    for field in type(saved)._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class ServiceModelAdmin(admin.ModelAdmin):
    def check_delete(self, obj) -> None:
        """Raise the service's refusal if `obj` may not be deleted at all."""

    def delete_refusal(self, obj) -> str | None:
        try:
            self.check_delete(obj)
        except DomainError as error:
            return describe(error)
        return None

    def _change_url(self, object_id) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[object_id],
            current_app=self.admin_site.name,
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # rolled back by the view's transaction
            self.message_user(request, describe(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.delete_refusal(obj) is not None:
            context["show_delete"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        refusal = obj is not None and self.delete_refusal(obj)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(self._change_url(object_id))
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, describe(error), messages.ERROR)
            return HttpResponseRedirect(self._change_url(object_id))

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as error:  # from an action; delete_queryset rolled back
            self.message_user(request, describe(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        refused = [
            f"{obj}: {refusal}" for obj in objs if (refusal := self.delete_refusal(obj)) is not None
        ]
        return deleted, model_count, perms_needed, [*protected, *refused]

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.delete_model(request, obj)
