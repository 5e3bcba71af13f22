"""JWT issue, rotation and revocation, closing the gaps simplejwt leaves open.

- A refresh token is accepted only while its `hash_password` claim matches the user's current
  password, like access tokens (simplejwt checks that claim for access tokens only).
- Rotation locks the token's row, so two concurrent refreshes with one token cannot both win.
- A deleted or deactivated user's token is a 401, never a 500.
"""

from django.db import IntegrityError, transaction
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import Scope, User
from accounts.personal_tokens import (
    PersonalTokenInvalid,
    authenticate_personal_token,
    is_personal_token,
)


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = "Token is invalid, expired or revoked."
    default_code = "token_not_valid"


class ExpiredRefreshToken(InvalidRefreshToken):
    default_detail = "Token has expired."
    default_code = "token_expired"


def issue_token_pair(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _user_for_token(token: Token) -> User:
    """The token's user, if they still exist, are active and have not changed password."""
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise InvalidRefreshToken()
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidRefreshToken()
    return user


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # signature, expiry, token type and blacklist
    except ExpiredTokenError as exc:
        raise ExpiredRefreshToken() from exc
    except TokenError as exc:
        raise InvalidRefreshToken() from exc


def refresh_rotate(*, raw_token: str) -> dict[str, str]:
    """Trade a refresh token for a new pair; the old refresh token is revoked."""
    token = _parse_refresh(raw_token)
    try:
        with transaction.atomic():
            outstanding = (
                # order_by("pk"): the model orders by `user`, an outer join that PostgreSQL
                # refuses to lock (FOR UPDATE on the nullable side of an outer join).
                OutstandingToken.objects.select_for_update()
                .filter(jti=token[api_settings.JTI_CLAIM])
                .order_by("pk")
                .first()
            )
            if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
                raise InvalidRefreshToken()
            user = _user_for_token(token)
            BlacklistedToken.objects.create(token=outstanding)
            return issue_token_pair(user)
    except IntegrityError as exc:  # a concurrent refresh with the same token won the race
        raise InvalidRefreshToken() from exc


def refresh_revoke(*, raw_token: str) -> None:
    """Logout: this refresh token can never be used again."""
    token = _parse_refresh(raw_token)
    _user_for_token(token)
    token.blacklist()


def revoke_all_refresh_tokens(user: User) -> None:
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


def authenticate_access_token(raw: str) -> tuple[User, int] | None:
    """The user an access token authenticates and its expiry (epoch seconds), else None.

    Used by the WebSocket consumer with the same checks as HTTP: `AccessToken` (not an untyped
    token) so a refresh token cannot open a socket, and the revocation claim so a password
    change closes the door.
    """
    try:
        token = AccessToken(raw)
        return _user_for_token(token), int(token["exp"])
    except (TokenError, InvalidRefreshToken):
        return None


def authenticate_socket_token(raw: str) -> tuple[User, int] | None:
    """The user a WebSocket's `?token=` authenticates and its expiry (epoch seconds), else None.

    An access token, or a personal access token with the `read` scope; the user of a
    personal token carries it (`user.personal_token`), and with it its project limit.
    """
    if not is_personal_token(raw):
        return authenticate_access_token(raw)
    try:
        token = authenticate_personal_token(raw)
    except PersonalTokenInvalid:
        return None
    if not token.allows(Scope.READ):
        return None
    return token.user, int(token.expires_at.timestamp())
