"""The messages accounts send, in plain text, through core.mail.

Every message carries its token on a line of its own, `Token: <token>`, for a client without
a web front end (or a test) to read; with FRONTEND_URL set, also a link to the front end's page
for it (`/reset-password?token=...`, `/verify-email?token=...`).
"""

from urllib.parse import urlencode

from django.conf import settings

from accounts.models import EmailTokenKind, User
from core import mail

FRONTEND_PAGES = {
    EmailTokenKind.PASSWORD_RESET: "/reset-password",
    EmailTokenKind.EMAIL_VERIFY: "/verify-email",
}


def token_lines(kind: str, token: str) -> str:
    lines = f"Token: {token}\n"
    if settings.FRONTEND_URL:
        lines += f"\n{settings.FRONTEND_URL}{FRONTEND_PAGES[kind]}?{urlencode({'token': token})}\n"
    return lines


def _send(user: User, kind: str, subject: str, body: str, to: str | None = None) -> None:
    mail.send(to=to or user.email, subject=subject, body=body, kind=kind, user_id=user.pk)


def send_password_reset(user: User, token: str) -> None:
    body = (
        "Someone asked to reset the password of your Tasklane account. If it was you, use\n"
        "this token within an hour to choose a new password:\n\n"
        f"{token_lines(EmailTokenKind.PASSWORD_RESET, token)}\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )
    _send(user, EmailTokenKind.PASSWORD_RESET, "Reset your Tasklane password", body)


def send_email_verification(user: User, token: str) -> None:
    body = (
        "Welcome to Tasklane. Confirm that this address is yours with this token:\n\n"
        f"{token_lines(EmailTokenKind.EMAIL_VERIFY, token)}\n"
        "If you did not create a Tasklane account, ignore this message.\n"
    )
    _send(user, EmailTokenKind.EMAIL_VERIFY, "Confirm your email address for Tasklane", body)
