from django.contrib.auth import authenticate
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services, tokens
from accounts.models import PersonalAccessToken
from accounts.permissions import EmailUnchangedWithPersonalToken, NotWithPersonalToken
from accounts.render import personal_token_to_dict
from accounts.serializers import (
    PERSONAL_TOKEN_EXAMPLE,
    USER_EXAMPLE,
    LoginSerializer,
    PasswordChangeSerializer,
    PersonalTokenCreatedSerializer,
    PersonalTokenCreateSerializer,
    PersonalTokenSerializer,
    RefreshTokenSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.throttles import (
    FailedLoginAddressThrottle,
    LoginAccountThrottle,
    PasswordGuessThrottle,
)
from core.authentication import PublicEndpointAuthentication
from core.schema import client_error
from core.throttling import (
    FirstRefusalThrottlesMixin,
    LoginAddressThrottle,
    RegisterAddressThrottle,
)
from core.urls_helpers import ID_PATTERN
from core.views import PermissionTableMixin

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


def token_response(pair: dict[str, str]) -> Response:
    """Tokens are credentials: no browser, proxy or CDN may keep a copy."""
    response = Response(pair)
    patch_cache_control(response, no_store=True)
    return response


class PublicAuthView(FirstRefusalThrottlesMixin, APIView):
    """Register, login, refresh and logout: no access token, an address throttle."""

    authentication_classes = [PublicEndpointAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [LoginAddressThrottle]


class RegisterView(PublicAuthView):
    throttle_classes = [RegisterAddressThrottle]

    @extend_schema(
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
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_classes = [FailedLoginAddressThrottle, LoginAccountThrottle]

    def check_throttles(self, request):
        """Validate the body before any throttle runs: the account throttle keys on the email,
        so one longer than an email can be is a 400 before any throttle key is written.
        (Other methods get their 405.)"""
        if request.method == "POST":
            LoginSerializer(data=request.data).is_valid(raise_exception=True)
        super().check_throttles(request)

    @extend_schema(
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
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "No active account found with the given email and password.",
                code="invalid_credentials",
            )
        return token_response(tokens.issue_token_pair(user))


class RefreshView(PublicAuthView):
    @extend_schema(
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
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return token_response(tokens.refresh_rotate(raw_token=serializer.validated_data["refresh"]))


class LogoutView(PublicAuthView):
    @extend_schema(
        tags=[TAG],
        summary="Log out",
        description=(
            "Revoke a refresh token; no access token is needed. Access tokens already issued "
            "stay valid until they expire (ACCESS_TOKEN_LIFETIME, 15 minutes by default)."
        ),
        request=RefreshTokenSerializer,
        responses={204: None, 401: INVALID_TOKEN},
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.refresh_revoke(raw_token=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    http_method_names = ["get", "patch", "head", "options"]
    permission_classes = [*APIView.permission_classes, EmailUnchangedWithPersonalToken]

    @extend_schema(
        tags=[TAG],
        summary="Your profile",
        description="The caller's own account.",
        responses={200: UserSerializer},
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
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
                "A personal access token without the `write` scope, or one trying to change "
                "the email."
            ),
        },
        examples=[
            OpenApiExample("Move to Tokyo", value={"timezone": "Asia/Tokyo"}, request_only=True),
            USER_RESPONSE,
        ],
    )
    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)


class PasswordChangeView(FirstRefusalThrottlesMixin, APIView):
    throttle_classes = [*APIView.throttle_classes, PasswordGuessThrottle]
    permission_classes = [*APIView.permission_classes, NotWithPersonalToken]

    @extend_schema(
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
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if serializer.current_password_was_wrong():
                PasswordGuessThrottle().record_failure(request, self)
            raise exceptions.ValidationError(serializer.errors)
        services.user_change_password(
            user=request.user, new_password=serializer.validated_data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


PERSONAL_TOKENS_403 = client_error(
    "The request was made with a personal access token: tokens cannot list, create or "
    "revoke tokens. Log in with your password."
)


@extend_schema_view(
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
class PersonalTokenViewSet(
    PermissionTableMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own tokens; anyone else's do not exist (404)."""

    serializer_class = PersonalTokenSerializer
    lookup_value_regex = ID_PATTERN
    permission_classes_by_action = {
        "list": [NotWithPersonalToken],
        "create": [NotWithPersonalToken],
        "destroy": [NotWithPersonalToken],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PersonalAccessToken.objects.none()
        return selectors.personal_tokens_of(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = PersonalTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = services.personal_token_create(
            user=request.user, **serializer.validated_data
        )
        response = Response(
            {**personal_token_to_dict(token), "token": secret}, status=status.HTTP_201_CREATED
        )
        patch_cache_control(response, no_store=True)
        return response

    def perform_destroy(self, instance):
        services.personal_token_revoke(token=instance)
