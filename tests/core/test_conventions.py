"""Cross-cutting API conventions: the error envelope everywhere, limits, health, docs."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from tests.support.envelope import assert_error

LOGIN = "/api/v1/auth/login/"
ME = "/api/v1/auth/me/"


# --- The error envelope outside and inside DRF ------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/", "/api/nope/", "/api/v1/", "/api/v1/nope/", "/api/v1/auth/nope/", "/api/v2/"]
)
def test_unknown_api_path_is_a_json_404(api_client, path):
    response = api_client.get(path)

    errors = assert_error(response, 404, attr=None, code="not_found")
    assert errors[0]["attr"] is None


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_api_path_missing_its_trailing_slash_is_a_json_404_not_a_redirect(api_client, method):
    response = getattr(api_client, method)(
        "/api/v1/auth/login", {"email": "a@example.com", "password": "x"}, format="json"
    )

    assert_error(response, 404, attr=None)
    assert not response.has_header("Location")


def test_unknown_api_path_is_a_json_404_in_debug_too(api_client, settings):
    settings.DEBUG = True

    response = api_client.get("/api/v1/auth/me")

    assert_error(response, 404, attr=None)


def test_paths_outside_the_api_keep_djangos_html_404(api_client):
    response = api_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_method_is_a_json_405(api_client, db, method):
    response = getattr(api_client, method)(LOGIN, {"email": "a@example.com"}, format="json")

    assert_error(response, 405, attr=None, code="method_not_allowed")
    assert "POST" in response["Allow"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "email=a@example.com&password=x"),
        ("application/x-www-form-urlencoded", "email=a%40example.com&password=x"),
        ("application/xml", "<login><email>a@example.com</email></login>"),
    ],
)
def test_a_body_that_is_not_json_is_a_415(api_client, db, content_type, body):
    response = api_client.generic("POST", LOGIN, body, content_type=content_type)

    assert_error(response, 415, attr=None, code="unsupported_media_type")


def test_a_multipart_body_is_a_415(api_client, db):
    response = api_client.post(LOGIN, {"email": "a@example.com"}, format="multipart")

    assert_error(response, 415, attr=None)


@pytest.mark.parametrize(
    "body",
    [b'{"email": ', b"{'email': 'a'}", b'{"email": "a"}}', b"\xff\xfe\x00{", b'{"n": NaN}'],
)
def test_malformed_json_is_a_400_validation_error(api_client, db, body):
    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    errors = assert_error(response, 400, attr=None)
    assert errors[0]["code"] == "parse_error"


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a": ' * 50_000])
def test_json_nested_too_deeply_is_a_400_not_a_500(db, body):
    client = APIClient(raise_request_exception=False)

    response = client.generic("POST", LOGIN, body, content_type="application/json")

    assert_error(response, 400, attr=None, code="parse_error")


def test_malformed_json_is_a_400_on_authenticated_endpoints_too(auth_client):
    response = auth_client.generic("PATCH", ME, b"{not json", content_type="application/json")

    assert_error(response, 400, attr=None, code="parse_error")


def test_missing_token_is_a_json_401(api_client, db):
    response = api_client.get(ME)

    assert_error(response, 401, attr=None, code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_invalid_token_is_a_json_401_with_one_flat_entry(db):
    response = APIClient(HTTP_AUTHORIZATION="Bearer not-a-jwt").get(ME)

    errors = assert_error(response, 401, attr=None)
    assert errors[0]["code"] == "token_not_valid"


def test_validation_errors_list_one_entry_per_problem_with_its_attr(api_client, db):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "nope", "timezone": "Nowhere/Land"}, format="json"
    )

    errors = assert_error(response, 400)
    assert {error["attr"] for error in errors} == {"email", "password", "timezone"}


def test_json_responses_are_utf8_json(auth_client):
    auth_client.patch(ME, {"name": "Zoë 日本"}, format="json")

    response = auth_client.get(ME)

    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == "Zoë 日本"
    assert "Zoë 日本".encode() in response.content


# --- Request body size ------------------------------------------------------------------------


def padded_login_body(size: int) -> bytes:
    """A valid JSON login body of exactly `size` bytes."""
    skeleton = {"email": "a@example.com", "password": "x-y-z-1-2-3", "padding": ""}
    padding = size - len(json.dumps(skeleton).encode())
    body = json.dumps(skeleton | {"padding": "p" * padding}).encode()
    assert len(body) == size
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", LOGIN),
        ("POST", "/api/v1/auth/register/"),
        ("PATCH", ME),
        ("PUT", ME),
        ("POST", "/api/v1/no-such-endpoint/"),
    ],
)
def test_a_body_over_max_body_bytes_is_a_413_on_every_api_url(
    api_client, db, settings, method, path
):
    settings.MAX_BODY_BYTES = 1000

    response = api_client.generic(
        method, path, padded_login_body(2000), content_type="application/json"
    )

    errors = assert_error(response, 413, attr=None)
    assert errors[0]["code"] == "request_too_large"


def test_a_body_one_byte_over_the_limit_is_a_413(api_client, db, settings):
    settings.MAX_BODY_BYTES = 1000

    response = api_client.generic(
        "POST", LOGIN, padded_login_body(1001), content_type="application/json"
    )

    assert_error(response, 413, attr=None)


@pytest.mark.parametrize("size", [999, 1000])
def test_a_body_within_max_body_bytes_reaches_the_view(api_client, db, settings, size):
    settings.MAX_BODY_BYTES = 1000

    response = api_client.generic(
        "POST", LOGIN, padded_login_body(size), content_type="application/json"
    )

    assert_error(response, 401, attr=None)  # parsed and checked: wrong credentials


def test_a_large_body_is_413_even_when_it_is_not_json(api_client, db, settings):
    settings.MAX_BODY_BYTES = 1000

    response = api_client.generic("POST", LOGIN, "x" * 2000, content_type="text/plain")

    assert_error(response, 413, attr=None)


def test_a_large_body_is_413_before_authentication(api_client, db, settings):
    settings.MAX_BODY_BYTES = 1000

    response = api_client.generic("PATCH", ME, padded_login_body(2000), "application/json")

    assert_error(response, 413, attr=None)


def test_the_default_body_limit_is_one_mebibyte():
    assert django_settings.MAX_BODY_BYTES == 1024 * 1024


@pytest.mark.parametrize("declared", ["abc", "-5", "1e3"])
def test_an_invalid_content_length_is_a_json_400(api_client, db, declared):
    response = api_client.generic(
        "POST", LOGIN, b"{}", content_type="application/json", CONTENT_LENGTH=declared
    )

    assert_error(response, 400, attr=None)


# --- JSON 500s --------------------------------------------------------------------------------


@pytest.fixture
def broken_urls(settings):
    settings.ROOT_URLCONF = "tests.support.error_urls"
    return APIClient(raise_request_exception=False)


def assert_server_error(response) -> None:
    errors = assert_error(response, 500, attr=None)
    assert response.json()["type"] == "server_error"
    assert "a bug in" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert errors[0]["attr"] is None


@pytest.mark.parametrize("debug", [False, True])
def test_an_exception_in_a_drf_view_is_a_json_500(broken_urls, settings, debug):
    settings.DEBUG = debug

    assert_server_error(broken_urls.get("/api/test/broken-drf/"))


@pytest.mark.parametrize("debug", [False, True])
def test_an_exception_in_a_plain_django_view_under_api_is_a_json_500(broken_urls, settings, debug):
    settings.DEBUG = debug

    assert_server_error(broken_urls.get("/api/test/broken-django/"))


@pytest.mark.parametrize("debug", [False, True])
def test_an_exception_in_a_middleware_under_api_is_a_json_500(broken_urls, settings, debug):
    settings.DEBUG = debug
    settings.MIDDLEWARE = [
        *django_settings.MIDDLEWARE,
        "tests.support.error_urls.ExplodingMiddleware",
    ]

    assert_server_error(broken_urls.get(ME, HTTP_X_EXPLODE="1"))


def test_an_exception_outside_the_api_keeps_djangos_500_page(broken_urls):
    response = broken_urls.get("/not-api/broken-django/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_urls_of_the_error_test_urlconf_are_unreachable_normally(api_client):
    assert_error(api_client.get("/api/test/broken-drf/"), 404, attr=None)


# --- Health -----------------------------------------------------------------------------------


def test_liveness_is_ok_without_touching_the_database(api_client):
    """No `db` fixture: any database access here would raise inside the view."""
    response = api_client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_needs_no_token(db):
    response = APIClient(HTTP_AUTHORIZATION="Bearer garbage").get("/health/live/")

    assert response.status_code == 200


# --- OpenAPI schema and self-hosted docs ------------------------------------------------------


def test_schema_is_served_without_a_token(api_client, db):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"openapi: 3" in response.content


def test_schema_documents_the_auth_endpoints_and_the_bearer_scheme(api_client, db):
    schema = api_client.get("/api/schema/?format=json").json()

    for endpoint in ("register", "login", "refresh", "logout", "me", "password"):
        assert f"/api/v1/auth/{endpoint}/" in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    me = schema["paths"]["/api/v1/auth/me/"]
    assert "401" in me["get"]["responses"]
    assert "put" not in me
    assert schema["paths"]["/api/v1/auth/login/"]["post"]["security"] == [{}]


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "s.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert out.read_text().startswith("openapi: 3")


class AssetCollector(HTMLParser):
    """Every URL a page loads: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if tag in {"script", "link", "img", "iframe"} and attributes.get(name):
                self.urls.append(attributes[name])


def assets_of(html: str) -> list[str]:
    collector = AssetCollector()
    collector.feed(html)
    return collector.urls


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """Static files as production serves them: `collectstatic` into STATIC_ROOT first."""
    static_root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=str(static_root)):
        # Only the docs' own assets (the sidecar): admin's and DRF's would double the time.
        ignored = ["--ignore", "admin", "--ignore", "rest_framework"]
        call_command("collectstatic", "--noinput", "--verbosity", "0", *ignored)
        yield static_root


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_assets_served_by_the_app(collected_static, db, page):
    client = APIClient()
    response = client.get(page)

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    urls = assets_of(html)
    assert any(url.endswith(".js") for url in urls)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), urls
    for url in urls:
        assert url.startswith("/static/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url


def test_swagger_ui_loads_its_stylesheet_and_scripts_locally(collected_static, db):
    urls = assets_of(APIClient().get("/api/docs/").content.decode())

    assert any(url.endswith(".css") for url in urls)
    assert sum(url.endswith(".js") for url in urls) >= 2
    assert all(url.startswith("/static/drf_spectacular_sidecar/") for url in urls)


def test_redoc_loads_its_script_locally(collected_static, db):
    html = APIClient().get("/api/redoc/").content.decode()

    scripts = [url for url in assets_of(html) if url.endswith(".js")]
    assert scripts
    assert all(url.startswith("/static/drf_spectacular_sidecar/redoc/") for url in scripts)


def test_json_nested_too_deeply_with_an_idempotency_key_is_a_400(auth_client):
    response = auth_client.generic(
        "POST",
        "/api/v1/tasks/",
        b"[" * 100_000,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="deep",
    )

    assert_error(response, 400, attr=None, code="parse_error")


# --- Landing ----------------------------------------------------------------------------------


def test_the_root_is_a_landing_that_links_the_docs_schema_health_and_admin(api_client, db):
    response = api_client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.content.decode())
    assert set(links) >= {
        "/api/docs/",
        "/api/redoc/",
        "/api/schema/",
        "/health/live/",
        "/health/ready/",
        "/admin/",
    }


def test_the_admins_view_site_link_points_at_the_landing(db):

    assert admin.site.site_url == "/"
    assert APIClient().get(admin.site.site_url).status_code == 200
