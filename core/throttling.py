"""Throttles; rates come from THROTTLE_LOGIN, THROTTLE_REGISTER and THROTTLE_USER (`off`: none)."""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

from core.breaker import RedisUnavailable

logger = logging.getLogger("tasklane.throttling")


class LiveRateMixin:
    """Read the rate when the request arrives, not when the class was imported; fail open.

    DRF copies DEFAULT_THROTTLE_RATES into a class attribute at import time, so a changed
    setting (a test, a reload) would otherwise be ignored.
    """

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        """Fail open: a cache (Redis) outage must not turn every request into a 500."""
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            # While the Redis breaker is open (core/breaker.py, which logged why) no traceback.
            logger.warning(
                "Throttle %s skipped: the cache is unavailable",
                self.scope,
                exc_info=not isinstance(error, RedisUnavailable),
            )
            return True


class UserRateThrottle(LiveRateMixin, throttling.UserRateThrottle):
    """`THROTTLE_USER`, per authenticated user; anonymous requests are left to the others."""

    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class AddressRateThrottle(LiveRateMixin, throttling.SimpleRateThrottle):
    """Per client address and per view; `scope` names the rate (`THROTTLE_<SCOPE>`)."""

    def get_cache_key(self, request, view):
        bucket = f"{self.scope}-{type(view).__name__}"
        return self.cache_format % {"scope": bucket, "ident": self.get_ident(request)}


class LoginAddressThrottle(AddressRateThrottle):
    scope = "login"


class FailureRateThrottle(LiveRateMixin, throttling.SimpleRateThrottle):
    """Counts failures, not requests: asking it records nothing; `record_failure` does, once
    the caller knows the attempt failed (a wrong password, say)."""

    def throttle_success(self):
        return True

    def record_failure(self, request, view=None) -> None:
        self.record(self.get_cache_key(request, view))

    def record(self, key: str | None) -> None:
        """Add now to the history under `key`, keeping at most the newest `num_requests`
        moments of the window (enough to refuse; never more, whatever the traffic)."""
        if self.rate is None or key is None:
            return
        now = self.timer()
        try:
            history = [moment for moment in self.cache.get(key, []) if moment > now - self.duration]
            history.insert(0, now)
            self.cache.set(key, history[: self.num_requests], self.duration)
        except (RedisError, OSError):  # fail open, like every throttle here
            logger.warning(
                "Failure not counted for throttle %s: the cache is unavailable", self.scope
            )


class RegisterAddressThrottle(AddressRateThrottle):
    scope = "register"


class FirstRefusalThrottlesMixin:
    """Stop at the first throttle that refuses.

    DRF's `check_throttles` asks every throttle, and each one that is asked records the
    request: a refused login would still write a per-account key for whatever email it
    carried. Later throttles are only asked once the earlier ones let the request through.
    """

    def check_throttles(self, request):
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())
