from rest_framework import exceptions, status


class Conflict(exceptions.APIException):
    """409: the target's state forbids the write (Inbox rules, the owner's row, ...)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match does not match the current ETag."
    default_code = "precondition_failed"
