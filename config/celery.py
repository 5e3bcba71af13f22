"""The Celery application: `celery -A config worker --beat` (Procfile's `worker:` line).

Its settings are the `CELERY_*` names in config/settings.py; the tasks live in the apps
(webhooks/tasks.py, notifications/tasks.py) and are found by autodiscovery.
"""

import os
import signal

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tasklane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule(sender, **kwargs):
    from django.conf import settings  # noqa: PLC0415 - read once Django is set up

    sender.add_periodic_task(settings.WEBHOOKS_SWEEP_INTERVAL, sender.signature("webhooks.sweep"))
    sender.add_periodic_task(3600.0, sender.signature("webhooks.purge"))
    sender.add_periodic_task(3600.0, sender.signature("notifications.purge"))
    sender.add_periodic_task(3600.0, sender.signature("accounts.purge_email_tokens"))


@worker_process_init.connect
def leave_sigterm_to_the_main_process(**kwargs):
    """A platform stopping the worker (Render, Heroku, `make run`'s Ctrl-C) sends SIGTERM to
    every process, the pool's children included. Celery's children die of it at once, and the
    main process then logs an ERROR for each ("Process 'ForkPoolWorker-1' exited with 'signal
    15 (SIGTERM)'"), though nothing went wrong. The children ignore it, as Celery already has
    them ignore SIGINT: the main process's warm shutdown lets each finish its delivery (bounded
    by WEBHOOKS_TIMEOUT), then stops them; the platform's SIGKILL stays the last word."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
