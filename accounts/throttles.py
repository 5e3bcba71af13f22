from accounts.models import normalize_email
from config.throttling import AddressRateThrottle


class LoginAccountThrottle(AddressRateThrottle):
    """`THROTTLE_LOGIN` per account: password guessing spread over many addresses."""

    scope = "login"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": "login-account", "ident": normalize_email(email)}
