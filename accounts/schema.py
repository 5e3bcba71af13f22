"""The OpenAPI documentation of the accounts endpoints, applied in accounts/views.py with one
decorator line per view method or viewset."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from accounts.serializers import (
    PERSONAL_TOKEN_EXAMPLE,
    USER_EXAMPLE,
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PersonalTokenCreatedSerializer,
    PersonalTokenCreateSerializer,
    PersonalTokenSerializer,
    RefreshTokenSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from core.schema import client_error

TAG = "auth"
TOKENS_TAG = "personal access tokens"
# Operations a personal access token cannot perform: only the JWT scheme is documented.
JWT_ONLY = [{"jwtAuth": []}]
TOKENS_EXAMPLE = OpenApiExample(
    "Token pair",
    value={"access": "eyJhbGciOiJIUzI1NiIs...", "refresh": "eyJhbGciOiJIUzI1NiIs..."},
    response_only=True,
)
USER_RESPONSE = OpenApiExample("User", value=USER_EXAMPLE, response_only=True)
INVALID_TOKEN = client_error(
    "The refresh token is invalid or revoked (`token_not_valid`), or expired (`token_expired`)."
)
LOGIN_THROTTLED = client_error(
    "Too many failed attempts from this client address, or for this account from this "
    "address (`THROTTLE_LOGIN`); `Retry-After` says when to try again. The password is not "
    "checked."
)
PERSONAL_TOKENS_403 = client_error(
    "The request was made with a personal access token: tokens cannot list, create or "
    "revoke tokens. Log in with your password."
)

register_schema = extend_schema(
    tags=[TAG],
    summary="Create an account",
    description="Creates the user and their personal Inbox project. No token is needed.",
    request=RegisterSerializer,
    responses={201: UserSerializer},
    examples=[
        OpenApiExample(
            "Register",
            value={
                "email": "ada@example.com",
                "password": "correct-horse-battery",
                "name": "Ada Lovelace",
                "timezone": "Europe/London",
            },
            request_only=True,
        ),
        USER_RESPONSE,
    ],
)

login_schema = extend_schema(
    tags=[TAG],
    summary="Log in",
    description=(
        "Trade an email (matched case-insensitively) and password for an access and a "
        "refresh token. Wrong credentials are a 401 with the same message whether or not "
        "the account exists."
    ),
    request=LoginSerializer,
    responses={
        200: TokenPairSerializer,
        401: client_error("Wrong email or password."),
        429: LOGIN_THROTTLED,
    },
    examples=[
        OpenApiExample(
            "Login",
            value={"email": "ada@example.com", "password": "correct-horse-battery"},
            request_only=True,
        ),
        TOKENS_EXAMPLE,
    ],
)

refresh_schema = extend_schema(
    tags=[TAG],
    summary="Refresh tokens",
    description=(
        "Trade a refresh token for a new access and refresh token. Refresh tokens rotate: "
        "the one sent is revoked and cannot be used again."
    ),
    request=RefreshTokenSerializer,
    responses={200: TokenPairSerializer, 401: INVALID_TOKEN},
    examples=[
        OpenApiExample(
            "Refresh token", value={"refresh": "eyJhbGciOiJIUzI1NiIs..."}, request_only=True
        ),
        TOKENS_EXAMPLE,
    ],
)

logout_schema = extend_schema(
    tags=[TAG],
    summary="Log out",
    description=(
        "Revoke a refresh token; no access token is needed. Access tokens already issued "
        "stay valid until they expire (ACCESS_TOKEN_LIFETIME, 15 minutes by default)."
    ),
    request=RefreshTokenSerializer,
    responses={204: None, 401: INVALID_TOKEN},
)

me_get_schema = extend_schema(
    tags=[TAG],
    summary="Your profile",
    description="The caller's own account.",
    responses={200: UserSerializer},
)

me_patch_schema = extend_schema(
    tags=[TAG],
    summary="Update your profile",
    description=(
        "Change `name`, `email` or `timezone` (an IANA zone name). A personal access "
        "token cannot change the email (403)."
    ),
    request=UserSerializer,
    responses={
        200: UserSerializer,
        403: client_error(
            "A personal access token without the `write` scope, or one trying to change the email."
        ),
    },
    examples=[
        OpenApiExample("Move to Tokyo", value={"timezone": "Asia/Tokyo"}, request_only=True),
        USER_RESPONSE,
    ],
)

password_change_schema = extend_schema(
    tags=[TAG],
    summary="Change your password",
    description=(
        "Every access and refresh token issued before the change stops working, and your "
        "open WebSockets are closed with code 4401, and every personal access token is "
        "revoked. Log in again afterwards. A new password equal to the current one is "
        "refused (`password_unchanged`). Wrong `current_password` attempts are throttled "
        "per account at the `THROTTLE_LOGIN` rate. A personal access token cannot change "
        "the password (403)."
    ),
    auth=JWT_ONLY,
    request=PasswordChangeSerializer,
    responses={
        204: None,
        403: client_error("The request was made with a personal access token."),
        429: client_error(
            "Too many wrong `current_password` attempts for this account "
            "(`THROTTLE_LOGIN`), or too many requests (`THROTTLE_USER`); `Retry-After` says "
            "when to try again. The password is not checked."
        ),
    },
)

personal_token_schema = extend_schema_view(
    list=extend_schema(
        tags=[TOKENS_TAG],
        summary="List your personal access tokens",
        description="Newest first, expired ones included. Secrets are never shown again.",
        auth=JWT_ONLY,
        responses={200: PersonalTokenSerializer(many=True), 403: PERSONAL_TOKENS_403},
    ),
    create=extend_schema(
        tags=[TOKENS_TAG],
        summary="Create a personal access token",
        description=(
            "A long-lived token for a script or a server, used as `Authorization: Bearer "
            "<token>` wherever an access token works, and as `?token=` on the events "
            "WebSocket if it has the `read` scope. `read` allows GET, HEAD and OPTIONS; "
            "`write` every other method (403 otherwise). With `project_ids` it reaches only "
            "those projects, their tasks and their events. The secret (`token`) is in this "
            "response only. Changing your password or deactivating the account revokes every "
            "token."
        ),
        auth=JWT_ONLY,
        request=PersonalTokenCreateSerializer,
        responses={201: PersonalTokenCreatedSerializer, 403: PERSONAL_TOKENS_403},
        examples=[
            OpenApiExample(
                "Read-only, one project",
                value={"name": "CI: nightly report", "scopes": ["read"], "project_ids": [12]},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={**PERSONAL_TOKEN_EXAMPLE, "token": "tl_pat_" + "x" * 38},
                response_only=True,
            ),
        ],
    ),
    destroy=extend_schema(
        tags=[TOKENS_TAG],
        summary="Revoke a personal access token",
        description=(
            "The token stops working at once; WebSockets opened with it are closed with 4401."
        ),
        auth=JWT_ONLY,
        responses={204: None, 403: PERSONAL_TOKENS_403},
    ),
)

# --- Email tokens: password reset and verification ----------------------------------------

EMAIL_THROTTLED = client_error(
    "Too many requests from this client address or for this email address "
    "(`THROTTLE_LOGIN`); `Retry-After` says when to try again. Nothing is sent."
)
PERSONAL_TOKEN_REFUSED = client_error(
    "The request carried a personal access token: the email flows refuse them."
)
BAD_EMAIL_TOKEN = (
    "A bad, expired or already used token is a 400 on `token` (`invalid`), whichever it is."
)

password_reset_schema = extend_schema(
    tags=[TAG],
    summary="Ask for a password reset",
    description=(
        "Sends a single-use reset token, valid for an hour, to the address if it belongs to "
        "an active account. The answer is the same `202`, with no body, whether or not it "
        "does (nothing is sent otherwise): it tells nobody which addresses have accounts. The "
        "message goes out from the worker after the answer; it carries the token on a line "
        "`Token: <token>` and, when the server has a `FRONTEND_URL`, a link to "
        "`FRONTEND_URL/reset-password?token=...`. Throttled per client address and per email "
        "at the `THROTTLE_LOGIN` rate. No token is needed."
    ),
    request=PasswordResetSerializer,
    responses={202: None, 403: PERSONAL_TOKEN_REFUSED, 429: EMAIL_THROTTLED},
)

password_reset_confirm_schema = extend_schema(
    tags=[TAG],
    summary="Set a new password with a reset token",
    description=(
        "Uses the token from the reset message. As a password change does, every access and "
        "refresh token issued before stops working, every personal access token is revoked "
        "and open WebSockets are closed with 4401; the account's email counts as verified. "
        f"{BAD_EMAIL_TOKEN} The new password goes through the password validators (400 on "
        "`new_password`). Using the token uses up every other reset token of the account. "
        "No access token is needed."
    ),
    request=PasswordResetConfirmSerializer,
    responses={204: None, 403: PERSONAL_TOKEN_REFUSED},
)

email_verify_schema = extend_schema(
    tags=[TAG],
    summary="Verify your email",
    description=(
        "Uses the token of the verification message (sent at registration, or again by "
        "`email/verify/resend/`); answers the user, with `email_verified` true. "
        f"{BAD_EMAIL_TOKEN} No access token is needed: the token names the account."
    ),
    request=EmailVerifySerializer,
    responses={200: UserSerializer, 403: PERSONAL_TOKEN_REFUSED},
    examples=[USER_RESPONSE],
)

email_verify_resend_schema = extend_schema(
    tags=[TAG],
    summary="Send the verification message again",
    description=(
        "Sends a new verification token to your address (earlier ones keep working until "
        "they expire or one is used). With the email already verified nothing is sent, and "
        "the answer is the same `202`. Throttled per user at the `THROTTLE_LOGIN` rate. A "
        "personal access token cannot do this (403)."
    ),
    auth=JWT_ONLY,
    request=None,
    responses={
        202: None,
        403: client_error("The request was made with a personal access token."),
        429: client_error(
            "Too many requests for this account (`THROTTLE_LOGIN`, or `THROTTLE_USER`); "
            "`Retry-After` says when to try again."
        ),
    },
)
