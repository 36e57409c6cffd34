"""Look up the legal rules (versioned data with their source) that apply to a case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from licita.core.errors import LicitaError, ValidationError
from licita.procurement.errors import DeadlineTooShort, RuleMissing
from licita.procurement.models import AmendmentCap, MinimumPeriod, Procedure, ProcedureType, Regime, Threshold

REGIME_2025_STARTS = dt.date(2025, 4, 17)


def regime_for(day: dt.date) -> str:
    """Return the regime in force on `day` (a procedure is judged by the regime in force when it started)."""
    return Regime.R2025 if day >= REGIME_2025_STARTS else Regime.R2000


def _valid_on(day: dt.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def minimum_period(*, law: str, regime: str, procedure_type: str, character: str, on: dt.date) -> MinimumPeriod:
    """Return the minimum-period rule in force on `on` (the latest version)."""
    rule = (
        MinimumPeriod.objects.filter(
            _valid_on(on), law=law, regime=regime, procedure_type=procedure_type, character=character
        )
        .order_by("-version")
        .first()
    )
    if rule is None:
        raise RuleMissing(
            _("No minimum period is recorded for %(law)s, regime %(regime)s, %(type)s, %(character)s")
            % {"law": law, "regime": regime, "type": procedure_type, "character": character},
            rule="minimum_period",
        )
    return rule


def threshold(*, fiscal_year: int, contract_type: str, budget_band: int) -> Threshold:
    """Return the direct-award and invitation thresholds of a fiscal year (the latest version)."""
    rule = (
        Threshold.objects.filter(fiscal_year=fiscal_year, contract_type=contract_type, budget_band=budget_band)
        .order_by("-version")
        .first()
    )
    if rule is None:
        raise RuleMissing(
            _("No thresholds are recorded for fiscal year %(year)s, %(type)s, band %(band)s")
            % {"year": fiscal_year, "type": contract_type, "band": budget_band},
            rule="threshold",
        )
    return rule


def amendment_cap(*, law: str, on: dt.date) -> AmendmentCap:
    """Return the amendment cap of `law` in force on `on`."""
    rule = AmendmentCap.objects.filter(_valid_on(on), law=law).order_by("-version").first()
    if rule is None:
        raise RuleMissing(_("No amendment cap is recorded for %(law)s") % {"law": law}, rule="amendment_cap")
    return rule


# --- The checks a convocatoria must pass before it is published ---------------------------------

MIN_INVITED = 3
#: Natural days after the fallo to sign the contract (LAASSP art. 46, LOPSRM art. 47: "dentro de los quince días
#: naturales siguientes al de la notificación del fallo").
SIGNATURE_DAYS = 15
MIN_JUSTIFICATION = 30


@dataclass(frozen=True)
class Problem:
    """One rule a procedure breaks: the refusal the publication would raise, what the rule is, and the fix."""

    error: LicitaError
    title: str
    fix: str
    source: str = ""

    @property
    def field(self) -> str:
        """Return the input that breaks the rule."""
        return str(self.error.detail.get("field", ""))

    @property
    def message(self) -> str:
        """Return the refusal's message."""
        return str(self.error.message)


def procedure_check(
    procedure: Procedure,
    *,
    at: dt.datetime,
    submission_deadline: dt.datetime | None,
    clarification_deadline: dt.datetime | None = None,
    reduced_period_justification: str = "",
) -> list[Problem]:
    """Return every rule the convocatoria would break if published at `at` with these deadlines (none: it may be)."""
    problems: list[Problem] = []
    if procedure.procedure_type == ProcedureType.INVITATION:
        invited = procedure.invitations.count()
        if invited < MIN_INVITED:
            problems.append(
                Problem(
                    ValidationError(
                        _("An invitation needs at least %(n)d invited suppliers; it has %(m)d")
                        % {"n": MIN_INVITED, "m": invited},
                        field="invitations",
                        rule="min_invited",
                    ),
                    title=_("Invitation to at least three"),
                    fix=_("Invite registered suppliers by RFC until there are at least %(n)d.") % {"n": MIN_INVITED},
                    source=_("LAASSP Art. 43 / LOPSRM Art. 44"),
                )
            )
    if submission_deadline is None:
        problems.append(
            Problem(
                ValidationError(_("submission_deadline is required"), field="submission_deadline", rule="required"),
                title=_("Submission deadline"),
                fix=_("Set the date and time until which bids are accepted (the opening)."),
            )
        )
        return problems
    rule = minimum_period(
        law=procedure.law,
        regime=procedure.regime,
        procedure_type=procedure.procedure_type,
        character=procedure.character,
        on=timezone.localdate(at),
    )
    days = (submission_deadline - at) / dt.timedelta(days=1)
    title = _("Minimum period from publication to the opening")
    if days < rule.reduced_days:
        problems.append(
            Problem(
                DeadlineTooShort(
                    _("The opening must be at least %(n)d calendar days after publication (%(days).1f given)")
                    % {"n": rule.reduced_days, "days": days},
                    field="submission_deadline",
                    rule="minimum_period",
                    minimum_days=rule.reduced_days,
                    source=rule.source,
                ),
                title=title,
                fix=_("Move the submission deadline to at least %(n)d calendar days from publication.")
                % {"n": rule.days},
                source=rule.source,
            )
        )
    elif days < rule.days and len(reduced_period_justification.strip()) < MIN_JUSTIFICATION:
        problems.append(
            Problem(
                DeadlineTooShort(
                    _(
                        "The opening must be at least %(n)d calendar days after publication (%(days).1f given); a"
                        " period reduced to no less than %(r)d days needs a written justification"
                    )
                    % {"n": rule.days, "days": days, "r": rule.reduced_days},
                    field="reduced_period_justification",
                    rule="minimum_period",
                    minimum_days=rule.days,
                    reduced_minimum_days=rule.reduced_days,
                    source=rule.source,
                ),
                title=title,
                fix=_(
                    "Move the submission deadline to at least %(n)d calendar days from publication, or write the"
                    " justification of the reduced period (at least %(m)d characters)."
                )
                % {"n": rule.days, "m": MIN_JUSTIFICATION},
                source=rule.source,
            )
        )
    if clarification_deadline is not None and not at < clarification_deadline <= submission_deadline:
        problems.append(
            Problem(
                ValidationError(
                    _("clarification_deadline must be after now and not after the submission deadline"),
                    field="clarification_deadline",
                    rule="order",
                ),
                title=_("Clarification meeting"),
                fix=_("Set the end of questions between now and the submission deadline."),
            )
        )
    return problems
