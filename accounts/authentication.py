"""Bearer authentication (JWTs and personal access tokens) with the contract's two codes for
a bad token.

An expired token is `token_expired`, so that a client knows a refresh (or a new personal
token) will help; every other bad token is `token_not_valid`. simplejwt merges expiry into
`token_not_valid` and adds codes of its own for the rest (`password_changed`,
`user_inactive`, `user_not_found`, `bad_authorization_header`); its messages stay, its codes
do not.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.personal_tokens import (
    PersonalTokenExpired,
    PersonalTokenInvalid,
    authenticate_personal_token,
    is_personal_token,
)
from accounts.selectors import user_by_id
from core.numbers import positive_bigint


class TokenExpired(InvalidToken):
    default_detail = "Token has expired."
    default_code = "token_expired"


class JWTAuthentication(authentication.JWTAuthentication):
    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (TokenExpired, InvalidToken):
            raise
        except exceptions.AuthenticationFailed as error:
            raise InvalidToken(str(error.detail)) from None

    def get_validated_token(self, raw_token):
        # simplejwt's loop over AUTH_TOKEN_CLASSES, keeping apart the one error it merges.
        # The signature is checked before the expiry, so a forged token is never "expired".
        expired = False
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except ExpiredTokenError:
                expired = True
            except TokenError:
                pass
        raise TokenExpired() if expired else InvalidToken()

    def get_user(self, validated_token):
        """simplejwt's checks (the user exists and is active; a password change revoked the
        token), with the user read by accounts.selectors.user_by_id."""
        claim = validated_token.get(api_settings.USER_ID_CLAIM)  # simplejwt writes a string
        user_id = positive_bigint(str(claim)) if isinstance(claim, (str, int)) else None
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        user = user_by_id(user_id)
        if user is None:
            raise InvalidToken("User not found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise InvalidToken("User is inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise InvalidToken("The user's password has been changed.")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme for the subclass (extensions match exact classes)."""

    target_class = "accounts.authentication.JWTAuthentication"


class PersonalTokenNotValid(InvalidToken):
    default_detail = "This personal access token is not valid or has been revoked."
    default_code = "token_not_valid"


class PersonalTokenExpiredError(TokenExpired):
    default_detail = "This personal access token has expired."


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer tl_pat_...`; any other bearer token is left to JWTAuthentication.

    Listed first, so that a personal access token never reaches simplejwt (which would call it
    malformed). Its user carries the token (`user.personal_token`): the scope and project
    limits follow from there (accounts/permissions.py, projects.selectors.memberships_for).
    """

    keyword = b"Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0] != self.keyword:
            return None
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not is_personal_token(raw):
            return None
        try:
            token = authenticate_personal_token(raw)
        except PersonalTokenExpired:
            raise PersonalTokenExpiredError() from None
        except PersonalTokenInvalid:
            raise PersonalTokenNotValid() from None
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    """Its own OpenAPI bearer scheme beside the JWT one: either works where both are listed."""

    target_class = "accounts.authentication.PersonalAccessTokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tl_pat_...",
            "description": (
                "A personal access token from `POST /api/v1/auth/tokens/`, limited to its "
                "scopes (`read`: safe methods, `write`: the others) and, if it names any, "
                "its projects. A token without `read` gets only the `id` of what it wrote "
                "in the body of a successful write, and the `secret` that the write made, if "
                "any (creating a webhook or rotating its secret)."
            ),
        }
