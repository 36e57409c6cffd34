"""Seed the continuity rule: outage length plus one business day; ten business days to back-capture."""

import datetime as dt

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    rule = apps.get_model("continuity", "ContinuityRule")
    rule.objects.get_or_create(
        valid_from=dt.date(2000, 1, 1),
        version=1,
        defaults={
            "source": (
                "Example value, after the SHCP notices of July 2022 (acts suspended, then resumed; agencies to upload"
                " everything once the system was back): outage length plus 1 business day; 10 business days to"
                " back-capture"
            ),
            "is_example": True,
            "extension_business_days": 1,
            "upload_business_days": 10,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("continuity", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
