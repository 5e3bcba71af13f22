# The Celery app is loaded with Django, so that tasks sent from the web process (a commit
# waking a webhook worker) use its settings.
from config.celery import app as celery_app

__all__ = ("celery_app",)
