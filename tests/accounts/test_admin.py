"""Users in the admin: deactivating one (or setting their password) ends every session they
have, as the API's password change does; users are deactivated, never deleted; the token
blacklist cannot be edited."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.support.admin import errors_of, form_data, sent_fixture  # noqa: F401
from tests.support.auth import login

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
REFRESH = "/api/v1/auth/refresh/"


def user_url(user) -> str:
    return f"{USERS}{user.pk}/change/"


def refresh_works(refresh: str) -> bool:
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 200


def set_active(client, user, active: bool):
    response = client.post(user_url(user), form_data(client.get(user_url(user)), is_active=active))
    assert response.status_code == 302, errors_of(response)


def test_deactivating_a_user_revokes_their_refresh_tokens_and_closes_their_sockets(
    admin_client, user, sent, django_capture_on_commit_callbacks
):
    refresh = login(APIClient(), user)["refresh"]

    with django_capture_on_commit_callbacks(execute=True):
        set_active(admin_client, user, False)

    assert (f"user.{user.pk}", "auth.revoked", None) in sent(transport=True)
    set_active(admin_client, user, True)
    assert not refresh_works(refresh)  # not even once the account is back


def test_the_deactivate_action_ends_every_session_of_the_selected_users(
    admin_client, user, team, sent, django_capture_on_commit_callbacks
):
    refresh = login(APIClient(), user)["refresh"]
    other_refresh = login(APIClient(), team.member)["refresh"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            USERS, {"action": "deactivate", "_selected_action": [user.pk, team.member.pk]}
        )

    assert response.status_code == 302
    user.refresh_from_db()
    team.member.refresh_from_db()
    assert not user.is_active and not team.member.is_active
    revoked = {group for group, type_, _ in sent(transport=True) if type_ == "auth.revoked"}
    assert revoked == {f"user.{user.pk}", f"user.{team.member.pk}"}
    set_active(admin_client, user, True)
    set_active(admin_client, team.member, True)
    assert not refresh_works(refresh)
    assert not refresh_works(other_refresh)


def test_a_password_set_in_the_admin_blacklists_the_users_refresh_tokens(admin_client, user):
    login(APIClient(), user)
    url = f"{USERS}{user.pk}/password/"

    response = admin_client.post(
        url,
        {
            "usable_password": "true",
            "password1": "another-long-passphrase-7",
            "password2": "another-long-passphrase-7",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    outstanding = OutstandingToken.objects.filter(user=user)
    assert outstanding.exists()
    assert not outstanding.filter(blacklistedtoken__isnull=True).exists()


def test_users_are_not_deleted_in_the_admin(admin_client, user):
    assert admin_client.get(f"{USERS}{user.pk}/delete/").status_code == 403
    actions = admin_client.get(USERS).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]


def test_the_token_blacklist_is_read_only(admin_client, user):
    refresh = login(APIClient(), user)["refresh"]
    APIClient().post("/api/v1/auth/logout/", {"refresh": refresh}, format="json")
    entry = BlacklistedToken.objects.get()

    response = admin_client.post(f"/admin/token_blacklist/blacklistedtoken/{entry.pk}/delete/")

    assert response.status_code == 403
    assert BlacklistedToken.objects.filter(pk=entry.pk).exists()
