"""Email: the one way a message leaves Tasklane.

`send` is called inside the write that makes the message (a registration, a reset request).
After the commit, and only then, the message is handed to the Celery worker (`send_email`),
which speaks SMTP to the server EMAIL_URL names; the request never waits for SMTP. The
hand-off itself runs on a thread of its own (`core.background.Lane`), as the webhooks'
wake-up does, so a slow broker never holds a request either.

A message the server does not take (it is down, refuses the connection, answers 4xx) is
retried with exponential backoff and jitter (EMAIL_RETRY_BASE, capped at EMAIL_RETRY_MAX, at
most EMAIL_MAX_RETRIES times: about a day); one it refuses for good (every recipient refused,
a 5xx) is dropped with a log line. Each message gets one log line when it is sent, retried or
dropped: its kind, the user it concerns and the attempt, never its address or body, because
the body carries a token. The exception is `LogEmailBackend`, the stand-in without EMAIL_URL:
in DEBUG it writes the whole message to the log (at WARNING, so `make run`'s worker shows it),
which is how a developer reads the token; outside DEBUG (a deployment that `check --deploy`
already flags) it writes that a message was not sent, and nothing of it.

The message travels through the broker in the task's arguments (it must: the token is
stored only as a hash). Celery logs a task's name and id, not its arguments.
"""

import random
import smtplib

import structlog
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from core.background import Lane

logger = structlog.get_logger("tasklane.email")

# Messages committed but not yet handed to the broker, per process.
handoff = Lane("email-handoff", 1000)


def send(*, to: str, subject: str, body: str, kind: str, user_id: int | None) -> None:
    """Send a plain-text message once the current transaction commits (nothing if it rolls
    back). `kind` and `user_id` name it in the log lines; the address and body never do."""
    message = {"to": to, "subject": subject, "body": body, "kind": kind, "user_id": user_id}
    transaction.on_commit(lambda: handoff.submit(publish, message), robust=True)


def publish(message: dict) -> None:
    try:
        send_email.apply_async(kwargs={"message": message}, retry=False)
    except Exception:  # the broker is down: the message is lost, say so (without it)
        logger.exception("email_not_queued", kind=message["kind"], user_id=message["user_id"])


def retry_delay(attempt: int) -> float:
    """Exponential from EMAIL_RETRY_BASE, capped, with up to 25 % jitter on top."""
    delay = min(settings.EMAIL_RETRY_BASE * 2 ** (attempt - 1), settings.EMAIL_RETRY_MAX)
    return delay * (1 + random.random() / 4)  # noqa: S311 - jitter, not a secret


def permanent(error: Exception) -> bool:
    """Whether the server refused the message for good (retrying would change nothing)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


@shared_task(name="core.send_email", bind=True, ignore_result=True)
def send_email(self, message: dict) -> None:
    """Deliver one message (the worker runs this; tests run it with `apply`)."""
    attempt = self.request.retries + 1
    names = {"kind": message["kind"], "user_id": message["user_id"], "attempt": attempt}
    email = EmailMessage(
        subject=message["subject"],
        body=message["body"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message["to"]],
    )
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as error:
        reason = f"{type(error).__name__}: {getattr(error, 'smtp_code', '')}".rstrip(": ")
        if permanent(error) or attempt > settings.EMAIL_MAX_RETRIES:
            logger.error("email_dropped", reason=reason, **names)
            return
        delay = retry_delay(attempt)
        logger.warning("email_retry", reason=reason, retry_in=round(delay, 1), **names)
        raise self.retry(countdown=delay, max_retries=settings.EMAIL_MAX_RETRIES) from None
    logger.info("email_sent", **names)


class LogEmailBackend(BaseEmailBackend):
    """Without EMAIL_URL: messages go to the log instead of a server (see the module's
    docstring for what is written, in DEBUG and outside it)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            if settings.DEBUG:
                logger.warning(
                    "email_not_sent_written_here",
                    hint="no EMAIL_URL; DEBUG shows the message",
                    to=", ".join(message.to),
                    subject=message.subject,
                    body="\n" + message.body,
                )
            else:
                logger.warning("email_not_sent", reason="EMAIL_URL is not set")
        return len(email_messages)
