"""The refusals a service may raise, in the domain's words and free of HTTP.

Services raise these; `core.errors.ExceptionHandler` maps them to the contract's statuses
and error envelope for the API (`as_api_exception`), and `core.admin` shows the same
`messages` to an operator. One refusal, one wording, wherever it is met.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem: what is wrong (`detail`), its stable `code`, and the input field it
    concerns (`attr`, in the API's dotted names; None for the request as a whole)."""

    detail: str
    code: str
    attr: str | None = None


class DomainError(Exception):
    """A service's refusal: one or more `FieldError`s."""

    default_detail = "The request cannot be carried out."
    default_code = "error"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, attr: str | None = None
    ):
        self.errors = [
            FieldError(detail or self.default_detail, code or self.default_code, attr=attr)
        ]
        super().__init__(self.errors[0].detail)

    @property
    def messages(self) -> list[str]:
        return [error.detail for error in self.errors]


class NotFound(DomainError):
    """The object is gone (or was never the caller's to see)."""

    default_detail = "Not found."
    default_code = "not_found"


class PermissionDenied(DomainError):
    """The caller's role does not allow the action (checked again under a lock)."""

    default_detail = "You do not have permission to perform this action."
    default_code = "permission_denied"


class Conflict(DomainError):
    """The target's state forbids the write (Inbox rules, the owner's row, ...)."""

    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(DomainError):
    """The object is no longer the version the caller expected to change."""

    default_detail = "If-Match does not match the current ETag."
    default_code = "precondition_failed"


class Invalid(DomainError):
    """The input cannot be used, naming the field (`attr`) it concerns."""

    default_detail = "Invalid input."
    default_code = "invalid"

    @classmethod
    def of(cls, errors: list[FieldError]) -> "Invalid":
        """Several problems at once, each on its own field."""
        invalid = cls(errors[0].detail, code=errors[0].code, attr=errors[0].attr)
        invalid.errors = list(errors)
        return invalid
