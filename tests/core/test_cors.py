"""Browser clients on an allowed origin can use every header the contract defines."""

import pytest

ORIGIN = "https://app.example.com"
REQUEST_HEADERS = "authorization, content-type, if-match, idempotency-key"


@pytest.fixture(autouse=True)
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]


def test_preflight_allows_the_contracts_request_headers(api_client, db):
    response = api_client.options(
        "/api/v1/tasks/1/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=REQUEST_HEADERS,
    )

    assert response.status_code == 200
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed


def test_response_headers_are_readable_by_browser_code(auth_client):
    response = auth_client.get("/api/v1/auth/me/", HTTP_ORIGIN=ORIGIN)

    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "idempotent-replayed", "retry-after"} <= exposed


def test_replays_and_idempotency_errors_carry_cors_and_security_headers(auth_client):
    def post(body):
        return auth_client.post(
            "/api/v1/tasks/", body, format="json", HTTP_ORIGIN=ORIGIN, HTTP_IDEMPOTENCY_KEY="k"
        )

    first, replay, mismatch = post({"title": "A"}), post({"title": "A"}), post({"title": "B"})

    assert (first.status_code, replay.status_code, mismatch.status_code) == (201, 201, 422)
    for response in (first, replay, mismatch):
        assert response["Access-Control-Allow-Origin"] == ORIGIN
        assert response["X-Content-Type-Options"] == "nosniff"


def test_a_too_large_body_carries_cors_headers(auth_client, settings):
    settings.MAX_BODY_BYTES = 100

    response = auth_client.post(
        "/api/v1/tasks/", {"title": "x" * 200}, format="json", HTTP_ORIGIN=ORIGIN
    )

    assert response.status_code == 413
    assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.org:8443", True),  # ALLOWED_HOSTS' .example.org, any port
        ("http://example.org", True),
        ("ftp://app.example.org", False),
        ("https://example.org.evil.net", False),
    ],
)
def test_cors_follows_the_sockets_origin_rule(api_client, db, settings, origin, allowed):
    settings.ALLOWED_HOSTS = ["testserver", ".example.org"]

    response = api_client.options(
        "/api/v1/tasks/", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert response.get("Access-Control-Allow-Origin") == (origin if allowed else None)
