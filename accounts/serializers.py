from datetime import timedelta

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import get_error_detail

from accounts import email_tokens
from accounts.models import (
    EMAIL_TAKEN,
    EmailTokenKind,
    PersonalAccessToken,
    Scope,
    User,
    normalize_email,
)
from accounts.render import (
    PERSONAL_TOKEN_FIELDS,
    USER_FIELDS,
    USER_SUMMARY_FIELDS,
    personal_token_to_dict,
    user_summary,
    user_to_dict,
)
from accounts.timezones import is_valid_timezone
from core.exceptions import Invalid
from core.numbers import MAX_BIGINT

WRONG_PASSWORD = "wrong_password"


class UserSummarySerializer(serializers.ModelSerializer):
    """How a user appears inside other objects (owner, assignee, actor)."""

    class Meta:
        model = User
        fields = USER_SUMMARY_FIELDS
        read_only_fields = fields

    def to_representation(self, user: User) -> dict:
        return user_summary(user)


USER_EXAMPLE = {
    "id": 7,
    "email": "ada@example.com",
    "email_verified": True,
    "name": "Ada Lovelace",
    "timezone": "Europe/London",
    "date_joined": "2026-11-02T09:30:00.000000Z",
}


@extend_schema_serializer(examples=[OpenApiExample("User", value=USER_EXAMPLE, response_only=True)])
class UserSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    timezone = serializers.CharField(max_length=64, required=False)

    class Meta:
        model = User
        fields = USER_FIELDS
        read_only_fields = ["id", "email_verified", "date_joined"]
        extra_kwargs = {
            "email_verified": {
                "help_text": "Whether the owner has confirmed the address with the token "
                "sent to it (auth/email/verify/)."
            }
        }

    def to_representation(self, user: User) -> dict:
        return user_to_dict(user)

    def validate_email(self, value: str) -> str:
        email = normalize_email(value)
        others = User.objects.filter(email=email)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(EMAIL_TAKEN, code="unique")
        return email

    def validate_timezone(self, value: str) -> str:
        if not is_valid_timezone(value):
            raise serializers.ValidationError(
                f'"{value}" is not a known IANA time zone.', code="invalid"
            )
        return value


class RegisterSerializer(UserSerializer):
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]

    def validate_password(self, value: str) -> str:
        """Checked with the other fields, not after them, so that a bad email and a bad
        password are reported together; the similarity check reads the raw email and name."""
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        candidate = User(
            email=text_or_empty(data.get("email")), name=text_or_empty(data.get("name"))
        )
        try:
            password_validation.validate_password(value, user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
        return value


def text_or_empty(value) -> str:
    return value if isinstance(value, str) else ""


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Refresh token", value={"refresh": "eyJhbGciOiJIUzI1NiIs..."}, request_only=True
        )
    ]
)
class RefreshTokenSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Change password",
            value={
                "current_password": "correct-horse-battery",
                "new_password": "a-new-long-phrase",
            },
            request_only=True,
        )
    ]
)
class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )

    def validate_current_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError(
                "The current password is not correct.", code=WRONG_PASSWORD
            )
        return value

    def validate_new_password(self, value: str) -> str:
        # DRF turns the validators' Django ValidationError into entries with their codes.
        password_validation.validate_password(value, user=self.context["request"].user)
        return value

    def validate(self, attrs):
        # Reached only with the right current password, so this compares with the real one.
        if attrs["new_password"] == attrs["current_password"]:
            raise serializers.ValidationError(
                {
                    "new_password": ErrorDetail(
                        "The new password must differ from the current one.",
                        code="password_unchanged",
                    )
                }
            )
        return attrs

    def current_password_was_wrong(self) -> bool:
        """After `is_valid()`: whether this attempt was a wrong guess at the password."""
        return any(
            getattr(error, "code", None) == WRONG_PASSWORD
            for error in self.errors.get("current_password", [])
        )


PERSONAL_TOKEN_EXAMPLE = {
    "id": 3,
    "name": "CI: nightly report",
    "scopes": ["read"],
    "project_ids": [12],
    "created_at": "2026-11-02T09:30:00.000000Z",
    "expires_at": "2027-01-31T09:30:00.000000Z",
    "last_used_at": "2026-11-05T02:00:41.182003Z",
}
PERSONAL_TOKEN_MAX_LIFETIME = timedelta(days=365)
PERSONAL_TOKEN_MAX_PROJECTS = 1000


SCOPES_HELP = (
    "A non-empty subset of `read` (GET, HEAD and OPTIONS) and `write` (every other method)."
)
PROJECT_IDS_HELP = (
    "The projects the token is limited to (ones you belong to), or null: all your projects, "
    "including ones you join later."
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Read-only, one project",
            value={"name": "CI: nightly report", "scopes": ["read"], "project_ids": [12]},
            request_only=True,
        )
    ]
)
class PersonalTokenCreateSerializer(serializers.Serializer):
    """A new personal access token. Its secret is in the response only."""

    name = serializers.CharField(max_length=100, help_text="What the token is for.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        min_length=1,
        max_length=len(Scope.values),
        help_text=SCOPES_HELP,
    )
    project_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_BIGINT),
        allow_null=True,
        min_length=1,
        max_length=PERSONAL_TOKEN_MAX_PROJECTS,
        required=False,
        help_text=PROJECT_IDS_HELP,
    )
    expires_at = serializers.DateTimeField(
        required=False,
        help_text="In the future and at most 365 days ahead; default 90 days from now.",
    )

    def validate_expires_at(self, value):
        moment = timezone.now()
        if value <= moment:
            raise serializers.ValidationError("The expiry must be in the future.", code="min_value")
        if value > moment + PERSONAL_TOKEN_MAX_LIFETIME:
            raise serializers.ValidationError(
                "A token expires at most 365 days from now.", code="max_value"
            )
        return value


@extend_schema_serializer(
    examples=[OpenApiExample("Token", value=PERSONAL_TOKEN_EXAMPLE, response_only=True)]
)
class PersonalTokenSerializer(serializers.ModelSerializer):
    """A personal access token as its owner sees it: never its secret."""

    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices), read_only=True, help_text=SCOPES_HELP
    )
    project_ids = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        allow_null=True,
        help_text=PROJECT_IDS_HELP,
    )
    last_used_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When it was last used (to the minute), or null if never.",
    )

    class Meta:
        model = PersonalAccessToken
        fields = PERSONAL_TOKEN_FIELDS
        read_only_fields = fields

    def to_representation(self, token: PersonalAccessToken) -> dict:
        return personal_token_to_dict(token)


class PersonalTokenCreatedSerializer(PersonalTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text=(
            "The secret, `tl_pat_` and 38 letters and digits: shown this once, never again. "
            "Send it as `Authorization: Bearer <token>`."
        ),
    )

    class Meta(PersonalTokenSerializer.Meta):
        fields = [*PersonalTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


# --- Email tokens: password reset and verification ----------------------------------------

TOKEN_HELP = "The token from the message: the text after `Token: `, or the link's `token`."


@extend_schema_serializer(
    examples=[OpenApiExample("Reset", value={"email": "ada@example.com"}, request_only=True)]
)
class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Set a new password",
            value={
                "token": "Yk2xR0m0hV6bH8p3Zk8bJ6cV4wQeQ2lWmS3y9u1Xh0A",
                "new_password": "a-new-long-phrase",
            },
            request_only=True,
        )
    ]
)
class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128, trim_whitespace=True, help_text=TOKEN_HELP)
    new_password = serializers.CharField(
        trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )

    def validate(self, attrs):
        """The token names the user the validators compare the password with; a bad token
        and a bad password are reported together."""
        errors = {}
        user = None
        try:
            user = email_tokens.find(attrs["token"], kind=EmailTokenKind.PASSWORD_RESET).user
        except Invalid:
            errors["token"] = [ErrorDetail(email_tokens.BAD_TOKEN, code="invalid")]
        try:
            password_validation.validate_password(attrs["new_password"], user=user)
        except DjangoValidationError as exc:
            errors["new_password"] = get_error_detail(exc)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Verify",
            value={"token": "Yk2xR0m0hV6bH8p3Zk8bJ6cV4wQeQ2lWmS3y9u1Xh0A"},
            request_only=True,
        )
    ]
)
class EmailVerifySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128, trim_whitespace=True, help_text=TOKEN_HELP)
