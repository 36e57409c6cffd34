"""Errors of the continuity office (outages, extensions, contingency procedures)."""

from __future__ import annotations

from licita.core.errors import Conflict, ValidationError


class BadSignature(ValidationError):
    """Raised when a contingency file's signature does not verify, or its key is not registered."""

    code = "bad_signature"


class OutsideOutage(ValidationError):
    """Raised when an act is dated outside the outage it is recorded under."""

    code = "outside_outage"


class Duplicate(Conflict):
    """Raised when a contingency procedure is registered twice."""

    code = "duplicate"
