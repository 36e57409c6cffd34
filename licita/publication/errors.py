"""Errors of the publication app."""

from licita.core.errors import ValidationError


class InvalidRelease(ValidationError):
    """Raised when a release or package breaks the OCDS schema, a closed codelist or a text rule."""

    code = "invalid_release"
    status = 422
