"""Back-capture of licitaciones and invitaciones carried out in person: every act, both clocks, the refusals."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from licita.bidding import services as bidding
from licita.bidding.models import Bid
from licita.continuity import backcapture
from licita.continuity import services as cont
from licita.continuity.errors import Duplicate, OutsideOutage
from licita.continuity.models import ContingencyProcedure, DeadlineExtension, UploadStatus
from licita.core import clock
from licita.core.errors import InvalidTransition, NotFound, ValidationError
from licita.documents.models import Document
from licita.procurement.models import Procedure, Provenance, Status
from licita.publication.build import iso_datetime
from licita.publication.models import Record, Release
from licita.publication.schema import validate_release
from tests.continuity.helpers import END, START, declare, row
from tests.factories import make_office, make_procedure, make_supplier, publish

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"acta " * 400 + b"\n%%EOF\n"
#: The acts of the licitación: the convocatoria during the outage, the rest after it (the platform is back).
PUBLISHED = START + dt.timedelta(days=1)
OPENED = START + dt.timedelta(days=16)
AWARDED = START + dt.timedelta(days=18)
SIGNED = START + dt.timedelta(days=20)
UPLOAD = START + dt.timedelta(days=25)


@pytest.fixture
def office(frozen_clock):
    return make_office()


@pytest.fixture
def outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    return declare(office, end=END)


@pytest.fixture
def suppliers():
    return [make_supplier()[0] for _ in range(3)]


def register(office, outage, suppliers, ref="LP-1", **kw):
    data = {
        "procedure_type": "licitacion",
        "legal_basis": "art26",
        "rfc": suppliers[0].rfc,
        "amount": "900000.00",
        "at": PUBLISHED,
    } | kw
    return cont.contingency_register(
        actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row(ref, **data)
    )


def bid(supplier, price):
    return bidding.RecordedBidInput(supplier_rfc=supplier.rfc, lots=[bidding.BidLotInput(lot=1, price=price)])


def convocatoria(office, item, **kw):
    data = {"published_at": PUBLISHED, "submission_deadline": OPENED} | kw
    return backcapture.contingency_backcapture_tender(actor=office.operator, item=item, **data)


def written(item):
    """Return what the back-capture wrote: procedures, bids, releases, documents and the item's procedure."""
    item.refresh_from_db()
    return (
        Procedure.objects.count(),
        Bid.objects.count(),
        Release.objects.count(),
        Document.objects.count(),
        item.procedure_id,
    )


def test_licitacion_backcaptured_in_full_publishes_valid_releases_dated_when_each_act_happened(
    office, outage, suppliers, frozen_clock
):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)

    convocatoria(office, item)
    backcapture.contingency_backcapture_bids(
        actor=office.operator,
        item=item,
        opened_at=OPENED,
        bids=[bid(suppliers[0], "880000.00"), bid(suppliers[1], "910000.00")],
    )
    backcapture.contingency_backcapture_fallo(
        actor=office.operator,
        item=item,
        awarded_at=AWARDED,
        evaluations=[
            bidding.EvaluationInput(supplier_rfc=suppliers[0].rfc, lot=1, compliant=True),
            bidding.EvaluationInput(supplier_rfc=suppliers[1].rfc, lot=1, compliant=True),
        ],
    )
    backcapture.contingency_backcapture_document(
        actor=office.operator,
        item=item,
        act="fallo",
        dated_at=AWARDED,
        title="Acta de fallo",
        filename="acta-fallo.pdf",
        content_b64=base64.b64encode(PDF).decode(),
    )
    backcapture.contingency_backcapture_contract(
        actor=office.operator,
        item=item,
        signed_at=SIGNED,
        start_date=dt.date(2026, 4, 1),
        end_date=dt.date(2026, 12, 31),
    )

    item.refresh_from_db()
    procedure = item.procedure
    assert item.upload_status == UploadStatus.COMPLETE
    assert (procedure.provenance, procedure.status) == (Provenance.CONTINGENCY, Status.CONTRACTED)
    assert (procedure.published_at, procedure.opened_at, procedure.awarded_at) == (PUBLISHED, OPENED, AWARDED)
    assert procedure.signature_deadline == AWARDED + dt.timedelta(days=15)
    releases = list(Release.objects.filter(procedure=procedure).order_by("id"))
    for release in releases:
        validate_release(release.data)
        assert release.data["publishedDate"] == iso_datetime(UPLOAD)
        assert release.data["tender"]["mexico"]["provenance"] == "contingency"
        assert release.data["contingency"]["outage"] == str(outage.pk)
    # Each act's own release is dated when the act happened; every one was published at the upload.
    assert [(r.tags, r.data["date"]) for r in releases] == [
        (["tender"], iso_datetime(PUBLISHED)),
        (["tenderUpdate"], iso_datetime(OPENED)),
        (["tenderUpdate"], iso_datetime(AWARDED)),  # the evaluation, recorded with the fallo
        (["award"], iso_datetime(AWARDED)),
        (["tenderUpdate"], iso_datetime(AWARDED)),  # the acta de fallo
        (["contract"], iso_datetime(SIGNED)),
    ]
    last = releases[-1].data
    assert last["tender"]["tenderPeriod"] == {"startDate": iso_datetime(PUBLISHED), "endDate": iso_datetime(OPENED)}
    assert {d["date"] for d in last["bids"]["details"]} == {iso_datetime(OPENED)}
    assert [(a["date"], a["suppliers"][0]["id"]) for a in last["awards"]] == [
        (iso_datetime(AWARDED), f"MX-RFC-{suppliers[0].rfc}")
    ]
    assert last["contracts"][0]["dateSigned"] == iso_datetime(SIGNED)
    assert [(d["documentType"], d["datePublished"]) for d in last["tender"]["documents"]] == [
        ("awardNotice", iso_datetime(AWARDED))
    ]
    compiled = Record.objects.get(procedure=procedure).compiled
    assert compiled["awards"][0]["date"] == iso_datetime(AWARDED)
    assert compiled["tender"]["mexico"]["provenance"] == "contingency"


def test_a_licitacion_of_two_lots_gets_one_contract_per_award(office, outage, suppliers, frozen_clock, tmp_path):
    register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    _path, data = acts_file(tmp_path, outage, office, suppliers)
    lot = {"title": "Partida", "estimated_value": "450000.00"}
    item = {"cucop": "25100001", "description": "Material de curación", "quantity": "10", "unit": "caja"}
    data["steps"][0]["lots"] = [lot | {"items": [item]}, lot | {"items": [item]}]
    data["steps"][1]["bids"] = [
        {"supplier_rfc": suppliers[0].rfc, "lots": [{"lot": 1, "price": "400000.00"}, {"lot": 2, "price": "460000"}]},
        {"supplier_rfc": suppliers[1].rfc, "lots": [{"lot": 2, "price": "420000.00"}]},
    ]
    del data["steps"][2]  # the acta's file is read by the command, not the service
    data["steps"][2]["evaluations"] = [
        {"supplier_rfc": suppliers[0].rfc, "lot": 1, "compliant": True},
        {"supplier_rfc": suppliers[0].rfc, "lot": 2, "compliant": True},
        {"supplier_rfc": suppliers[1].rfc, "lot": 2, "compliant": True},
    ]

    done, steps = backcapture.contingency_backcapture_file(actor=office.operator, data=data)

    contracts = done.procedure.contracts.order_by("code")
    assert len(steps) == 4
    assert done.upload_status == UploadStatus.COMPLETE
    assert [(c.award.lot.number, c.supplier.rfc, str(c.value)) for c in contracts] == [
        (1, suppliers[0].rfc, "400000.00"),
        (2, suppliers[1].rfc, "420000.00"),
    ]
    assert {c.date_signed for c in contracts} == {SIGNED}


def test_invitation_partly_backcaptured_shows_partial(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers, ref="IN-1", procedure_type="invitacion", legal_basis="art41")
    frozen_clock.set(UPLOAD)

    convocatoria(office, item, invited_rfcs=[s.rfc for s in suppliers], exception_fraction="V")
    backcapture.contingency_backcapture_bids(
        actor=office.operator, item=item, opened_at=OPENED, bids=[bid(suppliers[2], "500000.00")]
    )

    item.refresh_from_db()
    assert item.upload_status == UploadStatus.PARTIAL
    assert item.procedure.status == Status.OPENED
    release = Release.objects.filter(procedure=item.procedure).order_by("-id").first()
    assert release.data["tender"]["procurementMethod"] == "selective"
    assert release.data["tender"]["numberOfTenderers"] == 1


def test_recorded_bids_are_refused_for_a_platform_procedure_nothing_written(office, suppliers, frozen_clock):
    procedure = publish(office, make_procedure(office), days=16)
    frozen_clock.move(days=17)
    before = (Bid.objects.count(), Release.objects.count())

    with pytest.raises(ValidationError) as refused:
        bidding.bids_record(
            actor=office.operator, procedure=procedure, opened_at=clock.now(), bids=[bid(suppliers[0], "1.00")]
        )

    procedure.refresh_from_db()
    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("procedure", "recorded_procedure")
    assert (Bid.objects.count(), Release.objects.count()) == before
    assert procedure.opened_at is None


def test_bids_before_the_convocatoria_are_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_bids(
            actor=office.operator, item=item, opened_at=OPENED, bids=[bid(suppliers[0], "1.00")]
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("ref", "order")
    assert written(item) == before


def test_bids_dated_in_the_future_are_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item)
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_bids(
            actor=office.operator,
            item=item,
            opened_at=UPLOAD + dt.timedelta(hours=1),
            bids=[bid(suppliers[0], "1.00")],
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("opened_at", "not_future")
    assert written(item) == before
    assert Procedure.objects.get().opened_at is None


def test_bids_dated_before_the_convocatoria_are_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item, published_at=PUBLISHED + dt.timedelta(hours=5))
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_bids(
            actor=office.operator,
            item=item,
            opened_at=PUBLISHED + dt.timedelta(hours=1),
            bids=[bid(suppliers[0], "1.00")],
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("opened_at", "order")
    assert written(item) == before


def test_a_convocatoria_outside_the_outage_is_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    before = written(item)

    with pytest.raises(OutsideOutage) as refused:
        convocatoria(office, item, published_at=END + dt.timedelta(days=1), submission_deadline=UPLOAD)

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("published_at", "inside_outage")
    assert written(item) == before


def test_a_convocatoria_before_the_registered_date_is_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        convocatoria(office, item, published_at=PUBLISHED - dt.timedelta(hours=2))

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("published_at", "not_before_carried_out")
    assert written(item) == before


def test_a_convocatoria_backcaptured_twice_is_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item)
    before = written(item)

    with pytest.raises(Duplicate) as refused:
        convocatoria(office, item)

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("ref", "unique")
    assert written(item) == before


def test_a_fallo_backcaptured_twice_is_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item)
    backcapture.contingency_backcapture_bids(
        actor=office.operator, item=item, opened_at=OPENED, bids=[bid(suppliers[0], "880000.00")]
    )
    evaluations = [bidding.EvaluationInput(supplier_rfc=suppliers[0].rfc, lot=1, compliant=True)]
    backcapture.contingency_backcapture_fallo(
        actor=office.operator, item=item, awarded_at=AWARDED, evaluations=evaluations
    )
    before = written(item)

    with pytest.raises(Duplicate) as refused:
        backcapture.contingency_backcapture_fallo(
            actor=office.operator, item=item, awarded_at=AWARDED, evaluations=evaluations
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("ref", "unique")
    assert written(item) == before


def test_a_fallo_that_leaves_the_licitacion_desierta_completes_the_item(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item)
    backcapture.contingency_backcapture_bids(
        actor=office.operator, item=item, opened_at=OPENED, bids=[bid(suppliers[0], "880000.00")]
    )

    procedure = backcapture.contingency_backcapture_fallo(
        actor=office.operator,
        item=item,
        awarded_at=AWARDED,
        evaluations=[
            bidding.EvaluationInput(
                supplier_rfc=suppliers[0].rfc, lot=1, compliant=False, reason="No acreditó la experiencia requerida"
            )
        ],
    )

    item.refresh_from_db()
    assert procedure.status == Status.DESERTED
    assert item.upload_status == UploadStatus.COMPLETE
    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_contract(
            actor=office.operator,
            item=item,
            signed_at=SIGNED,
            start_date=dt.date(2026, 4, 1),
            end_date=dt.date(2026, 12, 31),
        )
    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("ref", "awarded")


def test_a_licitacion_is_not_backcaptured_as_a_direct_award(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_award(actor=office.operator, item=item, awarded_at=PUBLISHED)

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == (
        "procedure_type",
        "backcapture_direct_award",
    )
    assert written(item) == before


def test_an_uninvited_paper_bid_is_refused_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers, ref="IN-1", procedure_type="invitacion", legal_basis="art41")
    frozen_clock.set(UPLOAD)
    convocatoria(office, item, invited_rfcs=[s.rfc for s in suppliers], exception_fraction="V")
    outsider = make_supplier()[0]
    before = written(item)

    with pytest.raises(ValidationError) as refused:
        backcapture.contingency_backcapture_bids(
            actor=office.operator,
            item=item,
            opened_at=OPENED,
            bids=[bid(suppliers[0], "400000.00"), bid(outsider, "300000.00")],
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("bids[2].supplier_rfc", "invited")
    assert written(item) == before


def acts_file(tmp_path, outage, office, suppliers, ref="LP-1"):
    (tmp_path / "acta-apertura.pdf").write_bytes(PDF)
    data = {
        "outage": outage.pk,
        "unit": office.unit.key,
        "ref": ref,
        "steps": [
            {"act": "convocatoria", "date": PUBLISHED.isoformat(), "submission_deadline": OPENED.isoformat()},
            {
                "act": "bids",
                "date": OPENED.isoformat(),
                "bids": [{"supplier_rfc": suppliers[0].rfc, "lots": [{"lot": 1, "price": "880000.00"}]}],
            },
            {
                "act": "document",
                "of": "apertura",
                "date": OPENED.isoformat(),
                "title": "Acta de presentación y apertura",
                "file": "acta-apertura.pdf",
            },
            {
                "act": "fallo",
                "date": AWARDED.isoformat(),
                "evaluations": [{"supplier_rfc": suppliers[0].rfc, "lot": 1, "compliant": True}],
            },
            {"act": "contract", "date": SIGNED.isoformat(), "start_date": "2026-04-01", "end_date": "2026-12-31"},
        ],
    }
    path = tmp_path / "actos.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def test_command_backcaptures_a_licitacion_from_a_file(office, outage, suppliers, frozen_clock, tmp_path):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    path, _data = acts_file(tmp_path, outage, office, suppliers)

    out = io.StringIO()

    call_command("contingency", "backcapture", str(path), "--user", office.operator.username, stdout=out)

    item.refresh_from_db()
    assert item.upload_status == UploadStatus.COMPLETE
    assert item.procedure.documents.get().filename == "acta-apertura.pdf"
    assert f"LP-1: {UploadStatus.COMPLETE.label}" in out.getvalue()
    status = io.StringIO()
    call_command(
        "contingency",
        "backcapture-status",
        "--outage",
        str(outage.pk),
        "--unit",
        office.unit.key,
        "--ref",
        "LP-1",
        stdout=status,
    )
    assert item.procedure.number in status.getvalue()


def test_command_refuses_a_file_with_a_bad_step_and_writes_none_of_it(
    office, outage, suppliers, frozen_clock, tmp_path
):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    path, data = acts_file(tmp_path, outage, office, suppliers)
    data["steps"][3]["date"] = (UPLOAD + dt.timedelta(days=1)).isoformat()
    path.write_text(json.dumps(data), encoding="utf-8")
    before = written(item)

    with pytest.raises(CommandError) as refused:
        call_command("contingency", "backcapture", str(path), "--user", office.operator.username)

    assert "field=awarded_at" in str(refused.value)
    assert "rule=not_future" in str(refused.value)
    assert "step=3" in str(refused.value)
    assert written(item) == before


def test_backcapture_of_a_procedure_not_registered_is_refused_nothing_written(
    office, outage, suppliers, frozen_clock, tmp_path
):
    frozen_clock.set(UPLOAD)
    _path, data = acts_file(tmp_path, outage, office, suppliers, ref="NO-EXISTE")

    with pytest.raises(NotFound) as refused:
        backcapture.contingency_backcapture_file(actor=office.operator, data=data)

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == ("ref", "registered")
    assert (Procedure.objects.count(), ContingencyProcedure.objects.count(), Release.objects.count()) == (0, 0, 0)


def test_a_recorded_procedure_is_not_opened_with_key_shares_nothing_written(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    procedure = convocatoria(office, item)
    before = written(item)

    with pytest.raises(InvalidTransition) as refused:
        bidding.bids_open(actor=office.operator, procedure=procedure, shares=["a", "b"])

    assert refused.value.detail["rule"] == "recorded_procedure"
    assert written(item) == before
    assert Procedure.objects.get().status == Status.PUBLISHED


# --- Direct awards (moved from test_services.py) ---


def test_contingency_get_refuses_a_procedure_not_registered(office, outage):
    with pytest.raises(NotFound) as refused:
        cont.contingency_get(outage=outage, unit_key=office.unit.key, ref="NO-EXISTE")

    assert refused.value.detail["field"] == "ref"


def test_direct_award_backcaptured_with_its_contract_dated_when_they_happened(office, outage, frozen_clock):
    supplier, _rep = make_supplier()
    item = cont.contingency_register(
        actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1", rfc=supplier.rfc)
    )
    awarded = START + dt.timedelta(days=1)
    signed = START + dt.timedelta(days=2)

    procedure = backcapture.contingency_backcapture_award(
        actor=office.operator, item=item, awarded_at=awarded, exception_fraction="V"
    )
    item.refresh_from_db()
    assert item.upload_status == UploadStatus.PARTIAL
    backcapture.contingency_backcapture_contract(
        actor=office.operator,
        item=item,
        signed_at=signed,
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 12, 31),
    )

    item.refresh_from_db()
    procedure.refresh_from_db()
    assert item.upload_status == UploadStatus.COMPLETE
    assert procedure.provenance == Provenance.CONTINGENCY
    assert procedure.awarded_at == awarded
    release = Release.objects.filter(procedure=procedure).order_by("-id").first()
    assert release.data["awards"][0]["date"].startswith("2026-03-06")
    assert release.data["contracts"][0]["dateSigned"].startswith("2026-03-07")
    assert release.data["date"] == iso_datetime(signed)
    award_release = Release.objects.get(procedure=procedure, tags=["tender", "award"])
    assert award_release.data["date"] == iso_datetime(awarded)
    assert award_release.data["publishedDate"] > award_release.data["date"]
    assert release.data["publishedDate"] >= clock.now().isoformat()[:10]
    assert release.data["tender"]["mexico"]["provenance"] == "contingency"
    assert release.data["contingency"]["outage"] == str(outage.pk)
    assert release.data["contingency"]["daysLate"] == 0


def test_direct_award_contract_signed_outside_the_outage_is_refused(office, outage):
    supplier, _rep = make_supplier()
    item = cont.contingency_register(
        actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row("CP-1", rfc=supplier.rfc)
    )
    backcapture.contingency_backcapture_award(
        actor=office.operator, item=item, awarded_at=START + dt.timedelta(days=1), exception_fraction="V"
    )

    with pytest.raises(OutsideOutage) as refused:
        backcapture.contingency_backcapture_contract(
            actor=office.operator,
            item=item,
            signed_at=END + dt.timedelta(days=3),
            start_date=dt.date(2026, 3, 9),
            end_date=dt.date(2026, 12, 31),
        )

    item.refresh_from_db()
    assert refused.value.detail["field"] == "signed_at"
    assert item.upload_status == UploadStatus.PARTIAL


def test_a_later_outage_does_not_extend_the_periods_of_a_recorded_procedure(office, outage, suppliers, frozen_clock):
    item = register(office, outage, suppliers)
    frozen_clock.set(UPLOAD)
    convocatoria(office, item, submission_deadline=UPLOAD - dt.timedelta(hours=1))  # its paper bids still to come
    recorded = ContingencyProcedure.objects.get(pk=item.pk).procedure
    platform = publish(office, make_procedure(office), days=16)  # the control: run on the platform
    frozen_clock.set(UPLOAD + dt.timedelta(days=10))

    later = declare(office, start=UPLOAD - dt.timedelta(hours=2), end=UPLOAD + dt.timedelta(days=1))

    assert list(DeadlineExtension.objects.filter(outage=later).values_list("procedure_id", flat=True)) == [platform.pk]
    assert Procedure.objects.get(pk=recorded.pk).submission_deadline == UPLOAD - dt.timedelta(hours=1)
