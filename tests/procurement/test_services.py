"""The lifecycle services: each rule, and that a refused action writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from licita.bidding import services as bidding
from licita.bidding.models import BidLot, OpeningKey
from licita.core.errors import InvalidTransition, NotFound, ValidationError
from licita.core.models import AuditEntry
from licita.procurement import services as proc
from licita.procurement.models import Contract, Lot, Procedure, TenderAmendment
from licita.publication.models import Release
from tests import factories

pytestmark = pytest.mark.django_db


def _opened(frozen_clock, office, prices, *, lots=("1000000.00",), method="binaria"):
    procedure = factories.publish(
        office, factories.make_procedure(office, lots=factories.lots_input(*lots), evaluation_method=method)
    )
    bidders = []
    for price in prices:
        supplier, rep = factories.make_supplier()
        bidding.bid_submit(
            actor=rep,
            procedure=procedure,
            lots=[bidding.BidLotInput(lot=n, price=price) for n in range(1, len(lots) + 1)],
        )
        bidders.append(supplier)
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    return procedure, bidders


def test_fallo_declares_desierta_when_every_bid_is_disqualified(frozen_clock):
    office = factories.make_office()
    procedure, bidders = _opened(frozen_clock, office, ["900.00", "950.00"])
    evaluations = [
        bidding.EvaluationInput(
            supplier_rfc=s.rfc, lot=1, compliant=False, reason="No acreditó la experiencia mínima requerida"
        )
        for s in bidders
    ]
    bidding.bids_evaluate(actor=office.operator, procedure=procedure, evaluations=evaluations)

    proc.award_decide(actor=office.operator, procedure=procedure)

    procedure.refresh_from_db()
    assert procedure.status == "deserted"
    assert procedure.lots.get().status == "unsuccessful"
    assert not procedure.awards.exists()


def test_fallo_awards_each_lot_separately_and_leaves_an_unbid_lot_desierta(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(
        office, factories.make_procedure(office, lots=factories.lots_input("500000", "700000"))
    )
    a, rep_a = factories.make_supplier()
    b, rep_b = factories.make_supplier()
    bidding.bid_submit(actor=rep_a, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="480000")])
    bidding.bid_submit(actor=rep_b, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="470000")])
    frozen_clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    bidding.bids_evaluate(
        actor=office.operator,
        procedure=procedure,
        evaluations=[bidding.EvaluationInput(supplier_rfc=s.rfc, lot=1, compliant=True) for s in (a, b)],
    )

    proc.award_decide(actor=office.operator, procedure=procedure)

    assert procedure.awards.get().supplier == b
    assert dict(Lot.objects.filter(procedure=procedure).values_list("number", "status")) == {
        1: "awarded",
        2: "unsuccessful",
    }


def test_points_evaluation_awards_the_best_total_not_the_lowest_price(frozen_clock):
    office = factories.make_office()
    procedure, (cheap, strong) = _opened(frozen_clock, office, ["800000", "900000"], method="puntos")
    bidding.bids_evaluate(
        actor=office.operator,
        procedure=procedure,
        evaluations=[
            bidding.EvaluationInput(supplier_rfc=cheap.rfc, lot=1, compliant=True, technical_points=46),
            bidding.EvaluationInput(supplier_rfc=strong.rfc, lot=1, compliant=True, technical_points=60),
        ],
    )

    proc.award_decide(actor=office.operator, procedure=procedure)

    points = {bl.bid.supplier.rfc: bl.economic_points for bl in BidLot.objects.select_related("bid__supplier")}
    assert points == {cheap.rfc: Decimal("40.00"), strong.rfc: Decimal("35.56")}
    assert procedure.awards.get().supplier == strong


def test_disqualification_without_reason_is_refused_and_nothing_recorded(frozen_clock):
    office = factories.make_office()
    procedure, (bidder,) = _opened(frozen_clock, office, ["900.00"])

    with pytest.raises(ValidationError) as refused:
        bidding.bids_evaluate(
            actor=office.operator,
            procedure=procedure,
            evaluations=[bidding.EvaluationInput(supplier_rfc=bidder.rfc, lot=1, compliant=False)],
        )

    assert refused.value.detail["rule"] == "reason_required"
    procedure.refresh_from_db()
    assert procedure.status == "opened"
    assert BidLot.objects.get().compliant is None


def test_evaluation_must_cover_every_opened_bid(frozen_clock):
    office = factories.make_office()
    procedure, (first, _second) = _opened(frozen_clock, office, ["900.00", "910.00"])

    with pytest.raises(ValidationError) as refused:
        bidding.bids_evaluate(
            actor=office.operator,
            procedure=procedure,
            evaluations=[bidding.EvaluationInput(supplier_rfc=first.rfc, lot=1, compliant=True)],
        )

    assert refused.value.detail["rule"] == "complete"


def test_cancellation_needs_a_reason_and_is_refused_after_a_contract(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(
        office, procedure_type="adjudicacion", legal_basis="art42", lots=factories.lots_input("300000")
    )
    supplier, _rep = factories.make_supplier()

    with pytest.raises(ValidationError):
        proc.procedure_cancel(actor=office.operator, procedure=procedure, reason="corta")
    (award,) = proc.award_direct(
        actor=office.operator,
        procedure=procedure,
        supplier_rfc=supplier.rfc,
        lots=[proc.DirectAwardLot(lot=1, value="299000")],
    )
    proc.contract_sign(
        actor=office.operator, award=award, start_date=dt.date(2026, 3, 5), end_date=dt.date(2026, 4, 5)
    )
    with pytest.raises(InvalidTransition):
        proc.procedure_cancel(
            actor=office.operator, procedure=procedure, reason="Ya no se requiere el servicio contratado"
        )

    procedure.refresh_from_db()
    assert procedure.status == "contracted"
    assert procedure.cancellation_reason == ""


def test_cancelled_procedure_records_its_reason(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))

    proc.procedure_cancel(
        actor=office.operator, procedure=procedure, reason="Desapareció la necesidad del área requirente"
    )

    procedure.refresh_from_db()
    assert (procedure.status, procedure.cancellation_reason) == (
        "cancelled",
        "Desapareció la necesidad del área requirente",
    )
    assert AuditEntry.objects.filter(action="procedure_cancelled", object_id=str(procedure.pk)).exists()


def test_tender_amendment_extends_the_deadline_and_bids_are_accepted_until_the_new_one(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    new_deadline = procedure.submission_deadline + dt.timedelta(days=5)

    proc.procedure_amend(
        actor=office.operator,
        procedure=procedure,
        description="Se modifica el anexo técnico de la partida 1",
        submission_deadline=new_deadline,
    )
    frozen_clock.set(new_deadline - dt.timedelta(hours=1))
    supplier, rep = factories.make_supplier()
    bid = bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100")])

    assert bid.receipt["payload"]["deadline"] == new_deadline.astimezone(dt.UTC).isoformat()
    assert TenderAmendment.objects.get(procedure=procedure).previous_deadline < new_deadline


def test_tender_amendment_cannot_shorten_the_deadline(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))

    with pytest.raises(ValidationError) as refused:
        proc.procedure_amend(
            actor=office.operator,
            procedure=procedure,
            description="Se adelanta el acto de apertura",
            submission_deadline=procedure.submission_deadline - dt.timedelta(days=1),
        )

    assert refused.value.detail["rule"] == "extend_only"
    assert not TenderAmendment.objects.exists()


def test_tick_closes_procedures_whose_deadline_passed(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    assert proc.procedures_tick() == 0

    frozen_clock.move(days=17)
    moved = proc.procedures_tick()

    procedure.refresh_from_db()
    assert (moved, procedure.status) == (1, "closed")


def test_payments_cannot_exceed_the_contract_and_completion_completes_the_procedure(frozen_clock):
    office = factories.make_office()
    contract = factories.make_direct_contract(office, value="200000")
    procedure = contract.procedure
    proc.payment_record(actor=office.operator, contract=contract, amount="150000", description="Primer pago")

    with pytest.raises(ValidationError):
        proc.payment_record(actor=office.operator, contract=contract, amount="50000.01", description="Pago en exceso")
    proc.milestone_record(
        actor=office.operator, contract=contract, title="Entrega total", due_date=dt.date(2026, 4, 1), met=True
    )
    proc.contract_complete(actor=office.operator, contract=contract)

    assert contract.payments.count() == 1
    assert Contract.objects.get(pk=contract.pk).status == "completed"
    assert Procedure.objects.get(pk=procedure.pk).status == "completed"


def test_lopsrm_cap_is_25_percent(frozen_clock):
    office = factories.make_office()
    contract = factories.make_direct_contract(office, value="1000000", law="LOPSRM", end=dt.date(2026, 9, 5))

    proc.contract_amend(
        actor=office.operator,
        contract=contract,
        description="Obra adicional",
        rationale="Trabajos extraordinarios necesarios",
        value_change="250000",
    )
    with pytest.raises(ValidationError):
        proc.contract_amend(
            actor=office.operator,
            contract=contract,
            description="Obra adicional 2",
            rationale="Más trabajos extraordinarios",
            value_change="0.01",
        )

    assert contract.current_value() == Decimal("1250000.00")


def test_opening_key_committee_must_include_an_auditor(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(office)

    with pytest.raises(ValidationError) as refused:
        factories.publish(office, procedure, committee=[office.admin.pk, office.third.pk])

    assert refused.value.detail["rule"] == "auditor_required"
    procedure.refresh_from_db()
    assert procedure.status == "draft"


def test_scheduled_milestone_is_marked_met_once(frozen_clock):
    office = factories.make_office()
    contract = factories.make_direct_contract(office)
    milestone = proc.milestone_record(
        actor=office.operator, contract=contract, title="Primera entrega", due_date=dt.date(2026, 3, 20)
    )

    proc.milestone_mark_met(actor=office.operator, milestone=milestone)
    with pytest.raises(InvalidTransition):
        proc.milestone_mark_met(actor=office.operator, milestone=milestone, met=False)

    milestone.refresh_from_db()
    assert (milestone.status, milestone.date_met) == ("met", frozen_clock.at)


def test_fiscal_year_follows_mexico_city_time_at_new_year(frozen_clock):
    office = factories.make_office()
    frozen_clock.set(dt.datetime(2027, 1, 1, 3, 0, tzinfo=dt.UTC))  # 31 Dec 2026, 21:00 in Mexico City

    procedure = factories.make_procedure(office)

    assert procedure.fiscal_year == 2026
    assert procedure.number.endswith("-2026")


# --- Editing a draft ---------------------------------------------------------------------------


def _draft_update(office, procedure, *, actor=None, **overrides):
    data = {
        "title": "Adquisición de material de curación y vendas",
        "law": "LAASSP",
        "procedure_type": "licitacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art26",
        "lots": factories.lots_input("600000.00", "250000.00", cucop="42100001"),
    } | overrides
    return proc.procedure_update(actor=actor or office.operator, procedure=procedure, **data)


def _draft_state(procedure):
    procedure.refresh_from_db()
    lots = [
        (lot.number, lot.title, lot.estimated_value, [(i.cucop, i.description, i.quantity) for i in lot.items.all()])
        for lot in procedure.lots.order_by("number").prefetch_related("items")
    ]
    audit = AuditEntry.objects.filter(object_type="procedure", object_id=str(procedure.pk)).count()
    return (procedure.title, procedure.number, procedure.estimated_value, procedure.updated_at, lots, audit)


def test_draft_update_replaces_fields_lots_and_items_and_recomputes_the_value(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(office)
    old_lot = procedure.lots.get().pk

    updated = _draft_update(office, procedure, description="Para las unidades médicas del norte")

    updated.refresh_from_db()
    lots = list(updated.lots.order_by("number").prefetch_related("items"))
    assert updated.title == "Adquisición de material de curación y vendas"
    assert updated.description == "Para las unidades médicas del norte"
    assert updated.estimated_value == Decimal("850000.00")
    assert [(lot.number, lot.estimated_value) for lot in lots] == [(1, Decimal(600000)), (2, Decimal(250000))]
    assert [i.cucop for lot in lots for i in lot.items.all()] == ["42100001", "42100001"]
    assert old_lot not in [lot.pk for lot in lots]
    assert AuditEntry.objects.filter(action="procedure_updated", object_id=str(procedure.pk)).count() == 1
    assert not Release.objects.filter(procedure=procedure).exists()


def test_draft_update_of_type_renumbers_the_letters_and_keeps_the_expediente(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(office)

    updated = _draft_update(
        office, procedure, procedure_type="adjudicacion", legal_basis="art42", lots=factories.lots_input("300000")
    )

    assert procedure.number.startswith("LA-")
    assert updated.number == "AA-" + procedure.number[3:]
    assert updated.expediente == procedure.expediente


def test_draft_update_of_an_announced_plan_publishes_a_planning_release(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(office)
    proc.procedure_announce(actor=office.admin, procedure=procedure)

    _draft_update(office, procedure)

    releases = list(Release.objects.filter(procedure=procedure).order_by("id"))
    assert [r.tags for r in releases] == [["planning"], ["planning"]]
    assert releases[1].data["tender"]["title"] == "Adquisición de material de curación y vendas"
    assert [lot["id"] for lot in releases[1].data["tender"]["lots"]] == ["1", "2"]


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"title": "Ab"}, "title", "min_length"),
        ({"law": "LEY"}, "law", "choice"),
        ({"contract_type": "obra_publica"}, "contract_type", "law_contract_type"),
        ({"lots": []}, "lots", "required"),
        ({"lots": factories.lots_input("100", cucop="12")}, "lots[1].items[1].cucop", "cucop"),
        ({"lots": factories.lots_input("100", "-5")}, "lots[2].estimated_value", None),
        ({"procedure_type": "invitacion", "legal_basis": "art41"}, "exception_fraction", "required"),
        (
            {"procedure_type": "adjudicacion", "legal_basis": "art42", "lots": factories.lots_input("90000000")},
            "estimated_value",
            "threshold",
        ),
    ],
)
def test_draft_update_with_bad_input_is_refused_and_writes_nothing(frozen_clock, overrides, field, rule):
    office = factories.make_office()
    procedure = factories.make_procedure(office)
    before = _draft_state(procedure)
    frozen_clock.move(hours=1)

    with pytest.raises(ValidationError) as refused:
        _draft_update(office, procedure, **overrides)

    assert refused.value.detail["field"] == field
    if rule is not None:
        assert refused.value.detail["rule"] == rule
    assert _draft_state(procedure) == before


def test_draft_update_after_publication_is_refused_and_writes_nothing(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    before = _draft_state(procedure)
    releases = Release.objects.count()

    with pytest.raises(InvalidTransition):
        _draft_update(office, procedure)

    assert _draft_state(procedure) == before
    assert Release.objects.count() == releases


def test_draft_update_by_another_units_buyer_looks_missing_and_writes_nothing(frozen_clock):
    office = factories.make_office()
    other = factories.make_office()
    procedure = factories.make_procedure(office)
    before = _draft_state(procedure)

    with pytest.raises(NotFound):
        _draft_update(office, procedure, actor=other.operator)
    with pytest.raises(NotFound):
        _draft_update(office, procedure, actor=office.auditor)

    assert _draft_state(procedure) == before


def test_record_publish_dates_a_recorded_convocatoria_and_refuses_a_platform_procedure(frozen_clock):
    office = factories.make_office()
    platform = factories.make_procedure(office)
    recorded = factories.make_procedure(office)
    Procedure.objects.filter(pk=recorded.pk).update(provenance="contingency")
    published = frozen_clock.at - dt.timedelta(days=20)
    opening = frozen_clock.at - dt.timedelta(days=12)

    with pytest.raises(ValidationError) as refused:
        proc.procedure_record_publish(
            actor=office.admin, procedure=platform, published_at=published, submission_deadline=opening
        )
    with pytest.raises(ValidationError) as backwards:
        proc.procedure_record_publish(
            actor=office.admin, procedure=recorded, published_at=opening, submission_deadline=published
        )
    proc.procedure_record_publish(
        actor=office.admin, procedure=recorded, published_at=published, submission_deadline=opening
    )

    assert refused.value.detail["rule"] == "recorded_procedure"
    assert (backwards.value.detail["field"], backwards.value.detail["rule"]) == ("submission_deadline", "order")
    platform.refresh_from_db()
    recorded.refresh_from_db()
    assert platform.status == "draft"
    assert (recorded.status, recorded.published_at, recorded.submission_deadline) == ("published", published, opening)
    release = Release.objects.get(procedure=recorded)
    assert release.date == published
    assert release.published_at == frozen_clock.at
    assert not OpeningKey.objects.filter(procedure=recorded).exists()  # its bids were on paper
