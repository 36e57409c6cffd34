"""Outages, deadline extensions and contingency procedures, through the services."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail

from licita.bidding import services as bidding
from licita.continuity import services as cont
from licita.continuity.errors import BadSignature, Duplicate, OutsideOutage
from licita.continuity.models import ContingencyProcedure, DeadlineExtension, Outage, UploadStatus
from licita.core import clock
from licita.core.errors import PermissionDenied, ValidationError
from licita.ledger.models import Leaf, LeafKind
from licita.ops import state
from licita.procurement import services as proc
from licita.procurement.models import Status, TenderAmendment
from licita.procurement.services import procedures_tick
from licita.publication.models import Release
from tests.continuity.helpers import END, START, declare, official_key, row, signed_file
from tests.factories import lots_input, make_direct_contract, make_office, make_procedure, make_supplier, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(frozen_clock):
    return make_office()


def test_outage_declare_appends_a_signed_ledger_leaf(office, frozen_clock):
    frozen_clock.set(START + dt.timedelta(hours=2))

    outage = declare(office)

    leaf = Leaf.objects.get(index=outage.ledger_index)
    assert leaf.kind == LeafKind.OUTAGE
    assert json.loads(leaf.data)["event"] == "declared"
    assert json.loads(leaf.data)["by"] == office.auditor.username
    assert outage.ended_at is None


def test_outage_declare_refused_for_a_buyer_nothing_written(office, frozen_clock):
    frozen_clock.set(START + dt.timedelta(hours=2))
    leaves = Leaf.objects.count()

    with pytest.raises(PermissionDenied):
        cont.outage_declare(actor=office.operator, start=START, affected="Todo", cause="Falla")

    assert Outage.objects.count() == 0
    assert Leaf.objects.count() == leaves


def test_outage_declare_refused_when_overlapping_another(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    declare(office, end=END)

    with pytest.raises(Duplicate) as refused:
        declare(office, start=START + dt.timedelta(days=1))

    assert refused.value.detail["field"] == "start"
    assert Outage.objects.count() == 1


def test_outage_close_extends_overlapping_deadlines_and_publishes_amendment(office, frozen_clock):
    procedure = publish(office, make_procedure(office), days=16)  # deadline 18 March, inside nothing yet
    deadline = procedure.submission_deadline
    frozen_clock.set(START + dt.timedelta(hours=1))
    outage = declare(office)
    frozen_clock.set(END + dt.timedelta(hours=1))

    cont.outage_close(actor=office.auditor, outage=outage, end=END)

    procedure.refresh_from_db()
    outage.refresh_from_db()
    # 4 days of outage, plus 1 business day counted from Monday's end (Tuesday).
    assert outage.extension == dt.timedelta(days=5)
    assert procedure.submission_deadline == deadline + dt.timedelta(days=5)
    amendment = TenderAmendment.objects.get(procedure=procedure)
    assert f"outage {outage.pk}" in amendment.description or f"interrupción {outage.pk}" in amendment.description
    release = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert release.tags == ["tenderAmendment"]
    assert release.data["tender"]["amendments"][-1]["rationale"] == amendment.description
    assert outage.extended_count == 1
    assert json.loads(Leaf.objects.get(index=outage.close_ledger_index).data)["event"] == "closed"


def test_a_large_extension_publishes_its_releases_in_batches_after_commit(
    office, frozen_clock, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(cont, "INLINE_RELEASES", 0)
    procedure = publish(office, make_procedure(office), days=16)
    frozen_clock.set(END + dt.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        declare(office, end=END)

    assert Release.objects.filter(procedure=procedure, tags=["tenderAmendment"]).count() == 1
    assert DeadlineExtension.objects.get().released_at is not None
    assert cont.extension_releases_publish() == 0


def test_outage_close_leaves_procedures_outside_the_outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(days=1))
    later = publish(office, make_procedure(office), days=16)  # published after the outage
    deadline = later.submission_deadline

    declare(office, end=END)

    later.refresh_from_db()
    assert later.submission_deadline == deadline
    assert not DeadlineExtension.objects.exists()


def test_a_deadline_that_fell_inside_the_outage_reopens_and_takes_bids(office, frozen_clock):
    frozen_clock.set(START - dt.timedelta(days=15))
    procedure = publish(office, make_procedure(office), days=16)  # deadline 6 March, inside the outage
    supplier, rep = make_supplier()
    frozen_clock.set(START + dt.timedelta(days=2))
    procedures_tick()
    procedure.refresh_from_db()
    assert procedure.status == Status.CLOSED
    frozen_clock.set(END + dt.timedelta(hours=1))

    declare(office, end=END)
    bid = bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])

    procedure.refresh_from_db()
    assert procedure.status == Status.PUBLISHED
    assert bid.pk is not None


def test_the_fallo_date_inside_the_outage_is_extended_without_reopening_bids(office, frozen_clock):
    frozen_clock.set(START - dt.timedelta(days=20))
    procedure = publish(office, make_procedure(office), days=16, award_deadline=START + dt.timedelta(days=1))
    deadline = procedure.submission_deadline  # 1 March: over before the outage
    frozen_clock.set(START + dt.timedelta(hours=2))
    procedures_tick()
    frozen_clock.set(END + dt.timedelta(hours=1))

    outage = declare(office, end=END)

    procedure.refresh_from_db()
    extension = DeadlineExtension.objects.get(procedure=procedure)
    assert procedure.submission_deadline == deadline
    assert procedure.status == Status.CLOSED  # the submission period was over: bids are not reopened
    assert procedure.award_deadline == START + dt.timedelta(days=1) + outage.extension
    assert (extension.previous_award, extension.new_award) == (START + dt.timedelta(days=1), procedure.award_deadline)
    assert extension.new_submission == extension.previous_submission == deadline
    release = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert release.tags == ["tenderAmendment"]
    assert release.data["tender"]["awardPeriod"]["endDate"] == procedure.award_deadline.isoformat().replace(
        "+00:00", "Z"
    )


def test_the_contract_signature_period_overlapping_the_outage_is_extended(office, frozen_clock):
    frozen_clock.set(START - dt.timedelta(days=3))
    procedure = make_procedure(office, procedure_type="adjudicacion", legal_basis="art42", lots=lots_input("90000"))
    supplier, _rep = make_supplier()
    proc.award_direct(
        actor=office.operator,
        procedure=procedure,
        supplier_rfc=supplier.rfc,
        lots=[proc.DirectAwardLot(lot=1, value="90000")],
    )
    procedure.refresh_from_db()
    signature = procedure.signature_deadline
    assert signature == START - dt.timedelta(days=3) + dt.timedelta(days=15)
    frozen_clock.set(END + dt.timedelta(hours=1))

    outage = declare(office, end=END)

    procedure.refresh_from_db()
    assert procedure.signature_deadline == signature + outage.extension
    assert procedure.status == Status.AWARDED
    extension = DeadlineExtension.objects.get(procedure=procedure)
    assert (extension.previous_signature, extension.new_signature) == (signature, procedure.signature_deadline)
    assert extension.previous_submission is None
    release = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert release.data["tender"]["mexico"]["signatureDeadline"].startswith(
        f"{procedure.signature_deadline:%Y-%m-%dT%H:%M}"
    )


def test_a_signed_contract_or_a_signature_period_over_before_the_outage_is_not_extended(office, frozen_clock):
    frozen_clock.set(START - dt.timedelta(days=1))
    signed = make_direct_contract(office).award.procedure
    frozen_clock.set(START - dt.timedelta(days=20))
    over = make_procedure(office, procedure_type="adjudicacion", legal_basis="art42", lots=lots_input("90000"))
    supplier, _rep = make_supplier()
    proc.award_direct(
        actor=office.operator,
        procedure=over,
        supplier_rfc=supplier.rfc,
        lots=[proc.DirectAwardLot(lot=1, value="90000")],
    )
    frozen_clock.set(END + dt.timedelta(hours=1))

    declare(office, end=END)

    assert not DeadlineExtension.objects.filter(procedure__in=[signed, over]).exists()


def test_publish_refuses_a_fallo_date_before_the_submission_deadline(office, frozen_clock):
    procedure = make_procedure(office)

    with pytest.raises(ValidationError) as refused:
        publish(office, procedure, days=16, award_deadline=clock.now() + dt.timedelta(days=10))

    assert refused.value.detail["field"] == "award_deadline"
    assert refused.value.detail["rule"] == "after_submission"
    procedure.refresh_from_db()
    assert procedure.status == Status.DRAFT
    assert procedure.award_deadline is None


def test_extension_notifies_invited_and_bidding_suppliers(office, frozen_clock, django_capture_on_commit_callbacks):
    procedure = publish(office, make_procedure(office), days=16)
    supplier, rep = make_supplier()
    rep.email = "rep@example.mx"
    rep.save()
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    frozen_clock.set(END + dt.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        declare(office, end=END)

    assert [m.to for m in mail.outbox] == [["rep@example.mx"]]


def test_monitor_opens_the_outage_and_closes_it_when_writes_resume(office, frozen_clock, settings):
    settings.LICITA_READONLY_PROBE_SECONDS = 0
    procedure = publish(office, make_procedure(office), days=16)
    deadline = procedure.submission_deadline
    frozen_clock.set(START)
    state.mark_unwritable(state.DOCUMENTS, "ENOSPC: No space left on device")

    opened = Outage.objects.get()
    frozen_clock.set(END)
    state.probe(force=True)

    outage = Outage.objects.get()
    procedure.refresh_from_db()
    assert opened.origin == Outage.Origin.MONITOR
    assert outage.started_at == START
    assert outage.ended_at == END
    assert procedure.submission_deadline > deadline


def test_monitor_opens_a_database_outage_when_writes_resume_with_its_true_start(office, frozen_clock):
    frozen_clock.set(START)
    state.mark_unwritable(state.DATABASE, "database or disk is full")
    assert not Outage.objects.exists()
    frozen_clock.set(END)

    state.probe(force=True)

    outage = Outage.objects.get()
    assert (outage.started_at, outage.ended_at) == (START, END)


# --- Contingency procedures ---------------------------------------------------------------------


@pytest.fixture
def outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    return declare(office, end=END)


def test_register_from_the_form_records_a_ledger_leaf(office, outage):
    leaves = Leaf.objects.count()

    item = cont.contingency_register(
        actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1")
    )

    assert item.upload_status == UploadStatus.MISSING
    assert Leaf.objects.count() == leaves + 1


def test_register_refuses_a_date_outside_the_outage_nothing_written(office, outage):
    with pytest.raises(OutsideOutage) as refused:
        cont.contingency_register(
            actor=office.operator,
            outage=outage,
            unit_key=office.unit.key,
            procedure=row("CP-1", at=START - dt.timedelta(hours=1)),
        )

    assert refused.value.detail == {"field": "carried_out_at", "rule": "inside_outage"}
    assert not ContingencyProcedure.objects.exists()


def test_register_refuses_a_duplicate(office, outage):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))

    with pytest.raises(Duplicate) as refused:
        cont.contingency_register(
            actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1")
        )

    assert refused.value.detail["field"] == "ref"
    assert ContingencyProcedure.objects.count() == 1


def test_import_of_a_signed_file_registers_every_procedure(office, outage):
    private, key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", amount="99.50")])

    items = cont.contingency_import(actor=None, raw=raw)

    assert [i.ref for i in items] == ["CP-1", "CP-2"]
    assert {i.signed_with_id for i in items} == {key.pk}


def test_import_refuses_a_bad_signature_nothing_written(office, outage):
    private, _key = official_key(office)
    body = json.loads(signed_file(private, outage, office.unit.key, [row("CP-1")]))
    body["procedures"][0]["amount"] = "1.00"  # altered after signing
    leaves = Leaf.objects.count()

    with pytest.raises(BadSignature) as refused:
        cont.contingency_import(actor=None, raw=json.dumps(body).encode())

    assert refused.value.detail["field"] == "signature"
    assert not ContingencyProcedure.objects.exists()
    assert Leaf.objects.count() == leaves


def test_import_refuses_an_unknown_key(office, outage):
    raw = signed_file(Ed25519PrivateKey.generate(), outage, office.unit.key, [row("CP-1")])

    with pytest.raises(BadSignature) as refused:
        cont.contingency_import(actor=None, raw=raw)

    assert refused.value.detail["rule"] == "registered_key"
    assert not ContingencyProcedure.objects.exists()


def test_import_refuses_a_file_whose_second_row_is_outside_the_outage_and_writes_none(office, outage):
    private, _key = official_key(office)
    raw = signed_file(private, outage, office.unit.key, [row("CP-1"), row("CP-2", at=END + dt.timedelta(minutes=5))])

    with pytest.raises(OutsideOutage) as refused:
        cont.contingency_import(actor=None, raw=raw)

    assert refused.value.detail["field"] == "procedures[1].carried_out_at"
    assert not ContingencyProcedure.objects.exists()


def test_overdue_items_escalate_to_the_auditor_once(office, outage, frozen_clock):
    cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1"))
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=1))

    first = cont.contingency_overdue_check()
    second = cont.contingency_overdue_check()

    assert (first, second) == (1, 0)
    assert ContingencyProcedure.objects.get().escalated_at is not None
