"""The project's one error hierarchy.

Every error a user can cause is a `LicitaError` with a stable `code`, a translatable `message`,
a `detail` dict (which field, which rule) and the HTTP status the API answers with.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LicitaError(Exception):
    """Raised when an action is refused; the base of every error the platform explains."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: Any, *, code: str | None = None, **detail: Any) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        """Return the API error body."""
        return {"code": self.code, "message": str(self.message), "detail": self.detail}


class ValidationError(LicitaError):
    """Raised when input breaks a rule; `detail["field"]` names the field."""

    code = "invalid"
    status = 422


class NotFound(LicitaError):
    """Raised when an object is missing or the actor may not see it (the two look alike)."""

    code = "not_found"
    status = 404


class PermissionDenied(LicitaError):
    """Raised when the actor may see an object but not perform the action."""

    code = "forbidden"
    status = 403


class InvalidTransition(LicitaError):
    """Raised when a status change is not in the transition table."""

    code = "invalid_transition"
    status = 409


class Conflict(LicitaError):
    """Raised when the action clashes with the current state (a deadline passed, a duplicate)."""

    code = "conflict"
    status = 409
