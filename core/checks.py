"""System checks that turn a misconfigured deployment into one clear sentence.

Without them a missing PostgreSQL database shows up as seconds of connection-pool retries
and a long traceback that never names the database.
"""

import psycopg
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections


@register(Tags.database)
def database_reachable(app_configs, databases=None, **kwargs):
    """Connect once, without the pool, to every PostgreSQL database the command uses."""
    errors = []
    for alias in databases or []:
        settings = connections[alias].settings_dict
        if settings["ENGINE"] != "django.db.backends.postgresql":
            continue
        where = f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
        try:
            psycopg.connect(
                dbname=settings["NAME"],
                user=settings["USER"] or None,
                password=settings["PASSWORD"] or None,
                host=settings["HOST"] or None,
                port=settings["PORT"] or None,
                connect_timeout=3,
            ).close()
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[-1]
            missing = "does not exist" in reason and f'"{settings["NAME"]}"' in reason
            errors.append(
                Error(
                    f"Cannot use PostgreSQL database {settings['NAME']!r} at {where}: {reason}",
                    hint=(
                        f"Create it first: createdb -h {settings['HOST'] or 'localhost'} "
                        f"-U {settings['USER'] or 'postgres'} {settings['NAME']}"
                        if missing
                        else "Check DATABASE_URL and that PostgreSQL is running."
                    ),
                    id="tasklane.E001",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def email_configured(app_configs, **kwargs):
    """Outside DEBUG, mail must really go out: without EMAIL_URL nobody could verify their
    email or reset a password, and nothing would say so until someone asked."""
    if settings.DEBUG or settings.EMAIL_CONFIGURED:
        return []
    return [
        Error(
            "EMAIL_URL is not set: no email (verification, password reset) can be sent.",
            hint="Set EMAIL_URL to your SMTP server, e.g. smtp+tls://user:password@host:587.",
            id="tasklane.E002",
        )
    ]
