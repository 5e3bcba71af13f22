"""`manage.py changepassword` ends the user's sessions, as a password change through the API
does: refresh tokens, personal access tokens and open sockets."""

import pytest
from django.contrib.auth.management.commands import changepassword
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import PersonalAccessToken
from tests.support.admin import sent_fixture  # noqa: F401
from tests.support.auth import login
from tests.support.personal_tokens import bearer, make_token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-9"


def typed(monkeypatch, *passwords):
    answers = iter(passwords)
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": next(answers))


def test_changepassword_revokes_every_token_and_closes_the_users_sockets(
    user, monkeypatch, sent, django_capture_on_commit_callbacks
):
    tokens = login(APIClient(), user)
    secret = make_token(user)
    typed(monkeypatch, NEW_PASSWORD, NEW_PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("changepassword", user.email)

    refreshed = APIClient().post(
        "/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    assert bearer(secret).get("/api/v1/auth/me/").status_code == 401
    assert not PersonalAccessToken.objects.filter(user=user).exists()
    assert (f"user.{user.pk}", "auth.revoked", None) in sent(transport=True)
    assert login(APIClient(), user, password=NEW_PASSWORD)["access"]


def test_a_refused_change_revokes_nothing(user, monkeypatch):
    tokens = login(APIClient(), user)
    secret = make_token(user)
    typed(monkeypatch, *["short"] * 6)  # three tries, each refused by the validators

    with pytest.raises(CommandError):
        call_command("changepassword", user.email)

    refreshed = APIClient().post(
        "/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    assert bearer(secret).get("/api/v1/auth/me/").status_code == 200
