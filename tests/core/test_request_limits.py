"""Django's request-size limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_NUMBER_FILES,
DATA_UPLOAD_MAX_MEMORY_SIZE) are client errors in the contract's shape wherever Django raises
them: in a DRF view, in a plain Django view, or in a middleware. The real server's answer on
the API's own URLs is tests/core/test_request_size_server.py."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.support.envelope import assert_error
from tests.support.urls import PROJECTS, TASKS

pytestmark = pytest.mark.django_db

READS_FORM = "/api/test/reads-form/"


def many_parameters(count: int) -> str:
    return "&".join(f"p{i}=1" for i in range(count))


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = "tests.support.error_urls"
    return APIClient(raise_request_exception=False)


def assert_query_string_error(response, limit: int = 1000) -> None:
    (error,) = assert_error(response, 400, attr="query_string", code="too_many_parameters")
    assert error["detail"] == f"The query string has more than {limit} parameters."


@pytest.mark.parametrize("url", [TASKS, PROJECTS])
def test_too_many_query_parameters_on_an_authenticated_list_is_a_400(auth_client, url):
    assert_query_string_error(auth_client.get(f"{url}?{many_parameters(1001)}"))


def test_the_limit_is_the_settings_one(auth_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    assert_query_string_error(auth_client.get(f"{TASKS}?{many_parameters(11)}"), limit=10)
    assert auth_client.get(f"{TASKS}?{many_parameters(10)}").status_code == 200


def test_a_plain_django_view_answers_the_same_400(client):
    assert_query_string_error(client.get(f"{READS_FORM}?{many_parameters(1001)}"))


def test_a_middleware_that_reads_the_query_string_answers_the_same_400(client, settings):
    settings.MIDDLEWARE = [
        *django_settings.MIDDLEWARE,
        "tests.support.error_urls.QueryReadingMiddleware",
    ]

    response = client.get(f"{TASKS}?{many_parameters(1001)}", HTTP_X_READ_QUERY="1")

    assert_query_string_error(response)


def test_too_many_form_fields_in_a_body_is_a_400_about_the_body(client):
    response = client.post(
        READS_FORM, many_parameters(1001), content_type="application/x-www-form-urlencoded"
    )

    (error,) = assert_error(response, 400, attr=None, code="too_many_fields")
    assert error["detail"] == "The request body has more than 1000 fields."


def test_too_many_files_is_a_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"f{i}": SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)}

    response = client.post(READS_FORM, files, format="multipart")

    (error,) = assert_error(response, 400, attr=None, code="too_many_files")
    assert error["detail"] == "The request has more than 2 files."


def test_a_form_body_over_djangos_memory_limit_is_the_413(client, settings):
    settings.MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post(
        READS_FORM, "a=" + "x" * 200, content_type="application/x-www-form-urlencoded"
    )

    (error,) = assert_error(response, 413, attr=None, code="request_too_large")
    assert error["detail"] == "Request body is larger than 100 bytes."
