from django.contrib.auth.backends import ModelBackend

from accounts.models import User, normalize_email


class EmailBackend(ModelBackend):
    """Log in with an email address matched case-insensitively.

    Django's ModelBackend matches the username field exactly; emails are stored lower-cased,
    so the given address is normalized the same way before the lookup.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        try:
            user = User.objects.get(email=normalize_email(email))
        except User.DoesNotExist:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
