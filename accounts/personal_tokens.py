"""Personal access tokens: the secret's format, its lookup, and what a token limits.

A secret is `tl_pat_` + 32 random base62 characters + a 6-character CRC32 checksum of them
(the scheme GitHub uses for its tokens). The fixed prefix and length let secret scanners find
a leaked token with few false positives; the checksum lets them, and this module, refuse a
mistyped or made-up token without a database query.

The authentication classes (REST and the WebSocket) attach the token they accepted to the
user object of the request (`user.personal_token`), so that code which is given only the
user — the selectors that scope every query to the caller's projects — can apply the token's
project limit (`project_limit`).
"""

import hashlib
import re
import secrets
import string
import zlib
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import PersonalAccessToken, Scope, User

PREFIX = "tl_pat_"
ALPHABET = string.digits + string.ascii_letters  # base62: no character a URL must escape
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
SECRET_PATTERN = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")
SHOWN_PREFIX_LENGTH = len(PREFIX) + 4
# `last_used_at` is written at most this often per token: a conditional UPDATE, skipped (no
# query at all) while the value read with the token is recent enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class PersonalTokenInvalid(Exception):
    """Not a token of ours, revoked, or its user is no longer active."""


class PersonalTokenExpired(PersonalTokenInvalid):
    pass


def is_personal_token(raw: str | None) -> bool:
    """Whether a credential claims to be a personal access token (by its prefix)."""
    return isinstance(raw, str) and raw.startswith(PREFIX)


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode()), CHECKSUM_LENGTH)


def new_secret() -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{PREFIX}{random_part}{_checksum(random_part)}"


def well_formed(raw: str) -> bool:
    if not SECRET_PATTERN.fullmatch(raw):
        return False
    random_part = raw[len(PREFIX) : len(PREFIX) + RANDOM_LENGTH]
    return raw[-CHECKSUM_LENGTH:] == _checksum(random_part)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def shown_prefix(raw: str) -> str:
    return raw[:SHOWN_PREFIX_LENGTH]


def authenticate_personal_token(raw: str) -> PersonalAccessToken:
    """The token this secret names, with its user, if it may be used now.

    One query (the token joined to its user), plus a conditional UPDATE of `last_used_at` at
    most once a minute. The returned token's user carries it as `user.personal_token`.
    Raises PersonalTokenExpired or PersonalTokenInvalid.
    """
    if not well_formed(raw):
        raise PersonalTokenInvalid()
    token = (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=hash_secret(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        raise PersonalTokenInvalid()
    moment = timezone.now()
    if token.expires_at <= moment:
        raise PersonalTokenExpired()
    _touch(token, moment)
    token.user.personal_token = token
    return token


def _touch(token: PersonalAccessToken, moment) -> None:
    stale = moment - LAST_USED_PRECISION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # Conditional, so that concurrent requests with one token write it once.
    PersonalAccessToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=moment)
    token.last_used_at = moment


def personal_token_of(user: User | None) -> PersonalAccessToken | None:
    """The personal access token this request authenticated with, if any (not a JWT)."""
    return getattr(user, "personal_token", None)


def project_limit(user: User | None) -> frozenset[int] | None:
    """The projects this request may reach among the user's: None for all of them (a JWT or
    an unlimited token), else the ids the token is limited to."""
    token = personal_token_of(user)
    if token is None or token.project_ids is None:
        return None
    return frozenset(token.project_ids)


def within_limit(user: User | None, project_id: int) -> bool:
    limit = project_limit(user)
    return limit is None or project_id in limit


def allows_scope(user: User | None, scope: Scope | str) -> bool:
    """A JWT may do anything its user may; a token only what its scopes name."""
    token = personal_token_of(user)
    return token is None or token.allows(scope)
