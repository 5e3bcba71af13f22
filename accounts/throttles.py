"""Throttles for everything that checks a password, at the THROTTLE_LOGIN rate.

Logging in (the API's `login/` and the admin's `/admin/login/` alike) counts failed attempts,
never successful ones, three ways:

- per client address (`FailedLoginAddressThrottle`): one address guessing at many accounts, or at
  one, is refused whatever the email;
- per account and address: whether this address has failed for this account lately;
- per account (`LoginAccountThrottle`): once an account has had THROTTLE_LOGIN failures
  within the window, from anywhere, every address that has failed for it in that window is
  refused. An address that has not, the owner's most likely, still gets its answer: failures
  from elsewhere can never lock the owner out, while guessing one account from many
  addresses costs each address all but one guess per window.

`authenticate()` reports a failed attempt through Django's `user_login_failed` signal, with
the request; `count_failed_login` records it, for both doors. A refused attempt checks no
password, so it records nothing more.

Cache keys hold a hash of the identity, never the identity itself: the email comes from an
anonymous request body, and a key built from it would let anyone write arbitrarily long key
names into Redis.
"""

import hashlib
import logging

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from redis.exceptions import RedisError
from rest_framework import throttling

from accounts.models import normalize_email
from core.throttling import FailureRateThrottle, LiveRateMixin

logger = logging.getLogger("tasklane.throttling")

# The longest an email address can be (RFC 5321 path limit); the login serializers and the
# admin's login form refuse longer ones.
EMAIL_MAX_LENGTH = 254


def account_ident(email) -> str | None:
    """A bounded, case-insensitive key for the account an email names, or None if it is not
    a plausible email (missing, not a string, blank or longer than an email can be)."""
    if not isinstance(email, str):
        return None
    email = normalize_email(email)
    if not email or len(email) > EMAIL_MAX_LENGTH:
        return None
    return hashlib.sha256(email.encode()).hexdigest()


class FailedLoginAddressThrottle(FailureRateThrottle):
    """`THROTTLE_LOGIN` failed logins per client address, at either door."""

    scope = "login"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": "login-failed", "ident": self.get_ident(request)}


class LoginAccountThrottle(FailureRateThrottle):
    """`THROTTLE_LOGIN` failed logins per account, binding only on addresses that have failed
    for the account (see the module's docstring)."""

    scope = "login"

    def get_email(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        return data.get("email")

    def get_cache_key(self, request, view=None):
        return self.account_key(account_ident(self.get_email(request)))

    def account_key(self, ident: str | None) -> str | None:
        if ident is None:
            return None
        return self.cache_format % {"scope": "login-account", "ident": ident}

    def address_key(self, ident: str | None, request) -> str | None:
        """The key of this account's failures from this address (a hash of both)."""
        if ident is None:
            return None
        both = hashlib.sha256(f"{ident} {self.get_ident(request)}".encode()).hexdigest()
        return self.cache_format % {"scope": "login-address-account", "ident": both}

    def allow_request(self, request, view):
        self.address_history = []
        if super().allow_request(request, view):  # the account is under its limit
            return True
        key = self.address_key(account_ident(self.get_email(request)), request)
        try:
            history = self.cache.get(key, [])
        except (RedisError, OSError):  # fail open, like every throttle
            logger.warning("Throttle login-account skipped: the cache is unavailable")
            return True
        self.address_history = [moment for moment in history if moment > self.now - self.duration]
        return not self.address_history

    def wait(self):
        """Until the account is under its limit, or this address's failures for it have left
        the window, whichever comes first."""
        account_wait = super().wait()
        if not self.address_history:
            return account_wait
        address_wait = self.duration - (self.now - self.address_history[0])
        return min(address_wait, account_wait if account_wait is not None else address_wait)

    def record_account_failure(self, request, email) -> None:
        ident = account_ident(email)
        self.record(self.account_key(ident))
        self.record(self.address_key(ident, request))


class AdminLoginAccountThrottle(LoginAccountThrottle):
    """The same per-account rule at `/admin/login/`, sharing the API login's counts."""

    def get_email(self, request):
        return request.POST.get("username")  # Django's AuthenticationForm field


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs):
    """`authenticate()` found no active user with that email and password (the password in
    `credentials` is already masked)."""
    if request is None:  # a management command or a script: no client address
        return
    FailedLoginAddressThrottle().record_failure(request)
    LoginAccountThrottle().record_account_failure(
        request, credentials.get("email") or credentials.get("username")
    )


class PasswordGuessThrottle(FailureRateThrottle):
    """`THROTTLE_LOGIN` wrong `current_password` per account at `password/` (the caller is the
    authenticated user, so per account is per owner). The view records each wrong guess."""

    scope = "login"

    def get_cache_key(self, request, view=None):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": "password-account", "ident": request.user.pk}


class EmailSendingAccountThrottle(LiveRateMixin, throttling.SimpleRateThrottle):
    """`THROTTLE_LOGIN` requests per email address at `password/reset/`: every request counts
    (each may send a message), whether or not the address has an account, so the throttle
    tells nothing either. Beside it, `LoginAddressThrottle` counts them per client address."""

    scope = "login"

    def get_cache_key(self, request, view=None):
        data = request.data if isinstance(request.data, dict) else {}
        ident = account_ident(data.get("email"))
        if ident is None:
            return None  # not an email: the body's 400 comes next
        return self.cache_format % {"scope": "email-send-account", "ident": ident}


class EmailSendingUserThrottle(LiveRateMixin, throttling.SimpleRateThrottle):
    """`THROTTLE_LOGIN` requests per user at `email/verify/resend/`: each sends a message."""

    scope = "login"

    def get_cache_key(self, request, view=None):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": "email-send-user", "ident": request.user.pk}
