"""Registration broken on purpose, field by field, through the API and the outage endpoints: never a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from licita.continuity.models import ContingencyProcedure, Outage
from tests.api.conftest import ApiClient
from tests.continuity.helpers import END, START, declare
from tests.factories import make_office

pytestmark = pytest.mark.django_db

BAD = [None, 0, -1, 1e308, "", " ", "x" * 5000, [], {}, True, "2026-13-45T99:99", "\x00", "a\x00b", "١٢٣"]
#: Free-text fields and their length: any other text within it is a right value, not a broken one.
TEXT = {"ref": 60, "title": 500, "affected": 500, "cause": 5000}


def _acceptable(key, value):
    if key == "amount" and value == "\u0661\u0662\u0663":
        return True  # Arabic-Indic digits are still the number 123, as for Python's Decimal
    limit = TEXT.get(key)
    return limit is not None and isinstance(value, str) and 3 <= len(value.strip()) <= limit and "\x00" not in value


def test_every_broken_registration_field_is_refused_with_its_name(frozen_clock):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    outage = declare(office, end=END)
    client = ApiClient(office.operator)
    good = {
        "outage": outage.pk,
        "unit": office.unit.key,
        "ref": "CP-1",
        "title": "Adquisición de medicamentos en persona",
        "procedure_type": "adjudicacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art41",
        "supplier_rfc": "PRV900102AB1",
        "amount": "150000.00",
        "carried_out_at": (START + dt.timedelta(days=1)).isoformat(),
    }
    for key in good:
        for bad in BAD:
            if _acceptable(key, bad):
                continue
            response = client.post("/contingency/procedures", good | {key: bad})
            assert response.status_code in (400, 403, 404, 409, 422), (key, bad, response.status_code)
            assert response.json()["detail"], (key, bad)
    assert not ContingencyProcedure.objects.exists()
    assert client.post("/contingency/procedures", good).status_code == 201


def test_every_broken_outage_field_is_refused_with_its_name(frozen_clock):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    client = ApiClient(office.auditor)
    good = {"start": START.isoformat(), "end": END.isoformat(), "affected": "Red", "cause": "Fibra cortada"}
    for key in good:
        for bad in BAD:
            if (key == "end" and bad is None) or _acceptable(key, bad):
                continue  # an open outage, or text that is right for the field
            response = client.post("/outages", good | {key: bad})
            assert response.status_code in (400, 409, 422), (key, bad, response.status_code)
    assert not Outage.objects.exists()
    assert client.post("/outages", good).status_code == 201
