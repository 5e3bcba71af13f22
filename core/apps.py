from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing that no domain owns."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        # Registers the checks and connects the request log's receivers once apps are ready.
        from core import checks, request_log  # noqa: F401, PLC0415
