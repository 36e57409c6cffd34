"""Look up the legal rules (versioned data with their source) that apply to a case."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext as _

from licita.procurement.errors import RuleMissing
from licita.procurement.models import AmendmentCap, MinimumPeriod, Regime, Threshold

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
