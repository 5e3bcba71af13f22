"""The Celery application: `celery -A config worker --beat` (Procfile's `worker:` line).

Its settings are the `CELERY_*` names in config/settings.py; the tasks live in the apps
(webhooks/tasks.py) and are found by autodiscovery.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tasklane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule(sender, **kwargs):
    from django.conf import settings  # noqa: PLC0415 - read once Django is set up

    sender.add_periodic_task(settings.WEBHOOKS_SWEEP_INTERVAL, sender.signature("webhooks.sweep"))
    sender.add_periodic_task(3600.0, sender.signature("webhooks.purge"))
