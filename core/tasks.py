"""The core app's Celery tasks, for autodiscovery (config/celery.py): sending email."""

from core.mail import send_email

__all__ = ["send_email"]
