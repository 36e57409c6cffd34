"""The buyer's contingency pages (list, registration form, signed-file upload) and the auditor's overdue items."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licita.continuity import backcapture
from licita.continuity import services as cont
from licita.continuity.forms import CONTINGENCY_FILE_MAX_BYTES
from licita.continuity.models import ContingencyProcedure, Source
from licita.ledger.models import Leaf
from tests.continuity.helpers import END, START, declare, official_key, row, signed_file
from tests.factories import make_office, make_supplier

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
#: 6 March 2026, 10:00 in Mexico City (16:00 UTC): a day into the outage, as a datetime-local input sends it.
INSIDE = "2026-03-06T10:00"


@pytest.fixture
def office(frozen_clock):
    return make_office()


@pytest.fixture
def outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    return declare(office, end=END)


def _form(outage, unit, **overrides):
    return {
        "unit": unit.key,
        "outage": str(outage.pk),
        "ref": "CP-1",
        "title": "Adquisición de medicamentos en persona",
        "procedure_type": "adjudicacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art41",
        "supplier_rfc": "PRV900102AB1",
        "amount": "150000.00",
        "carried_out_at": INSIDE,
    } | overrides


def _writes():
    return ContingencyProcedure.objects.count(), Leaf.objects.count()


def _errors(response, field):
    return " ".join(str(e) for e in response.context["form"].errors.get(field, []))


def _upload(client, raw, name="contingencia.json"):
    return client.post(
        reverse("buyer_contingency_upload"), {"file": SimpleUploadedFile(name, raw, "application/json")}, **EN
    )


# --- Registration form ------------------------------------------------------------------------


def test_register_form_records_the_procedure_and_lists_it_as_missing(client, office, outage):
    client.force_login(office.operator)

    response = client.post(reverse("buyer_contingency_register"), _form(outage, office.unit), **EN)

    assert response.status_code == 302
    item = ContingencyProcedure.objects.get()
    assert (item.ref, item.source, item.registered_by) == ("CP-1", Source.FORM, office.operator)
    assert item.carried_out_at == START + dt.timedelta(days=1)
    page = client.get(response["Location"], **EN)
    assert "CP-1" in page.content.decode()
    assert [r.status for r in page.context["rows"]] == ["missing"]


def test_register_form_refuses_a_date_outside_the_outage_nothing_written(client, office, outage):
    client.force_login(office.operator)
    before = _writes()

    response = client.post(
        reverse("buyer_contingency_register"), _form(outage, office.unit, carried_out_at="2026-03-12T10:00"), **EN
    )

    assert response.status_code == 200
    assert "carried_out_at" in _errors(response, "carried_out_at")
    assert "inside_outage" in _errors(response, "carried_out_at")
    assert _writes() == before


def test_register_form_refuses_a_duplicate_ref_nothing_written(client, office, outage):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    client.force_login(office.operator)
    before = _writes()

    response = client.post(reverse("buyer_contingency_register"), _form(outage, office.unit), **EN)

    assert response.status_code == 200
    assert "unique" in _errors(response, "ref")
    assert _writes() == before


def test_register_form_refuses_a_missing_field_nothing_written(client, office, outage):
    client.force_login(office.operator)
    before = _writes()

    response = client.post(reverse("buyer_contingency_register"), _form(outage, office.unit, title=""), **EN)

    assert response.status_code == 200
    assert _errors(response, "title")
    assert _writes() == before


def test_register_form_refuses_a_bad_amount_with_the_services_rule(client, office, outage):
    client.force_login(office.operator)
    before = _writes()

    response = client.post(reverse("buyer_contingency_register"), _form(outage, office.unit, amount="0"), **EN)

    assert response.status_code == 200
    assert "positive" in _errors(response, "amount")
    assert _writes() == before


def test_register_form_refuses_another_units_key_nothing_written(client, office, outage):
    other = make_office()
    client.force_login(office.operator)
    before = _writes()

    response = client.post(reverse("buyer_contingency_register"), _form(outage, other.unit), **EN)

    assert response.status_code == 200
    assert _errors(response, "unit")
    assert _writes() == before


def test_contingency_pages_are_not_found_for_an_auditor_and_ask_a_visitor_to_log_in(client, office, outage):
    anonymous = client.get(reverse("buyer_contingency_register"))
    client.force_login(office.auditor)

    auditor = client.post(reverse("buyer_contingency_register"), _form(outage, office.unit))

    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]
    assert auditor.status_code == 404
    assert not ContingencyProcedure.objects.exists()


# --- Signed file upload -----------------------------------------------------------------------


def test_upload_of_a_signed_file_imports_every_procedure(client, office, outage):
    private, key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", amount="99.50")])
    client.force_login(office.operator)

    response = _upload(client, raw)

    assert response.status_code == 302
    items = ContingencyProcedure.objects.order_by("ref")
    assert [(i.ref, i.source, i.signed_with_id) for i in items] == [
        ("CP-1", Source.FILE, key.pk),
        ("CP-2", Source.FILE, key.pk),
    ]
    page = client.get(response["Location"], **EN)
    assert "2 procedures were imported" in page.content.decode()


def test_upload_refuses_a_file_altered_after_signing_nothing_written(client, office, outage):
    private, _key = official_key(office)
    body = json.loads(signed_file(private, outage, office.unit.key, [row("CP-1")]))
    body["procedures"][0]["amount"] = "1.00"
    client.force_login(office.operator)
    before = _writes()

    response = _upload(client, json.dumps(body).encode())

    assert response.status_code == 200
    assert "field: signature; rule: signature" in _errors(response, "file")
    assert _writes() == before


def test_upload_refuses_a_file_signed_with_an_unregistered_key(client, office, outage):
    raw = signed_file(Ed25519PrivateKey.generate(), outage, office.unit.key, [row("CP-1")])
    client.force_login(office.operator)
    before = _writes()

    response = _upload(client, raw)

    assert "rule: registered_key" in _errors(response, "file")
    assert _writes() == before


def test_upload_refuses_a_file_that_is_not_json(client, office, outage):
    client.force_login(office.operator)
    before = _writes()

    response = _upload(client, b"\x89PNG\r\n\x1a\nno es json", name="foto.json")

    assert response.status_code == 200
    assert "field: file; rule: json" in _errors(response, "file")
    assert _writes() == before


def test_upload_refuses_an_oversize_file_before_reading_it(client, office, outage):
    client.force_login(office.operator)
    before = _writes()

    response = _upload(client, b" " * (CONTINGENCY_FILE_MAX_BYTES + 1))

    assert response.status_code == 200
    assert "rule: max_size" in _errors(response, "file")
    assert _writes() == before


def test_upload_refuses_a_row_outside_the_outage_and_writes_none(client, office, outage):
    private, _key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", at=END + dt.timedelta(hours=1))])
    client.force_login(office.operator)
    before = _writes()

    response = _upload(client, raw)

    assert "field: procedures[1].carried_out_at; rule: inside_outage" in _errors(response, "file")
    assert _writes() == before


def test_upload_refuses_a_file_of_another_unit_nothing_written(client, office, outage):
    private, _key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1")])
    other = make_office()
    client.force_login(other.operator)
    before = _writes()

    response = _upload(client, raw)

    assert response.status_code == 200
    assert "rule: unit_membership" in _errors(response, "file")
    assert _writes() == before


def test_upload_without_a_file_asks_for_one(client, office, outage):
    client.force_login(office.operator)

    response = client.post(reverse("buyer_contingency_upload"), {}, **EN)

    assert response.status_code == 200
    assert _errors(response, "file")


# --- The unit's list --------------------------------------------------------------------------


def test_list_shows_status_deadline_and_days_late_in_a_fixed_number_of_queries(
    client, office, outage, frozen_clock, django_assert_max_num_queries
):
    supplier, _rep = make_supplier()
    for ref in ("CP-1", "CP-2", "CP-3"):
        cont.contingency_register(
            actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row(ref, rfc=supplier.rfc)
        )
    backcapture.contingency_backcapture_award(
        actor=office.operator,
        item=ContingencyProcedure.objects.get(ref="CP-2"),
        awarded_at=START + dt.timedelta(days=1),
        exception_fraction="V",
    )
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=2, hours=1))
    client.force_login(office.operator)

    with django_assert_max_num_queries(8):
        page = client.get(reverse("buyer_contingency"), **EN)

    rows = {r.item.ref: r for r in page.context["rows"]}
    assert {ref: r.status for ref, r in rows.items()} == {"CP-1": "missing", "CP-2": "partial", "CP-3": "missing"}
    assert rows["CP-1"].days_late == 3
    assert rows["CP-1"].deadline == outage.upload_deadline
    assert outage.get_absolute_url() in page.content.decode()


def test_list_shows_only_the_units_own_procedures(client, office, outage):
    other = make_office()
    cont.contingency_register(actor=other.operator, outage=outage, unit_key=other.unit.key, procedure=row("AJENO"))
    client.force_login(office.operator)

    page = client.get(reverse("buyer_contingency"), **EN)

    assert page.context["rows"] == []
    assert "AJENO" not in page.content.decode()


def test_buyer_navigation_links_the_contingency_pages(client, office):
    client.force_login(office.operator)

    html = client.get(reverse("buyer_home"), **EN).content.decode()

    assert reverse("buyer_contingency") in html


# --- The auditor's overdue items --------------------------------------------------------------


def test_auditor_sees_an_item_once_its_deadline_has_passed(
    client, office, outage, frozen_clock, django_assert_max_num_queries
):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    client.force_login(office.auditor)
    before = client.get(reverse("auditor_contingency"), **EN)
    frozen_clock.set(outage.upload_deadline + dt.timedelta(hours=5))

    with django_assert_max_num_queries(8):
        after = client.get(reverse("auditor_contingency"), **EN)

    assert before.context["rows"] == []
    (overdue,) = after.context["rows"]
    assert (overdue.item.ref, overdue.status, overdue.days_late) == ("CP-1", "missing", 1)
    html = after.content.decode()
    assert office.unit.key in html
    assert outage.get_absolute_url() in html


def test_auditor_runs_the_overdue_check_and_the_item_shows_escalated(client, office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))
    client.force_login(office.auditor)

    response = client.post(reverse("auditor_contingency_check"), **EN)

    assert response.status_code == 302
    assert ContingencyProcedure.objects.get().escalated_at == frozen_clock.at
    page = client.get(response["Location"], **EN)
    assert "1 procedure was escalated" in page.content.decode()
    assert page.context["rows"][0].item.escalated_at is not None


def test_auditor_of_another_institution_does_not_see_the_item(client, office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))
    client.force_login(make_office().auditor)

    page = client.get(reverse("auditor_contingency"), **EN)

    assert page.context["rows"] == []


def test_overdue_page_and_check_are_not_found_for_a_buyer(client, office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))
    client.force_login(office.operator)

    page = client.get(reverse("auditor_contingency"))
    check = client.post(reverse("auditor_contingency_check"))

    assert (page.status_code, check.status_code) == (404, 404)
    assert ContingencyProcedure.objects.get().escalated_at is None


def test_auditor_navigation_links_the_overdue_items(client, office):
    client.force_login(office.auditor)

    html = client.get(reverse("auditor_home"), **EN).content.decode()

    assert reverse("auditor_contingency") in html


# --- Back-capture from a file of acts ---------------------------------------------------------

PDF = b"%PDF-1.4\n" + b"acta " * 200 + b"\n%%EOF\n"


def _acts(outage, unit, **step_overrides):
    day = START + dt.timedelta(days=1)
    return {
        "outage": outage.pk,
        "unit": unit.key,
        "ref": "CP-1",
        "steps": [
            {"act": "award", "date": day.isoformat(), "exception_fraction": "V"},
            {"act": "document", "of": "fallo", "date": day.isoformat(), "title": "Acta de fallo", "file": "fallo.pdf"}
            | step_overrides,
        ],
    }


def _backcapture(client, acts, attachments=()):
    data = {
        "file": SimpleUploadedFile("actos.json", json.dumps(acts).encode(), "application/json"),
        "attachments": [SimpleUploadedFile(name, content, "application/pdf") for name, content in attachments],
    }
    return client.post(reverse("buyer_contingency_backcapture"), data, **EN)


@pytest.fixture
def registered(office, outage):
    supplier, _rep = make_supplier()
    return cont.contingency_register(
        actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1", rfc=supplier.rfc)
    )


def test_backcapture_page_records_the_acts_and_their_acta(client, office, outage, registered):
    client.force_login(office.operator)

    response = _backcapture(client, _acts(outage, office.unit), [("fallo.pdf", PDF)])

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    registered.refresh_from_db()
    procedure = registered.procedure
    assert procedure is not None
    assert procedure.provenance == "contingency"
    document = procedure.documents.get()
    assert (document.filename, document.created_at) == ("fallo.pdf", START + dt.timedelta(days=1))
    page = client.get(response["Location"], **EN)
    assert "2 acts were back-captured" in page.content.decode()


def test_backcapture_page_refuses_a_missing_acta_and_writes_nothing(client, office, outage, registered):
    client.force_login(office.operator)
    before = _writes()

    response = _backcapture(client, _acts(outage, office.unit), [("otro.pdf", PDF)])

    assert response.status_code == 200
    assert "steps[1].file" in _errors(response, "file") + _errors(response, "__all__")
    registered.refresh_from_db()
    assert registered.procedure is None
    assert _writes() == before


def test_backcapture_page_refuses_a_file_that_is_not_json(client, office, outage, registered):
    client.force_login(office.operator)
    data = {"file": SimpleUploadedFile("actos.json", b"{not json", "application/json")}

    response = client.post(reverse("buyer_contingency_backcapture"), data, **EN)

    assert response.status_code == 200
    assert "rule: json" in _errors(response, "file")
    registered.refresh_from_db()
    assert registered.procedure is None


def test_backcapture_page_refuses_another_units_buyer(client, office, outage, registered):
    other = make_office()
    client.force_login(other.operator)

    response = _backcapture(client, _acts(outage, office.unit), [("fallo.pdf", PDF)])

    assert response.status_code == 200
    assert _errors(response, "file") + _errors(response, "__all__")
    registered.refresh_from_db()
    assert registered.procedure is None
