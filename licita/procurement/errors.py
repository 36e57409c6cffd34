"""Errors of the procurement app."""

from licita.core.errors import Conflict, LicitaError, ValidationError


class RuleMissing(LicitaError):
    """Raised when no legal rule is recorded for the case (the rule data must be loaded first)."""

    code = "rule_missing"
    status = 409


class DeadlineTooShort(ValidationError):
    """Raised when the period to the opening is below the legal minimum."""

    code = "deadline_too_short"


class ThresholdExceeded(ValidationError):
    """Raised when an amount exceeds the year's direct-award or invitation threshold without an exception."""

    code = "threshold_exceeded"


class SanctionedSupplier(Conflict):
    """Raised when an award goes to a supplier whose sanction (inhabilitación) is in force."""

    code = "supplier_sanctioned"


class AmendmentCapExceeded(ValidationError):
    """Raised when convenios modificatorios would exceed the legal cap."""

    code = "amendment_cap_exceeded"
