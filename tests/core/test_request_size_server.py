"""Django's request-size limits against a real server process: too many query parameters (or
form fields, or files) is a 400 in the contract's shape on every /api/ URL, authenticated or
not, never a 500."""

import http.client
import json

import pytest

from tests.support.server import require_services, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

TOO_MANY = "&".join(f"p{i}=1" for i in range(1001))
FEW = "&".join(f"p{i}=1" for i in range(50))


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        require_services()
        started = start_server(tmp_path_factory.mktemp("request-size"))
    yield started
    started.stop()


def send(server, method: str, path: str, body: bytes | None = None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/tasks/"),
        ("GET", "/api/v1/projects/1/"),
        ("GET", "/api/v1/auth/me/"),
        ("POST", "/api/v1/auth/login/"),
        ("GET", "/api/schema/"),
    ],
)
def test_too_many_query_parameters_is_a_400_naming_the_query_string(server, method, path):
    body = b'{"email": "a@example.com", "password": "x"}' if method == "POST" else None
    headers = {"Content-Type": "application/json"} if body else {}

    status, content_type, payload = send(server, method, f"{path}?{TOO_MANY}", body, headers)

    assert status == 400, payload
    assert content_type.startswith("application/json")
    assert json.loads(payload) == {
        "type": "validation_error",
        "errors": [
            {
                "code": "too_many_parameters",
                "detail": "The query string has more than 1000 parameters.",
                "attr": "query_string",
            }
        ],
    }


def test_an_unknown_api_url_with_too_many_parameters_is_still_a_json_404(server):
    """Nothing reads its query string: the URL does not exist, and says so."""
    status, content_type, payload = send(server, "GET", f"/api/v1/no-such-thing/?{TOO_MANY}")

    assert status == 404, payload
    assert content_type.startswith("application/json")
    assert json.loads(payload)["errors"][0]["code"] == "not_found"


def test_a_query_string_under_the_limit_is_served(server):
    status, _, payload = send(server, "GET", f"/api/v1/tasks/?{FEW}")

    assert status == 401, payload  # the view ran: no credential
