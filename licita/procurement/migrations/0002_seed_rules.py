"""Seed the legal rules with example values.

Every value is marked `is_example=True`: they come from the project's domain notes (statutory
details recalled from the law, and thresholds observed in CompraNet data), not from a reading of
the Diario Oficial de la Federación. An operator replaces them with a new version that cites its
DOF publication (`licita rules` shows what is in force).
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

PERIOD_SOURCE = (
    "Example: LAASSP Art. 32 / LOPSRM Art. 32 as summarised in the project's domain notes "
    "(national 15, international 20, under treaties 40 calendar days; reducible to 10 with justification) — "
    "to verify against the DOF"
)
INVITATION_SOURCE = (
    "Example: minimum of 5 calendar days for invitations (CompraNet data show a median of 6-7 days) — "
    "to verify against the DOF"
)
THRESHOLD_SOURCE = (
    "Example: PEF annex amounts for one budget band, from the 2019 acquisitions row "
    "(direct award MX$636,840; invitation MX$4,392,920, IMCO's table) — to verify against the year's PEF"
)
CAP_SOURCE = {
    "LAASSP": "Example: LAASSP Art. 52 (20% of amount or quantity) — to verify against the DOF",
    "LOPSRM": "Example: LOPSRM Art. 59 (25% of amount or period) — to verify against the DOF",
}


def seed(apps, schema_editor):
    MinimumPeriod = apps.get_model("procurement", "MinimumPeriod")
    Threshold = apps.get_model("procurement", "Threshold")
    AmendmentCap = apps.get_model("procurement", "AmendmentCap")
    regimes = {"2000": (dt.date(2000, 1, 4), dt.date(2025, 4, 16)), "2025": (dt.date(2025, 4, 17), None)}
    days = {"nacional": 15, "internacional_abierta": 20, "internacional_tratados": 40}
    for law in ("LAASSP", "LOPSRM"):
        for regime, (start, end) in regimes.items():
            for character, n in days.items():
                MinimumPeriod.objects.create(
                    law=law, regime=regime, procedure_type="licitacion", character=character, days=n,
                    reduced_days=10, source=PERIOD_SOURCE, is_example=True, valid_from=start, valid_to=end,
                )
                MinimumPeriod.objects.create(
                    law=law, regime=regime, procedure_type="invitacion", character=character, days=5,
                    reduced_days=5, source=INVITATION_SOURCE, is_example=True, valid_from=start, valid_to=end,
                )
        AmendmentCap.objects.create(
            law=law, percent=Decimal(20 if law == "LAASSP" else 25), source=CAP_SOURCE[law], is_example=True,
            valid_from=dt.date(2000, 1, 4),
        )
    works = {"obra_publica": (Decimal("1200000.00"), Decimal("8500000.00")),
             "servicios_obra": (Decimal("900000.00"), Decimal("6000000.00"))}
    for year in range(2019, 2031):
        for contract_type in ("adquisiciones", "arrendamientos", "servicios", "obra_publica", "servicios_obra"):
            direct, invitation = works.get(contract_type, (Decimal("636840.00"), Decimal("4392920.00")))
            Threshold.objects.create(
                fiscal_year=year, contract_type=contract_type, budget_band=1, direct_award_max=direct,
                invitation_max=invitation, source=THRESHOLD_SOURCE, is_example=True,
                valid_from=dt.date(year, 1, 1), valid_to=dt.date(year, 12, 31),
            )


class Migration(migrations.Migration):
    dependencies = [("procurement", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
