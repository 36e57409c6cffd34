"""Errors of the bidding app."""

from licita.core.errors import Conflict


class DeadlinePassed(Conflict):
    """Raised when a bid, a replacement or a withdrawal commits after the submission deadline."""

    code = "deadline_passed"


class OpeningRefused(Conflict):
    """Raised when the opening cannot take place (too early, wrong shares, already opened)."""

    code = "opening_refused"
