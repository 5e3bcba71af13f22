from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import PersonalAccessToken, User
from accounts.services import (
    personal_token_revoke,
    user_change_password,
    user_create,
    user_deactivate,
    user_end_sessions,
)


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "name", "timezone"]


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class EndSessionsPasswordChangeForm(AdminPasswordChangeForm):
    """A password set by an operator ends the user's sessions, as a change through the API
    does (refresh tokens blacklisted, sockets closed)."""

    def save(self, commit=True):
        if self.cleaned_data.get("set_usable_password", True):
            user_change_password(user=self.user, new_password=self.cleaned_data["password1"])
        else:
            with transaction.atomic():
                super().save(commit=True)
                user_end_sessions(user=self.user)
        return self.user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Django's user admin, keyed by email instead of a username.

    Users are deactivated, never deleted here: deleting one would drop their memberships and
    projects behind the services' backs. Deactivating (the checkbox or the action) ends every
    session the user has: refresh tokens are blacklisted and open sockets closed.
    """

    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    change_password_form = EndSessionsPasswordChangeForm
    actions = ["deactivate"]
    show_full_result_count = False
    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "timezone",
        "email_verified",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "email_verified"]
    search_fields = ["email", "name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "email_verified", "password"]}),
        ("Profile", {"fields": ["name", "timezone"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.email_verified = True  # the operator vouches for the address
            user_create(user=obj)  # with the new user's Inbox
            return
        super().save_model(request, obj, form, change)
        if "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Deactivate selected users (ends their sessions)")
    def deactivate(self, request, queryset):
        with transaction.atomic():
            users = list(queryset.filter(is_active=True))
            for user in users:
                user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(users)} user(s).", messages.SUCCESS)

    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "timezone", "password1", "password2"],
            },
        )
    ]


admin.site.unregister(BlacklistedToken)


@admin.register(BlacklistedToken)
class ReadOnlyBlacklistedTokenAdmin(BlacklistedTokenAdmin):
    """simplejwt's list, read-only: deleting an entry would make a revoked token work again."""

    actions = None
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    """Operators see who has which token and when it was last used, never a secret or a
    hash (only the prefix, to match a token reported by a secret scanner). Tokens are made
    by their users through the API; deleting one here revokes it, as the API's DELETE does
    (sockets opened with it close)."""

    list_display = [
        "name",
        "user",
        "prefix",
        "scopes",
        "project_ids",
        "created_at",
        "expires_at",
        "last_used_at",
    ]
    list_select_related = ["user"]
    list_filter = ["created_at", "expires_at"]
    search_fields = ["name", "prefix", "user__email"]
    fields = list_display
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def delete_model(self, request, obj):
        personal_token_revoke(token=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for token in queryset:
                personal_token_revoke(token=token)
