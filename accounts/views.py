from django.contrib.auth import authenticate
from django.utils.cache import patch_cache_control
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services, tokens
from accounts.models import PersonalAccessToken
from accounts.permissions import (
    EmailUnchangedWithPersonalToken,
    NoPersonalTokenPresented,
    NotWithPersonalToken,
)
from accounts.render import personal_token_to_dict
from accounts.schema import (
    email_verify_resend_schema,
    email_verify_schema,
    login_schema,
    logout_schema,
    me_get_schema,
    me_patch_schema,
    password_change_schema,
    password_reset_confirm_schema,
    password_reset_schema,
    personal_token_schema,
    refresh_schema,
    register_schema,
)
from accounts.serializers import (
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PersonalTokenCreateSerializer,
    PersonalTokenSerializer,
    RefreshTokenSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.throttles import (
    EmailSendingAccountThrottle,
    EmailSendingUserThrottle,
    FailedLoginAddressThrottle,
    LoginAccountThrottle,
    PasswordGuessThrottle,
)
from core.authentication import PublicEndpointAuthentication
from core.throttling import (
    FirstRefusalThrottlesMixin,
    LoginAddressThrottle,
    RegisterAddressThrottle,
)
from core.urls_helpers import ID_PATTERN
from core.views import PermissionTableMixin


def token_response(data: dict, status_code: int = status.HTTP_200_OK) -> Response:
    """Tokens are credentials: no browser, proxy or CDN may keep a copy."""
    response = Response(data, status=status_code)
    patch_cache_control(response, no_store=True)
    return response


# The APIViews below name their serializer: a `get_serializer` would add an `actions` block to
# their OPTIONS answers. Otherwise they read as the viewsets do (core/views.py).
class PublicAuthView(FirstRefusalThrottlesMixin, APIView):
    """Register, login, refresh and logout: no access token, an address throttle."""

    authentication_classes = [PublicEndpointAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [LoginAddressThrottle]


class RegisterView(PublicAuthView):
    throttle_classes = [RegisterAddressThrottle]

    @register_schema
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

    @login_schema
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "No active account found with the given email and password.",
                code="invalid_credentials",
            )
        pair = tokens.issue_token_pair(user)
        return token_response(pair)


class RefreshView(PublicAuthView):
    @refresh_schema
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = tokens.refresh_rotate(raw_token=serializer.validated_data["refresh"])
        return token_response(pair)


class LogoutView(PublicAuthView):
    @logout_schema
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.refresh_revoke(raw_token=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    http_method_names = ["get", "patch", "head", "options"]
    permission_classes = [*APIView.permission_classes, EmailUnchangedWithPersonalToken]

    @me_get_schema
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @me_patch_schema
    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)


class PasswordChangeView(FirstRefusalThrottlesMixin, APIView):
    throttle_classes = [*APIView.throttle_classes, PasswordGuessThrottle]
    permission_classes = [*APIView.permission_classes, NotWithPersonalToken]

    @password_change_schema
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


# --- Email tokens: password reset and verification ----------------------------------------


class EmailTokenView(PublicAuthView):
    """The public end of the email flows: the token (or the email) is the credential. A
    personal access token sent anyway is a 403; the address throttle bounds guessing."""

    permission_classes = [AllowAny, NoPersonalTokenPresented]  # AllowAny: "no auth" in the schema

    def permission_denied(self, request, message=None, code=None):
        # Nobody is authenticated here, which DRF would answer with a 401.
        raise exceptions.PermissionDenied(message)


class PasswordResetView(EmailTokenView):
    throttle_classes = [LoginAddressThrottle, EmailSendingAccountThrottle]

    @password_reset_schema
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(EmailTokenView):
    @password_reset_confirm_schema
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(EmailTokenView):
    @email_verify_schema
    def post(self, request):
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_verify(token=serializer.validated_data["token"])
        return Response(UserSerializer(user).data)


class EmailVerifyResendView(FirstRefusalThrottlesMixin, APIView):
    throttle_classes = [*APIView.throttle_classes, EmailSendingUserThrottle]
    permission_classes = [*APIView.permission_classes, NotWithPersonalToken]

    @email_verify_resend_schema
    def post(self, request):
        services.email_verification_resend(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


@personal_token_schema
class PersonalTokenViewSet(
    PermissionTableMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own tokens; anyone else's do not exist (404)."""

    serializer_class = PersonalTokenSerializer
    serializer_classes_by_action = {"create": PersonalTokenCreateSerializer}
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
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = services.personal_token_create(
            user=request.user, **serializer.validated_data
        )
        created = {**personal_token_to_dict(token), "token": secret}
        return token_response(created, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        token = self.get_object()
        services.personal_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
