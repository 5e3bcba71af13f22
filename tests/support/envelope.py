"""Assertions for the contract's error envelope, shared by every test module."""

ERROR_TYPES = {400: "validation_error"}


def assert_error(response, status: int, *, attr=..., code=None) -> list[dict]:
    """The response is a JSON error envelope with this status; returns its error entries.

    `attr` (when given) must be the attr of at least one entry; for non-400 errors the body
    must hold exactly one entry.
    """
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    expected_type = (
        "validation_error" if status == 400 else "server_error" if status >= 500 else "client_error"
    )
    assert body["type"] == expected_type, body
    errors = body["errors"]
    assert errors, body
    for error in errors:
        assert set(error) == {"code", "detail", "attr"}, error
        assert isinstance(error["code"], str) and error["code"], error
        assert isinstance(error["detail"], str) and error["detail"], error
    if status != 400:
        assert len(errors) == 1, body
    if attr is not ...:
        assert attr in [error["attr"] for error in errors], body
    if code is not None:
        assert code in [error["code"] for error in errors], body
    return errors


def codes_for(errors: list[dict], attr) -> set[str]:
    return {error["code"] for error in errors if error["attr"] == attr}
