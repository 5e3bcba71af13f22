"""Single-use tokens sent by email: password reset, email verification (and the flows that
will reuse them: email change, invitations).

A token is 32 random bytes (256 bits), URL-safe base64 (43 characters). Only its SHA-256 hash
is stored (`EmailToken.token_hash`), so a database leak reveals no usable token. Each has a
kind, and is good only for that kind, once, until it expires: an hour for a password reset,
EMAIL_TOKEN_TTL seconds (default a day) for the others. A bad, expired, used or foreign-kind
token gets the same 400 on `token`: the answer tells nothing about which.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import EmailToken, EmailTokenKind, User
from core.exceptions import Invalid

PASSWORD_RESET_TTL = timedelta(seconds=3600)
TOKEN_MAX_LENGTH = 128
BAD_TOKEN = "This token is invalid, expired or already used."


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime(kind: str) -> timedelta:
    if kind == EmailTokenKind.PASSWORD_RESET:
        return PASSWORD_RESET_TTL
    return timedelta(seconds=settings.EMAIL_TOKEN_TTL)


def issue(*, user: User, kind: str, email: str | None = None) -> str:
    """A new token of `kind` for `user`, sent to `email` (default: theirs); returns the token,
    which exists nowhere else once the message is sent."""
    token = new_token()
    moment = timezone.now()
    EmailToken.objects.create(
        user=user,
        kind=kind,
        email=email or user.email,
        token_hash=hash_token(token),
        created_at=moment,
        expires_at=moment + lifetime(kind),
    )
    return token


def bad_token() -> Invalid:
    return Invalid(BAD_TOKEN, code="invalid", attr="token")


def _live(kind: str):
    return EmailToken.objects.filter(kind=kind, used_at__isnull=True, expires_at__gt=timezone.now())


def find(token: str, *, kind: str) -> EmailToken:
    """The live token of `kind` (with its user), or the 400; uses nothing."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise bad_token()
    found = _live(kind).select_related("user").filter(token_hash=hash_token(token)).first()
    if found is None or not found.user.is_active:
        raise bad_token()
    return found


def consume(token: str, *, kind: str) -> EmailToken:
    """Use the token: in the caller's transaction, locked, so two requests with one token
    cannot both succeed. The user's other live tokens of that kind are used up too (an older
    reset link must not work after a reset)."""
    found = find(token, kind=kind)
    locked = _live(kind).select_for_update().filter(pk=found.pk).first()
    if locked is None:  # used by a concurrent request since `find`
        raise bad_token()
    _live(kind).filter(user_id=found.user_id).update(used_at=timezone.now())
    return found
