from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing that no domain owns."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core import checks  # noqa: F401, PLC0415 - registers the checks once apps are ready
