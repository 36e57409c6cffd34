"""A file of acts broken on purpose, value by value, through the API: a clear refusal, never a 500, nothing written."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from licita.continuity import services as cont
from licita.continuity.models import ContingencyProcedure
from licita.publication.models import Release
from tests.api.conftest import ApiClient
from tests.continuity.helpers import END, START, declare, row
from tests.factories import make_office, make_supplier

pytestmark = pytest.mark.django_db

BAD = [None, 0, -1, 1e308, "", " ", "x" * 5000, [], {}, [1], {"a": 1}, True, "2026-13-45T99:99", "\x00", "١٢٣"]
#: Values that are right for a key (any text is a title or a file name; a real date is a contract's start).
VALID = {"title": str, "filename": str, "start_date": "2026-03-06"}


def _acceptable(key, bad):
    kind = VALID.get(key)
    if kind is str:
        return isinstance(bad, str) and bad.strip() and len(bad) < 255 and "\x00" not in bad
    return bad == kind


def test_every_broken_value_is_refused_with_its_field_and_nothing_is_written(frozen_clock):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    outage = declare(office, end=END)
    supplier, _rep = make_supplier()
    cont.contingency_register(
        actor=office.operator,
        outage=outage,
        unit_key=office.unit.key,
        procedure=row("CP-1", rfc=supplier.rfc, procedure_type="licitacion", legal_basis="art26"),
    )
    client = ApiClient(office.operator)
    day = START + dt.timedelta(days=1)
    steps = [
        {
            "act": "convocatoria",
            "date": day.isoformat(),
            "submission_deadline": (day + dt.timedelta(days=1)).isoformat(),
        },
        {
            "act": "bids",
            "date": (day + dt.timedelta(days=1)).isoformat(),
            "bids": [{"supplier_rfc": supplier.rfc, "lots": [{"lot": 1, "price": "100.00"}]}],
        },
        {
            "act": "fallo",
            "date": (day + dt.timedelta(days=2)).isoformat(),
            "evaluations": [{"supplier_rfc": supplier.rfc, "lot": 1, "compliant": True}],
        },
        {
            "act": "document",
            "of": "fallo",
            "date": (day + dt.timedelta(days=2)).isoformat(),
            "title": "Acta de fallo",
            "filename": "acta.pdf",
            "content_b64": "JVBERi0xLjQKJSVFT0YK",
        },
        {
            "act": "contract",
            "date": (day + dt.timedelta(days=2)).isoformat(),
            "start_date": "2026-03-10",
            "end_date": "2026-12-31",
        },
    ]
    base = {"outage": outage.pk, "unit": office.unit.key, "ref": "CP-1"}

    def post(body):
        raw = body if isinstance(body, bytes) else json.dumps(body)
        response = client.client.post(
            "/api/contingency/backcapture", raw, content_type="application/json", headers=client.headers
        )
        assert response.status_code < 500, (body, response.content[:300])
        return response

    refused = 0
    for body in [b"", b"null", b"[]", b"\xff\xfe", {"steps": None}, base | {"steps": "x"}, base | {"steps": [None]}]:
        assert post(body).status_code in (400, 404, 422)
        refused += 1
    for i, step in enumerate(steps):
        for key in step:
            for bad in BAD:
                if _acceptable(key, bad):
                    continue
                broken = [dict(s) for s in steps]
                broken[i][key] = bad
                response = post(base | {"steps": broken})
                assert response.status_code in (400, 404, 409, 422), (i, key, bad, response.json())
                assert response.json()["detail"].get("field"), (i, key, bad, response.json())
                refused += 1
    for bad in BAD:
        for i, nested in (
            (1, {"bids": [{"supplier_rfc": bad, "lots": [{"lot": bad, "price": bad}]}]}),
            (2, {"evaluations": [{"supplier_rfc": bad, "lot": bad, "compliant": bad}]}),
        ):
            broken = [dict(s) for s in steps]
            broken[i] |= nested
            assert post(base | {"steps": broken}).status_code in (400, 404, 409, 422)
            refused += 1

    item = ContingencyProcedure.objects.get()
    assert item.procedure_id is None
    assert not Release.objects.filter(procedure__provenance="contingency").exists()
    assert refused > 150
    accepted = post(base | {"steps": steps})
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["procedure"]["status"] == "complete"
