"""No body, however wrong its types, makes a write endpoint answer 500: every refusal is a
4xx in the contract's error shape. (DRF's CharField accepts numbers as text, so a title of
1.5 is a valid title "1.5"; that is accepted, not an error.)"""

import json

import pytest

from tests.support.auth import logged_in
from tests.support.envelope import assert_error

WRONG_VALUES = [
    None,
    True,
    10**30,
    -1,
    1.5,
    "x" * 20_000,
    "a\x00b",
    [],
    {},
    [1],
    {"a": 1},
    "\ud800",
]


@pytest.fixture
def targets(team):
    client = logged_in(team.owner, raise_request_exception=False)
    task = client.post(
        "/api/v1/tasks/", {"title": "T", "project_id": team.project.pk}, format="json"
    )
    assert task.status_code == 201, task.content
    project = f"/api/v1/projects/{team.project.pk}/"
    return client, [
        ("post", "/api/v1/projects/", ["name", "description"]),
        ("patch", project, ["name", "description"]),
        ("post", f"{project}transfer/", ["user_id"]),
        ("post", f"{project}members/", ["email", "role"]),
        ("patch", f"{project}members/{team.member.pk}/", ["role"]),
        (
            "post",
            "/api/v1/tasks/",
            ["title", "description", "status", "due_date", "assignee_id", "project_id"],
        ),
        (
            "patch",
            f"/api/v1/tasks/{task.json()['id']}/",
            ["title", "status", "due_date", "assignee_id", "project_id"],
        ),
        ("patch", "/api/v1/auth/me/", ["name", "email", "timezone"]),
        ("post", "/api/v1/auth/password/", ["current_password", "new_password"]),
    ]


def test_a_lone_surrogate_echoed_in_an_error_is_a_400_not_a_500(team):
    client = logged_in(team.owner, raise_request_exception=False)

    response = client.generic(
        "POST",
        f"/api/v1/projects/{team.project.pk}/members/",
        json.dumps({"email": team.stranger.email, "role": "\ud800"}),
        content_type="application/json",
    )

    assert_error(response, 400, attr="role")


def test_wrong_types_and_huge_values_are_4xx_never_500(targets):
    client, endpoints = targets
    for method, url, fields in endpoints:
        for field in fields:
            for value in WRONG_VALUES:
                body = json.dumps({field: value})  # ASCII-escaped: a lone surrogate travels too
                response = client.generic(
                    method.upper(), url, body, content_type="application/json"
                )
                assert response.status_code < 500, (
                    method,
                    url,
                    field,
                    repr(value)[:40],
                    response.content[:300],
                )
                if response.status_code >= 400:
                    assert_error(response, response.status_code)


# --- Integers too long for Python's int() (more than 4,300 digits) ---------------------------

HUGE = "9" * 5000
BEYOND_BIGINT = str(2**63)


@pytest.mark.parametrize("digits", [HUGE, BEYOND_BIGINT, "1" + "0" * 30])
@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/tasks/", "page"),
        ("/api/v1/tasks/", "page_size"),
        ("/api/v1/tasks/", "assignee"),
        ("/api/v1/tasks/", "project"),
        ("/api/v1/projects/", "page"),
        ("/api/v1/projects/", "page_size"),
        ("/api/v1/projects/{project}/members/", "page"),
        ("/api/v1/projects/{project}/activity/", "page_size"),
    ],
)
def test_an_integer_parameter_that_does_not_fit_64_bits_is_a_400_naming_it(
    team, path, parameter, digits
):
    client = logged_in(team.owner, raise_request_exception=False)

    response = client.get(path.format(project=team.project.pk), {parameter: digits})

    assert_error(response, 400, attr=parameter)


@pytest.mark.parametrize("digits", [HUGE, BEYOND_BIGINT])
def test_an_integer_body_field_that_does_not_fit_64_bits_is_a_400_naming_it(team, digits):
    client = logged_in(team.owner, raise_request_exception=False)
    project = f"/api/v1/projects/{team.project.pk}/"
    cases = [
        ("POST", "/api/v1/tasks/", '{"title": "T", "project_id": %s}', "project_id"),
        ("POST", "/api/v1/tasks/", '{"title": "T", "assignee_id": %s}', "assignee_id"),
        ("POST", f"{project}transfer/", '{"user_id": %s}', "user_id"),
    ]
    for method, url, template, field in cases:
        response = client.generic(method, url, template % digits, content_type="application/json")

        assert_error(response, 400, attr=field)
