import io
import logging

import pytest

from config.logging import RedactTokensFilter

ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'


def access_record(path: str) -> logging.LogRecord:
    """A record shaped like uvicorn's access log: the path travels in `args`."""
    return logging.LogRecord(
        name="uvicorn.access",
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg=ACCESS_FORMAT,
        args=("127.0.0.1:50000", "GET", path, "1.1", 101),
        exc_info=None,
    )


def filtered_message(record: logging.LogRecord) -> str:
    assert RedactTokensFilter().filter(record) is True
    return record.getMessage()


def test_token_in_a_websocket_access_log_line_is_redacted():
    message = filtered_message(access_record("/ws/v1/events/?token=abc.def.ghi"))

    assert "abc.def.ghi" not in message
    assert message == '127.0.0.1:50000 - "GET /ws/v1/events/?token=[redacted] HTTP/1.1" 101'


def test_redaction_keeps_the_other_query_parameters():
    message = filtered_message(access_record("/ws/v1/events/?a=1&token=abc.def.ghi&b=two"))

    assert "abc.def.ghi" not in message
    assert "/ws/v1/events/?a=1&token=[redacted]&b=two" in message


def test_redaction_is_case_insensitive_on_the_parameter_name():
    message = filtered_message(access_record("/ws/v1/events/?TOKEN=abc.def.ghi"))

    assert "abc.def.ghi" not in message


def test_a_path_without_a_token_is_left_alone():
    message = filtered_message(access_record("/api/v1/tasks/?page=2&search=token"))

    assert "/api/v1/tasks/?page=2&search=token" in message


def test_a_parameter_merely_ending_in_token_is_left_alone():
    message = filtered_message(access_record("/api/v1/tasks/?csrftoken=keep"))

    assert "csrftoken=keep" in message


def test_non_string_arguments_survive_redaction():
    record = access_record("/ws/v1/events/?token=abc.def.ghi")

    filtered_message(record)

    assert record.args[4] == 101


def test_token_in_the_message_itself_is_redacted():
    record = logging.LogRecord(
        "tasklane",
        logging.WARNING,
        __file__,
        1,
        "socket /ws/v1/events/?token=abc.def closed",
        (),
        None,
    )

    assert "abc.def" not in filtered_message(record)


def test_token_in_mapping_arguments_is_redacted():
    record = logging.LogRecord(
        "tasklane", logging.INFO, __file__, 1, "%(path)s", ({"path": "/ws/?token=abc.def"},), None
    )

    assert filtered_message(record) == "/ws/?token=[redacted]"


def test_uvicorns_access_log_has_no_handler_so_uvicorn_writes_none():
    """uvicorn writes an access line per request whenever this logger has a handler."""
    logger = logging.getLogger("uvicorn.access")
    ours = [handler for handler in logger.handlers if type(handler).__module__ != "_pytest.logging"]

    assert ours == []
    assert not logger.propagate


@pytest.mark.parametrize("logger_name", ["uvicorn", "django", "tasklane"])
def test_configured_handlers_redact_tokens(logger_name):
    logger = logging.getLogger(logger_name)
    configured = logger.handlers if not logger.propagate else logging.getLogger().handlers
    # pytest adds capture handlers of its own; the console handler from LOGGING is the plain one.
    handlers = [handler for handler in configured if type(handler) is logging.StreamHandler]
    assert handlers
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        logger.warning(
            ACCESS_FORMAT, "127.0.0.1:1", "GET", "/ws/v1/events/?token=s.e.cret", "1.1", 101
        )
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)

    output = stream.getvalue()
    assert "token=[redacted]" in output
    assert "s.e.cret" not in output


# --- A credential under any name (issue 20, point 11) -----------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLXBhcnQ"
PAT = "tl_pat_0123456789abcdefghijABCDEFGHIJklmnop"


@pytest.mark.parametrize(
    "path",
    [
        f"/ws/v1/events/?access_token={JWT}",
        f"/ws/v1/events/?%74oken={JWT}",
        "/ws/v1/events/?%74oken=not-a-jwt-but-named-token",
        f"/ws/v1/events/?x=1;token={JWT}",
        "/ws/v1/events/?x=1;token=not-a-jwt-but-named-token",
        f"/api/v1/tasks/?refresh={JWT}&page=2",
        f"/api/v1/tasks/?anything={PAT}",
        "/api/v1/tasks/?q=%65yJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLXBhcnQ",
        f"/api/v1/tasks/?q=Bearer+{JWT}",
    ],
)
def test_a_credential_is_redacted_whatever_its_parameter_is_called(path):
    message = filtered_message(access_record(path))

    assert "[redacted]" in message
    for secret in ("eyJ1c2VyX2lkIjo0Mn0", "c2lnbmF0dXJlLXBhcnQ", "0123456789abcdef", "not-a-jwt"):
        assert secret not in message


def test_other_parameters_survive_next_to_a_redacted_one():
    message = filtered_message(access_record(f"/api/v1/tasks/?page=2&access_token={JWT}&q=a.b.c"))

    assert "/api/v1/tasks/?page=2&access_token=[redacted]&q=a.b.c" in message


def test_a_credential_outside_a_query_string_is_redacted_too():
    record = logging.LogRecord(
        "tasklane", logging.ERROR, __file__, 1, "kwargs={'key': %r, 'auth': %r}", (JWT, PAT), None
    )

    assert filtered_message(record) == "kwargs={'key': '[redacted]', 'auth': '[redacted]'}"


def test_dotted_names_in_tracebacks_are_left_alone():
    text = 'File "rest_framework/authentication.py", in rest_framework.authentication.JWTAuth'

    assert (
        filtered_message(logging.LogRecord("tasklane", logging.ERROR, __file__, 1, text, (), None))
        == text
    )
