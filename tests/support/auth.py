"""Logging in through the API, as a client does."""

from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD


def login(client: APIClient, user, password: str = DEFAULT_PASSWORD) -> dict:
    response = client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def logged_in(user, **client_options) -> APIClient:
    """An API client that sends a real access token of `user` (logged in through the API)."""
    client = APIClient(**client_options)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), user)['access']}")
    client.user = user
    return client
