"""Per-account throttles for everything that checks a password.

Their cache keys hold a hash of the identity, never the identity itself: the email comes
from an anonymous request body, and a key built from it would let anyone write arbitrarily
long key names into Redis.
"""

import hashlib
import logging

from redis.exceptions import RedisError
from rest_framework import throttling

from accounts.models import normalize_email
from core.throttling import AddressRateThrottle, LiveRateMixin

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


class LoginAccountThrottle(AddressRateThrottle):
    """`THROTTLE_LOGIN` per account at `login/`: password guessing spread over many addresses."""

    scope = "login"

    def get_email(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        return data.get("email")

    def get_cache_key(self, request, view):
        ident = account_ident(self.get_email(request))
        if ident is None:
            return None
        # One bucket per account whatever the door (the API's login or the admin's).
        return self.cache_format % {"scope": "login-account", "ident": ident}


class AdminLoginAddressThrottle(AddressRateThrottle):
    """`THROTTLE_LOGIN` per client address at `/admin/login/`."""

    scope = "login"


class AdminLoginAccountThrottle(LoginAccountThrottle):
    """`THROTTLE_LOGIN` per account at `/admin/login/`, shared with the API's login."""

    def get_email(self, request):
        return request.POST.get("username")  # Django's AuthenticationForm field


class PasswordGuessThrottle(LiveRateMixin, throttling.SimpleRateThrottle):
    """`THROTTLE_LOGIN` per account for wrong `current_password` at `password/`.

    Only wrong guesses count: the check reads the history without adding to it, and the view
    calls `record_wrong_guess` when the current password was not correct.
    """

    scope = "login"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": "password-account", "ident": request.user.pk}

    def throttle_success(self):
        return True

    def record_wrong_guess(self, request, view) -> None:
        self.key = self.get_cache_key(request, view)
        if self.rate is None or self.key is None:
            return
        self.now = self.timer()
        try:
            self.history = [
                moment
                for moment in self.cache.get(self.key, [])
                if moment > self.now - self.duration
            ]
            super().throttle_success()
        except (RedisError, OSError):  # fail open, like every throttle (config/throttling)
            logger.warning("Wrong password guess not recorded: the cache is unavailable")
