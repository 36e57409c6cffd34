"""The continuity API: outages, contingency procedures registered one by one or from a signed file, escalations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licita.continuity import services as cont
from licita.continuity.forms import CONTINGENCY_FILE_MAX_BYTES
from licita.continuity.models import ContingencyProcedure, Source
from licita.ledger.models import Leaf
from tests.api.conftest import ApiClient
from tests.continuity.helpers import END, START, declare, official_key, row, signed_file
from tests.factories import make_office, make_supplier

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(frozen_clock):
    return make_office()


@pytest.fixture
def outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    return declare(office, end=END)


def _body(outage, unit, **overrides):
    return {
        "outage": outage.pk,
        "unit": unit.key,
        "ref": "CP-1",
        "title": "Adquisición de medicamentos en persona",
        "procedure_type": "adjudicacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art41",
        "supplier_rfc": "PRV900102AB1",
        "amount": "150000.00",
        "carried_out_at": (START + dt.timedelta(days=1)).isoformat(),
    } | overrides


def _writes():
    return ContingencyProcedure.objects.count(), Leaf.objects.count()


def _refused(response, status, code, field=None, rule=None):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert body["detail"]["field"] == field
    if rule is not None:
        assert body["detail"]["rule"] == rule


def _upload(client, raw):
    return client.client.post("/api/contingency/files", raw, content_type="application/json", headers=client.headers)


# --- Registration -----------------------------------------------------------------------------


def test_register_records_the_procedure_and_the_unit_lists_it(office, outage):
    client = ApiClient(office.operator)

    created = client.post("/contingency/procedures", _body(outage, office.unit))
    listed = client.get("/contingency/procedures", unit=office.unit.key)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["ref"], body["unit"], body["outage"], body["status"], body["source"]) == (
        "CP-1",
        office.unit.key,
        outage.pk,
        "missing",
        Source.FORM,
    )
    assert body["upload_deadline"] is not None
    assert body["accountability_url"] == outage.get_absolute_url()
    assert [i["ref"] for i in listed.json()["items"]] == ["CP-1"]


def test_register_refuses_a_missing_field_nothing_written(office, outage):
    body = _body(outage, office.unit)
    del body["title"]
    before = _writes()

    response = ApiClient(office.operator).post("/contingency/procedures", body)

    _refused(response, 422, "invalid", "title")
    assert response.json()["detail"]["errors"][0]["rule"] == "missing"
    assert _writes() == before


def test_register_refuses_a_date_outside_the_outage_nothing_written(office, outage):
    before = _writes()

    response = ApiClient(office.operator).post(
        "/contingency/procedures", _body(outage, office.unit, carried_out_at=(END + dt.timedelta(hours=2)).isoformat())
    )

    _refused(response, 422, "outside_outage", "carried_out_at", "inside_outage")
    assert _writes() == before


def test_register_refuses_a_date_without_time_zone(office, outage):
    before = _writes()

    response = ApiClient(office.operator).post(
        "/contingency/procedures", _body(outage, office.unit, carried_out_at="2026-03-06T10:00:00")
    )

    _refused(response, 422, "invalid", "carried_out_at", "datetime")
    assert _writes() == before


def test_register_refuses_a_duplicate_ref_with_409(office, outage):
    client = ApiClient(office.operator)
    client.post("/contingency/procedures", _body(outage, office.unit))
    before = _writes()

    response = client.post("/contingency/procedures", _body(outage, office.unit))

    _refused(response, 409, "duplicate", "ref", "unique")
    assert _writes() == before


def test_register_for_another_unit_is_forbidden_nothing_written(office, outage):
    other = make_office()
    before = _writes()

    response = ApiClient(other.operator).post("/contingency/procedures", _body(outage, office.unit))

    _refused(response, 403, "forbidden", rule="unit_membership")
    assert _writes() == before


def test_register_without_credentials_is_refused_with_401(office, outage):
    response = ApiClient().post("/contingency/procedures", _body(outage, office.unit))

    _refused(response, 401, "unauthenticated")
    assert not ContingencyProcedure.objects.exists()


def test_register_under_an_unknown_outage_is_not_found(office, outage):
    response = ApiClient(office.operator).post(
        "/contingency/procedures", _body(outage, office.unit) | {"outage": 9999}
    )

    _refused(response, 404, "not_found", "outage")


def test_register_refuses_a_malformed_body_with_400(office, outage):
    response = ApiClient(office.operator).post("/contingency/procedures", raw="{no es json")

    _refused(response, 400, "malformed")


# --- Signed files -----------------------------------------------------------------------------


def test_upload_of_a_signed_file_imports_every_procedure(office, outage):
    private, key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", amount="99.50")])

    response = _upload(ApiClient(office.operator), raw)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["imported"] == 2
    assert [p["ref"] for p in body["procedures"]] == ["CP-1", "CP-2"]
    assert {p["source"] for p in body["procedures"]} == {Source.FILE}
    assert set(ContingencyProcedure.objects.values_list("signed_with", flat=True)) == {key.pk}


def test_upload_refuses_a_file_altered_after_signing_nothing_written(office, outage):
    private, _key = official_key(office)
    body = json.loads(signed_file(private, outage, office.unit.key, [row("CP-1")]))
    body["procedures"][0]["amount"] = "1.00"
    before = _writes()

    response = _upload(ApiClient(office.operator), json.dumps(body).encode())

    _refused(response, 422, "bad_signature", "signature", "signature")
    assert _writes() == before


def test_upload_refuses_a_file_signed_with_an_unregistered_key(office, outage):
    raw = signed_file(Ed25519PrivateKey.generate(), outage, office.unit.key, [row("CP-1")])
    before = _writes()

    response = _upload(ApiClient(office.operator), raw)

    _refused(response, 422, "bad_signature", "key_id", "registered_key")
    assert _writes() == before


def test_upload_refuses_a_body_that_is_not_json(office, outage):
    before = _writes()

    response = _upload(ApiClient(office.operator), b"\x89PNG no es json")

    _refused(response, 422, "invalid", "file", "json")
    assert _writes() == before


def test_upload_refuses_an_oversize_file(office, outage):
    before = _writes()

    response = _upload(ApiClient(office.operator), b" " * (CONTINGENCY_FILE_MAX_BYTES + 1))

    _refused(response, 422, "invalid", "file", "max_size")
    assert _writes() == before


def test_upload_refuses_a_row_outside_the_outage_and_writes_none(office, outage):
    private, _key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", at=END + dt.timedelta(hours=1))])
    before = _writes()

    response = _upload(ApiClient(office.operator), raw)

    _refused(response, 422, "outside_outage", "procedures[1].carried_out_at", "inside_outage")
    assert _writes() == before


def test_upload_repeating_a_registered_ref_is_a_conflict(office, outage):
    private, _key = official_key(office)
    client = ApiClient(office.operator)
    _upload(client, signed_file(private, outage, office.unit.key, [row("CP-1")]))
    before = _writes()

    response = _upload(client, signed_file(private, outage, office.unit.key, [row("CP-2"), row("CP-1")]))

    _refused(response, 409, "duplicate", "procedures[1].ref", "unique")
    assert _writes() == before


def test_upload_of_another_units_file_is_forbidden_nothing_written(office, outage):
    private, _key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1")])
    before = _writes()

    response = _upload(ApiClient(make_office().operator), raw)

    _refused(response, 403, "forbidden", rule="unit_membership")
    assert _writes() == before


def test_upload_without_credentials_is_refused_with_401(office, outage):
    private, _key = official_key(office)

    response = _upload(ApiClient(), signed_file(private, outage, office.unit.key, [row("CP-1")]))

    _refused(response, 401, "unauthenticated")
    assert not ContingencyProcedure.objects.exists()


# --- Reads ------------------------------------------------------------------------------------


def test_unit_list_in_a_fixed_number_of_queries(office, outage, django_assert_max_num_queries):
    for ref in ("CP-1", "CP-2", "CP-3", "CP-4"):
        cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row(ref))
    client = ApiClient(office.operator)

    with django_assert_max_num_queries(6):
        response = client.get("/contingency/procedures", unit=office.unit.key, outage=outage.pk)

    assert response.json()["count"] == 4


def test_unit_list_of_another_unit_is_not_found(office, outage):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))

    response = ApiClient(make_office().operator).get("/contingency/procedures", unit=office.unit.key)

    _refused(response, 404, "not_found", "unit")


def test_unit_list_is_open_to_the_units_auditor(office, outage):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))

    response = ApiClient(office.auditor).get("/contingency/procedures", unit=office.unit.key)

    assert response.json()["count"] == 1


def test_escalated_lists_the_auditors_overdue_items_after_the_deadline(office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    client = ApiClient(office.auditor)
    before = client.get("/contingency/escalated").json()
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=2, hours=1))

    checked = client.post("/contingency/overdue-check")
    after = client.get("/contingency/escalated").json()

    assert before["count"] == 0
    assert checked.json() == {"escalated": 1}
    (item,) = after["items"]
    assert (item["ref"], item["status"], item["days_late"]) == ("CP-1", "missing", 3)
    assert item["escalated_at"] is not None


def test_escalated_and_the_check_are_forbidden_to_a_buyer(office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))
    client = ApiClient(office.operator)

    listed = client.get("/contingency/escalated")
    checked = client.post("/contingency/overdue-check")

    _refused(listed, 403, "forbidden", rule="auditor")
    _refused(checked, 403, "forbidden", rule="auditor")
    assert ContingencyProcedure.objects.get().escalated_at is None


def test_escalated_leaves_out_other_institutions(office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))

    response = ApiClient(make_office().auditor).get("/contingency/escalated")

    assert response.json()["count"] == 0


def test_outages_are_public(office, outage):
    response = ApiClient().get("/outages")

    (listed,) = response.json()["items"]
    assert (listed["id"], listed["url"]) == (outage.pk, outage.get_absolute_url())
    assert listed["upload_deadline"] is not None


def test_openapi_schema_lists_the_continuity_endpoints(db):
    paths = ApiClient().get("/openapi.json").json()["paths"]

    assert {
        "/api/outages",
        "/api/contingency/procedures",
        "/api/contingency/files",
        "/api/contingency/escalated",
    } <= set(paths)
    assert "requestBody" in paths["/api/contingency/files"]["post"]


# --- Back-capture -----------------------------------------------------------------------------


def _backcapture(client, body):
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.client.post(
        "/api/contingency/backcapture", raw, content_type="application/json", headers=client.headers
    )


def test_backcapture_of_a_direct_award_and_its_contract_in_one_call(office, outage):
    client = ApiClient(office.operator)
    supplier, _rep = make_supplier()
    assert (
        client.post("/contingency/procedures", _body(outage, office.unit, supplier_rfc=supplier.rfc)).status_code
        == 201
    )
    steps = [
        {"act": "award", "date": (START + dt.timedelta(days=1)).isoformat(), "exception_fraction": "V"},
        {
            "act": "contract",
            "date": (START + dt.timedelta(days=2)).isoformat(),
            "start_date": "2026-03-09",
            "end_date": "2026-12-31",
        },
    ]

    response = _backcapture(client, {"outage": outage.pk, "unit": office.unit.key, "ref": "CP-1", "steps": steps})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["steps"]) == 2
    assert body["procedure"]["status"] == "complete"
    assert body["procedure"]["procedure_number"]
    assert ContingencyProcedure.objects.get().procedure.provenance == "contingency"


def test_backcapture_with_a_bad_step_writes_none_of_it(office, outage):
    client = ApiClient(office.operator)
    supplier, _rep = make_supplier()
    client.post("/contingency/procedures", _body(outage, office.unit, supplier_rfc=supplier.rfc))
    steps = [
        {"act": "award", "date": (START + dt.timedelta(days=1)).isoformat(), "exception_fraction": "V"},
        {"act": "contract", "date": "2026-13-01T00:00:00Z", "start_date": "2026-03-09", "end_date": "2026-12-31"},
    ]
    before = _writes()

    response = _backcapture(client, {"outage": outage.pk, "unit": office.unit.key, "ref": "CP-1", "steps": steps})

    _refused(response, 422, "invalid", "steps[1].date")
    assert _writes() == before
    assert ContingencyProcedure.objects.get().procedure is None


def test_backcapture_refuses_a_procedure_not_registered_and_a_body_that_is_not_json(office, outage):
    client = ApiClient(office.operator)

    unknown = _backcapture(client, {"outage": outage.pk, "unit": office.unit.key, "ref": "NOPE", "steps": [{}]})
    garbage = _backcapture(client, b"{not json")

    assert unknown.status_code in (404, 422), unknown.json()
    assert unknown.json()["detail"]["field"] == "ref"
    _refused(garbage, 422, "invalid", "body", "json")


def test_backcapture_refuses_another_units_buyer(office, outage):
    client = ApiClient(office.operator)
    client.post("/contingency/procedures", _body(outage, office.unit))
    other = make_office()
    steps = [{"act": "award", "date": (START + dt.timedelta(days=1)).isoformat()}]

    response = _backcapture(
        ApiClient(other.operator), {"outage": outage.pk, "unit": office.unit.key, "ref": "CP-1", "steps": steps}
    )

    assert response.status_code in (403, 404), response.json()
    assert ContingencyProcedure.objects.get().procedure is None
