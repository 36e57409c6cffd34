"""Every act publishes a valid OCDS release in its own transaction; records match ocdsmerge."""

from __future__ import annotations

import base64
import datetime as dt

import ocdsmerge
import pytest

from licita.bidding import services as bidding
from licita.procurement import services as proc
from licita.procurement.models import Procedure
from licita.publication import build
from licita.publication.errors import InvalidRelease
from licita.publication.models import Record, Release
from licita.publication.schema import release_schema
from tests import factories

pytestmark = pytest.mark.django_db

CANARY = "4817263.91"


def _tags(procedure: Procedure) -> list[list[str]]:
    return [r.tags for r in Release.objects.filter(procedure=procedure).order_by("id")]


def _run_tender(frozen_clock, office, *, prices=("900000.00", "850000.00")):
    procedure = factories.publish(office, factories.make_procedure(office))
    reps = []
    for price in prices:
        supplier, rep = factories.make_supplier()
        bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price=price)])
        reps.append(supplier)
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    bidding.bids_evaluate(
        actor=office.operator,
        procedure=procedure,
        evaluations=[bidding.EvaluationInput(supplier_rfc=s.rfc, lot=1, compliant=True) for s in reps],
    )
    proc.award_decide(actor=office.operator, procedure=procedure)
    return procedure


def test_every_act_of_a_tender_publishes_its_tag_in_order(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    question = proc.clarification_ask(actor=rep, procedure=procedure, question="¿Aceptan entregas parciales?")
    proc.clarification_answer(actor=office.operator, clarification=question, answer="Sí, en dos exhibiciones.")
    proc.procedure_amend(
        actor=office.operator,
        procedure=procedure,
        description="Se amplía el plazo de presentación",
        submission_deadline=procedure.submission_deadline + dt.timedelta(days=3),
    )
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="700000")])
    frozen_clock.move(days=20)
    proc.procedures_tick()
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    bidding.bids_evaluate(
        actor=office.operator,
        procedure=procedure,
        evaluations=[bidding.EvaluationInput(supplier_rfc=supplier.rfc, lot=1, compliant=True)],
    )
    proc.award_decide(actor=office.operator, procedure=procedure)
    contract = proc.contract_sign(
        actor=office.operator,
        award=procedure.awards.get(),
        start_date=dt.date(2026, 4, 1),
        end_date=dt.date(2026, 9, 30),
    )
    proc.contract_amend(
        actor=office.operator,
        contract=contract,
        description="Ampliación",
        rationale="Mayor demanda del área",
        value_change="10000",
    )
    proc.payment_record(actor=office.operator, contract=contract, amount="100000", description="Primer pago")
    proc.contract_complete(actor=office.operator, contract=contract)

    assert _tags(procedure) == [
        ["tender"],
        ["tenderUpdate"],
        ["tenderAmendment"],
        ["tenderUpdate"],
        ["tenderUpdate"],
        ["tenderUpdate"],
        ["award"],
        ["contract"],
        ["contractAmendment"],
        ["implementation"],
        ["contractUpdate"],
    ]
    assert Record.objects.get(procedure=procedure).release_count == 11


def test_cancellation_after_the_fallo_publishes_tender_and_award_cancellation(frozen_clock):
    office = factories.make_office()
    procedure = _run_tender(frozen_clock, office)

    proc.procedure_cancel(
        actor=office.operator, procedure=procedure, reason="Recorte presupuestal del ejercicio en curso"
    )

    last = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert last.tags == ["tenderCancellation", "awardCancellation"]
    assert last.data["tender"]["status"] == "cancelled"
    assert {a["status"] for a in last.data["awards"]} == {"cancelled"}


def test_desierta_publishes_unsuccessful_tender_and_awards(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    bidding.bids_evaluate(actor=office.operator, procedure=procedure, evaluations=[])

    proc.award_decide(actor=office.operator, procedure=procedure)

    last = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert last.tags == ["tenderUpdate", "award"]
    assert last.data["tender"]["status"] == "unsuccessful"
    assert last.data["awards"][0]["status"] == "unsuccessful"


def test_direct_award_publishes_tender_and_award_together_with_its_legal_basis(frozen_clock):
    office = factories.make_office()

    contract = factories.make_direct_contract(office)

    releases = list(Release.objects.filter(procedure=contract.procedure).order_by("id"))
    assert [r.tags for r in releases] == [["tender", "award"], ["contract"]]
    tender = releases[0].data["tender"]
    assert (tender["procurementMethod"], tender["mexico"]["legalBasis"]) == ("direct", "art42")


def test_drafts_publish_nothing(frozen_clock):
    office = factories.make_office()

    procedure = factories.make_procedure(office)
    proc.procedure_cancel(actor=office.operator, procedure=procedure, reason="Se desistió antes de publicar")

    assert not Release.objects.exists()


def test_parties_carry_rfc_and_claveuc_identifiers(frozen_clock):
    office = factories.make_office()
    procedure = _run_tender(frozen_clock, office)

    data = Release.objects.filter(procedure=procedure).order_by("-id").first().data

    schemes = {p["identifier"]["scheme"] for p in data["parties"] if "identifier" in p}
    assert schemes == {"MX-RFC", "MX-CLAVEUC"}
    assert data["ocid"] == f"ocds-lct000-{procedure.expediente}"
    assert data["tender"]["id"] == procedure.number


def test_no_bid_price_is_published_before_the_opening(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price=CANARY)])
    frozen_clock.move(days=17)
    proc.procedures_tick()
    before = [r.data for r in Release.objects.all()] + [r.compiled for r in Record.objects.all()]

    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))

    after = Release.objects.order_by("-id").first().data
    assert "4817263.91" not in repr(before)
    assert "bids" not in before[-1]
    assert after["bids"]["details"][0]["value"]["amount"] == float(CANARY)


def test_an_invalid_release_fails_the_act_and_nothing_is_published(frozen_clock, monkeypatch):
    office = factories.make_office()
    procedure = factories.make_procedure(office)
    original = build.build_release

    def broken(*args, **kwargs):
        release = original(*args, **kwargs)
        release["tender"]["status"] = "bogus"
        return release

    monkeypatch.setattr("licita.publication.services.build_release", broken)

    with pytest.raises(InvalidRelease) as refused:
        factories.publish(office, procedure)

    assert refused.value.detail["path"] == "/tender/status"
    procedure.refresh_from_db()
    assert procedure.status == "draft"
    assert not Release.objects.exists()
    assert not Record.objects.exists()


def test_a_text_with_a_control_character_is_refused_before_anything_is_written(frozen_clock):
    from licita.core.errors import ValidationError  # noqa: PLC0415

    office = factories.make_office()

    with pytest.raises(ValidationError) as refused:
        factories.make_procedure(office, title="Adquisición de papel \x00 bond")

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("title", "text")
    assert not Procedure.objects.exists()
    assert not Release.objects.exists()


def test_compiled_and_versioned_records_equal_ocdsmerge(frozen_clock):
    office = factories.make_office()
    _run_tender(frozen_clock, office)
    contract = factories.make_direct_contract(office)
    proc.contract_amend(
        actor=office.operator,
        contract=contract,
        description="Ampliación",
        rationale="Mayor demanda del área",
        value_change="1000",
    )
    merger = ocdsmerge.Merger(schema=release_schema())

    for record in Record.objects.all():
        releases = [r.data for r in Release.objects.filter(ocid=record.ocid).order_by("id")]
        assert "releases" not in record.state  # the state does not grow with the history
        assert record.compiled == merger.create_compiled_release(releases)
        assert record.versioned == merger.create_versioned_release(releases)


def test_documents_attached_after_publication_are_published(frozen_clock):
    from licita.documents.services import document_attach  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))

    document_attach(
        actor=office.operator,
        procedure=procedure,
        kind="biddingDocuments",
        title="Convocatoria",
        filename="convocatoria.pdf",
        content_b64=base64.b64encode(b"%PDF-1.4 convocatoria").decode(),
    )

    last = Release.objects.order_by("-id").first()
    assert last.tags == ["tenderUpdate"]
    assert last.data["tender"]["documents"][0]["title"] == "Convocatoria"


def test_releases_cannot_be_changed_or_deleted(frozen_clock):
    office = factories.make_office()
    factories.publish(office, factories.make_procedure(office))
    release = Release.objects.get()

    with pytest.raises(TypeError):
        release.save()
    with pytest.raises(TypeError):
        release.delete()


def test_announcing_a_draft_publishes_a_planning_release_and_makes_it_public(frozen_clock):
    from django.test import Client  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.make_procedure(office)

    proc.procedure_announce(actor=office.admin, procedure=procedure)
    factories.publish(office, procedure)

    releases = list(Release.objects.filter(procedure=procedure).order_by("id"))
    assert [r.tags for r in releases] == [["planning"], ["tender"]]
    assert releases[0].data["tender"]["status"] == "planned"
    assert Client().get(f"/api/procedures/{procedure.number}").status_code == 200


def test_announcing_twice_or_after_publication_is_refused(frozen_clock):
    from licita.core.errors import Conflict, InvalidTransition  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.make_procedure(office)
    proc.procedure_announce(actor=office.admin, procedure=procedure)

    with pytest.raises(Conflict):
        proc.procedure_announce(actor=office.admin, procedure=procedure)
    factories.publish(office, procedure)
    with pytest.raises(InvalidTransition):
        proc.procedure_announce(actor=office.admin, procedure=procedure)

    assert Release.objects.filter(procedure=procedure, tags=["planning"]).count() == 1


def test_correcting_the_fallo_amount_publishes_an_award_update(frozen_clock):
    office = factories.make_office()
    procedure = _run_tender(frozen_clock, office)
    award = procedure.awards.get()

    proc.award_correct(
        actor=office.operator, award=award, value="849999.50", rationale="Error aritmético en la suma de la partida"
    )

    last = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert last.tags == ["awardUpdate"]
    assert last.data["awards"][0]["value"]["amount"] == 849999.5
    record = Record.objects.get(procedure=procedure)
    assert record.compiled["awards"][0]["value"]["amount"] == 849999.5


def test_an_award_with_a_contract_cannot_be_corrected(frozen_clock):
    from licita.core.errors import InvalidTransition  # noqa: PLC0415

    office = factories.make_office()
    contract = factories.make_direct_contract(office)

    with pytest.raises(InvalidTransition):
        proc.award_correct(
            actor=office.operator, award=contract.award, value="1000", rationale="Error aritmético en el fallo"
        )

    assert not Release.objects.filter(tags=["awardUpdate"]).exists()


def test_an_act_recorded_after_the_fact_keeps_its_own_date_and_shows_when_it_was_published(frozen_clock):
    from django.db import transaction  # noqa: PLC0415

    from licita.publication.services import release_emit  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    happened = frozen_clock.at - dt.timedelta(days=20)

    with transaction.atomic():
        release = release_emit(procedure=procedure, tags=["tenderUpdate"], date=happened)

    assert release.data["date"] == happened.isoformat().replace("+00:00", "Z")
    assert release.data["publishedDate"] == frozen_clock.at.isoformat().replace("+00:00", "Z")
    assert release.published_at - release.date == dt.timedelta(days=20)
