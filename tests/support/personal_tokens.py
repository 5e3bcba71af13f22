"""Helpers for the personal access token tests: tokens made through the service, clients that
send them."""

from rest_framework.test import APIClient

from accounts.services import personal_token_create

TOKENS = "/api/v1/auth/tokens/"
READ = ["read"]
WRITE = ["write"]
READ_WRITE = ["read", "write"]


def token_url(token_id) -> str:
    return f"{TOKENS}{token_id}/"


def make_token(user, *, scopes=READ_WRITE, project_ids=None, expires_at=None, name="script"):
    """A token's secret, made as `POST tokens/` makes it."""
    _, secret = personal_token_create(
        user=user, name=name, scopes=list(scopes), project_ids=project_ids, expires_at=expires_at
    )
    return secret


def bearer(secret: str, **client_options) -> APIClient:
    client = APIClient(**client_options)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def token_client(user, **token_options) -> APIClient:
    """An API client that authenticates as `user` with a new personal access token."""
    client = bearer(make_token(user, **token_options))
    client.user = user
    return client
