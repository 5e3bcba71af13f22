"""The Django admin's site, with its login throttled like the API's.

Without it, `/admin/login/` lets anyone guess a superuser's password as fast as the server
hashes them. Failed attempts count exactly as at `POST /api/v1/auth/login/`, in the same
counters (accounts/throttles.py), and a throttled attempt is refused before the password is
checked.
"""

import math

from django.contrib import admin
from django.http import HttpResponse

from accounts.throttles import AdminLoginAccountThrottle, FailedLoginAddressThrottle


class AdminSite(admin.AdminSite):
    login_throttle_classes = [FailedLoginAddressThrottle, AdminLoginAccountThrottle]

    def login(self, request, extra_context=None):
        if request.method == "POST":
            for throttle_class in self.login_throttle_classes:
                throttle = throttle_class()
                if not throttle.allow_request(request, self):
                    return self.login_throttled(throttle.wait())
        return super().login(request, extra_context)

    @staticmethod
    def login_throttled(wait: float | None) -> HttpResponse:
        seconds = max(1, math.ceil(wait or 1))
        response = HttpResponse(
            f"Too many login attempts. Try again in {seconds} seconds.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(seconds)
        return response
