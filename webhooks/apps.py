from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from core import realtime  # noqa: PLC0415
        from webhooks import outbox  # noqa: PLC0415 - models are ready only now

        realtime.add_outbox(outbox.record_event)
