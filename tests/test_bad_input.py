"""No body, however wrong its types, makes a write endpoint answer 500: every refusal is a
4xx in the contract's error shape. (DRF's CharField accepts numbers as text, so a title of
1.5 is a valid title "1.5"; that is accepted, not an error.)"""

import json

import pytest
from rest_framework.test import APIClient

from tests.envelope import assert_error

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
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_access(team.owner)}")
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


def _access(user):
    from conftest import login

    return login(APIClient(), user)["access"]


def test_a_lone_surrogate_echoed_in_an_error_is_a_400_not_a_500(team):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_access(team.owner)}")

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
