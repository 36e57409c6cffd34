"""July 2022 at reduced scale, in full: the storage fault, the outage, the extensions, offline procurement
registered and back-captured (all, part, nothing), the accountability page, its CSV and the external list."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licita.continuity import backcapture
from licita.continuity import services as cont
from licita.continuity.errors import BadSignature
from licita.continuity.models import ContingencyProcedure, Outage
from licita.ledger.models import Leaf, LeafKind
from licita.ops import state
from licita.procurement.models import Status
from licita.publication.models import Release
from tests.continuity.helpers import END, START, official_key, row, signed_file
from tests.factories import make_institution, make_office, make_procedure, make_supplier, publish

pytestmark = pytest.mark.django_db


def test_july_2022_replayed(client, frozen_clock, settings):
    settings.LICITA_READONLY_PROBE_SECONDS = 0
    # Three units of two institutions; one of them has a licitación open when the fault strikes.
    frozen_clock.set(START - dt.timedelta(days=10))
    health = make_institution(siglas="SSA", name="Secretaría de Salud")
    a = make_office(institution=health)
    b = make_office(institution=health)
    c = make_office()
    open_tender = publish(a, make_procedure(a), days=16)
    deadline = open_tender.submission_deadline
    suppliers = [make_supplier()[0] for _ in range(3)]

    # 15 July, 16:00: the storage fault. The health monitor opens the outage by itself.
    frozen_clock.set(START)
    state.mark_unwritable(state.DOCUMENTS, "ENOSPC: No space left on device")
    outage = Outage.objects.get()
    assert outage.origin == Outage.Origin.MONITOR
    assert Leaf.objects.filter(kind=LeafKind.OUTAGE, ref=f"outage-{outage.pk}-declared").exists()

    # Writes resume: the outage closes, the open licitación's periods are extended and published.
    frozen_clock.set(END)
    assert state.probe(force=True) is None
    outage.refresh_from_db()
    open_tender.refresh_from_db()
    assert outage.ended_at == END
    assert open_tender.status == Status.PUBLISHED
    assert open_tender.submission_deadline == deadline + outage.extension
    amendment = Release.objects.filter(procedure=open_tender, tags=["tenderAmendment"]).get()
    assert str(outage.pk) in amendment.data["tender"]["amendments"][-1]["rationale"]

    # Units register what they did in person: A and C on the form, B through a file signed on a laptop.
    frozen_clock.set(END + dt.timedelta(hours=2))
    day = START + dt.timedelta(days=1)
    for ref, amount, supplier, kind in (
        ("A-1", "1000000.00", suppliers[0], {}),
        ("A-2", "500000.00", suppliers[1], {"procedure_type": "licitacion", "legal_basis": "art26"}),
    ):
        cont.contingency_register(
            actor=a.operator,
            outage=outage,
            unit_key=a.unit.key,
            procedure=row(ref, amount=amount, rfc=supplier.rfc, at=day, **kind),
        )
    private, _key = official_key(b)
    good = signed_file(
        private,
        outage,
        b.unit.key,
        [row("B-1", amount="2000000.00", rfc=suppliers[2].rfc, at=day), row("B-2", amount="300000.00", at=day)],
    )
    forged = json.loads(good)
    forged["procedures"][0]["amount"] = "2.00"
    with pytest.raises(BadSignature):
        cont.contingency_import(actor=None, raw=json.dumps(forged).encode())
    assert not ContingencyProcedure.objects.filter(unit=b.unit).exists()
    cont.contingency_import(actor=None, raw=good)
    cont.contingency_register(
        actor=c.operator, outage=outage, unit_key=c.unit.key, procedure=row("C-1", amount="750000.00", at=day)
    )

    # A back-captures everything: the direct award A-1 through the services, the licitación A-2 act by act
    # from its file of acts and acta on the portal; B only the award of B-1; C nothing.
    item = cont.contingency_get(outage=outage, unit_key=a.unit.key, ref="A-1")
    backcapture.contingency_backcapture_award(actor=a.operator, item=item, awarded_at=day, exception_fraction="V")
    backcapture.contingency_backcapture_contract(
        actor=a.operator,
        item=item,
        signed_at=day + dt.timedelta(hours=3),
        start_date=dt.date(2026, 3, 10),
        end_date=dt.date(2026, 12, 31),
    )
    at = {k: (day + dt.timedelta(hours=h)).isoformat() for k, h in (("pub", 0), ("open", 4), ("fallo", 24))}
    acts = {
        "outage": outage.pk,
        "unit": a.unit.key,
        "ref": "A-2",
        "steps": [
            {"act": "convocatoria", "date": at["pub"], "submission_deadline": at["open"]},
            {
                "act": "bids",
                "date": at["open"],
                "bids": [
                    {"supplier_rfc": suppliers[1].rfc, "lots": [{"lot": 1, "price": "480000.00"}]},
                    {"supplier_rfc": suppliers[0].rfc, "lots": [{"lot": 1, "price": "495000.00"}]},
                ],
            },
            {
                "act": "fallo",
                "date": at["fallo"],
                "evaluations": [
                    {"supplier_rfc": suppliers[1].rfc, "lot": 1, "compliant": True},
                    {"supplier_rfc": suppliers[0].rfc, "lot": 1, "compliant": True},
                ],
            },
            {"act": "document", "of": "fallo", "date": at["fallo"], "title": "Acta de fallo", "file": "fallo.pdf"},
            {"act": "contract", "date": at["fallo"], "start_date": "2026-03-10", "end_date": "2026-12-31"},
        ],
    }
    client.force_login(a.operator)
    uploaded = client.post(
        "/comprador/contingencia/captura/",
        {
            "file": SimpleUploadedFile("actos.json", json.dumps(acts).encode(), "application/json"),
            "attachments": [SimpleUploadedFile("fallo.pdf", b"%PDF-1.4\nActa de fallo\n%%EOF\n", "application/pdf")],
        },
    )
    assert uploaded.status_code == 302
    client.logout()
    tender = cont.contingency_get(outage=outage, unit_key=a.unit.key, ref="A-2").procedure
    assert (tender.procedure_type, tender.provenance, tender.awarded_at) == (
        "licitacion",
        "contingency",
        day + dt.timedelta(hours=24),
    )
    b1 = cont.contingency_get(outage=outage, unit_key=b.unit.key, ref="B-1")
    backcapture.contingency_backcapture_award(actor=b.operator, item=b1, awarded_at=day, exception_fraction="V")

    # The deadline passes: what is not fully uploaded escalates to the auditor.
    frozen_clock.set(outage.upload_deadline + dt.timedelta(days=2, hours=1))
    assert cont.contingency_overdue_check() == 3

    # The accountability page, its CSV and the OCDS of what was uploaded.
    page = client.get(f"/interrupciones/{outage.pk}/")
    assert page.status_code == 200
    report = page.context["report"]
    assert (report.total.count, report.total.complete, report.total.partial, report.total.missing) == (5, 2, 1, 2)
    assert report.total.amount == Decimal("4550000.00")
    by_inst = {g.key: g for g in report.institutions}
    assert (by_inst["SSA"].count, by_inst["SSA"].amount, by_inst["SSA"].missing) == (4, Decimal("3800000.00"), 1)
    by_unit = {g.key: g for g in report.units}
    assert (by_unit[c.unit.key].missing, by_unit[c.unit.key].days_late) == (1, 3)
    assert by_unit[a.unit.key].late == 0
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/interrupciones/{outage.pk}/procedimientos.csv").content.decode()))
    )
    assert {(r["ref"], r["status"]) for r in rows} == {
        ("A-1", "complete"),
        ("A-2", "complete"),
        ("B-1", "partial"),
        ("B-2", "missing"),
        ("C-1", "missing"),
    }
    ocds = client.get(f"/interrupciones/{outage.pk}/ocds.json").json()
    assert len(ocds["records"]) == 3
    assert all(r["compiledRelease"]["tender"]["mexico"]["provenance"] == "contingency" for r in ocds["records"])

    # The official statement's list (like the 214 of July 2022) against what was uploaded.
    expected = "unit,ref,amount\n" + "\n".join(
        [
            f"{a.unit.key},A-1,1000000",
            f"{a.unit.key},A-2,500000",
            f"{b.unit.key},B-1,2000000",
            f"{b.unit.key},B-2,300000",
            f"{c.unit.key},C-1,750000",
            f"{c.unit.key},C-2,90000",
        ]
    )
    matched = client.post(
        f"/interrupciones/{outage.pk}/",
        {"expected": SimpleUploadedFile("lista.csv", expected.encode(), content_type="text/csv")},
    )
    assert {(m.ref, m.status) for m in matched.context["missing"]} == {
        ("B-1", "partial"),
        ("B-2", "missing"),
        ("C-1", "missing"),
        ("C-2", "unregistered"),
    }
    assert "C-2" in matched.content.decode()

    # The outages page and the status page link to all this.
    listing = client.get("/interrupciones/")
    assert f"/interrupciones/{outage.pk}/" in listing.content.decode()
    assert "/interrupciones/" in client.get("/estado/").content.decode()
