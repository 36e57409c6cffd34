"""`licita contingency`: a key made on a laptop, a file exported offline and imported later."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from licita.continuity.models import ContingencyProcedure
from tests.continuity.helpers import END, declare, row
from tests.factories import make_office

pytestmark = pytest.mark.django_db


def test_keygen_register_export_import_round_trip(tmp_path, frozen_clock, capsys):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    outage = declare(office, end=END)
    key = tmp_path / "llave.key"
    call_command("contingency", "keygen", "--key", str(key))
    public = capsys.readouterr().out.strip()
    call_command(
        "contingency",
        "register-key",
        "--unit",
        office.unit.key,
        "--user",
        office.operator.username,
        "--public-key",
        public,
    )
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([row("CP-1").as_json(), row("CP-2").as_json()]))
    signed = tmp_path / "signed.json"

    call_command(
        "contingency",
        "export",
        "--key",
        str(key),
        "--outage",
        str(outage.pk),
        "--unit",
        office.unit.key,
        "--input",
        str(rows),
        "--output",
        str(signed),
    )
    call_command("contingency", "import", str(signed))

    assert sorted(ContingencyProcedure.objects.values_list("ref", flat=True)) == ["CP-1", "CP-2"]


def test_import_of_an_altered_file_fails_with_the_field_and_rule(tmp_path, frozen_clock):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    outage = declare(office, end=END)
    altered = tmp_path / "altered.json"
    altered.write_text(
        json.dumps(
            {
                "format": "licita-contingency/1",
                "outage": outage.pk,
                "key_id": "0" * 16,
                "unit": office.unit.key,
                "procedures": [],
                "signature": "AAAA",
            }
        )
    )

    with pytest.raises(CommandError, match="registered_key"):
        call_command("contingency", "import", str(altered))

    assert not ContingencyProcedure.objects.exists()
