from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"


class AdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with Tasklane's site (INSTALLED_APPS names this instead)."""

    default = False  # not a candidate for the `accounts` app's own config
    default_site = "accounts.admin_site.AdminSite"
