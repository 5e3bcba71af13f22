"""`manage.py changepassword`: Django's command, and then the user's sessions end, as after a
password change through the API or the admin: their refresh tokens are blacklisted, their
personal access tokens deleted and their sockets closed. (Access tokens stop working either
way: they carry a hash of the password hash.)"""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from accounts.models import User
from accounts.services import user_end_sessions


class Command(changepassword.Command):
    help = (
        "Change a user's password; every token issued before it is revoked and their open "
        "sockets are closed."
    )

    def handle(self, *args, **options):
        changed = super().handle(*args, **options)  # raises CommandError if nothing changed
        email = options["username"] or getpass.getuser()
        user = User.objects.using(options["database"]).get(email=email)
        with transaction.atomic(using=options["database"]):
            user_end_sessions(user=user)
        return f"{changed}; every token issued before it is revoked and their sockets closed."
