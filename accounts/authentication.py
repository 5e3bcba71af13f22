"""Bearer JWT authentication with the contract's two codes for a bad token.

An expired token is `token_expired`, so that a client knows a refresh will help; every other
bad token is `token_not_valid`. simplejwt merges expiry into `token_not_valid` and adds codes
of its own for the rest (`password_changed`, `user_inactive`, `user_not_found`,
`bad_authorization_header`); its messages stay, its codes do not.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings


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


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme for the subclass (extensions match exact classes)."""

    target_class = "accounts.authentication.JWTAuthentication"
