import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


def login(client: APIClient, user, password: str = DEFAULT_PASSWORD) -> dict:
    response = client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auth_client(user):
    """An API client logged in as `user` with a real access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")
    client.user = user
    return client


@pytest.fixture
def client_for(db):
    """Build a logged-in client for any user: `client_for(member)`."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")
        client.user = user
        return client

    return make
