"""Pictures of the main pages for the README: `pytest tests/e2e/test_screenshots.py --screenshots`.

Walks the main pages in the browser with demo-like data made through the services (and checks that the phone
layout does not scroll sideways); with --screenshots it also writes docs/screenshots/*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest

from licita.bidding import services as bidding
from licita.procurement import services as proc
from tests import factories
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "contraseña-de-prueba-1"


def _demo(clock) -> dict:
    """An IMSS unit with a contracted licitación (three bids), an open one with a question, and a direct award."""
    imss = factories.make_institution(name="Instituto Mexicano del Seguro Social", siglas="IMSS", ramo="50")
    office = factories.make_office(
        institution=imss, key="050GYR001", name="Coordinación de Adquisición de Bienes y Contratación de Servicios"
    )
    office.admin.first_name, office.admin.last_name = "Adela", "Ríos"
    office.admin.save(update_fields=["first_name", "last_name"])
    suppliers = [
        factories.make_supplier(name=n)
        for n in (
            "Equipos Médicos del Bajío, S.A. de C.V.",
            "Imagenología del Norte, S.A. de C.V.",
            "Tecnología Hospitalaria del Sur, S.A. de C.V.",
        )
    ]
    tender = factories.publish(
        office,
        factories.make_procedure(
            office,
            title="Adquisición de tomógrafos para hospitales regionales",
            description="Dos tomógrafos computarizados de 64 cortes con instalación y capacitación.",
            lots=factories.lots_input("12500000.00", "1800000.00"),
        ),
    )
    proc.clarification_ask(
        actor=suppliers[0][1], procedure=tender, question="¿Se acepta la entrega en dos exhibiciones?"
    )
    for (_s, rep), prices in zip(
        suppliers, (("11900000", "1750000"), ("11450000", "1790000"), ("12100000", "1700000")), strict=True
    ):
        bidding.bid_submit(
            actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=i, price=p) for i, p in enumerate(prices, 1)]
        )
    clock.move(days=17)
    bidding.bids_open(actor=office.operator, procedure=tender, shares=factories.claim_shares(office, tender))
    bidding.bids_evaluate(
        actor=office.operator,
        procedure=tender,
        evaluations=[
            bidding.EvaluationInput(supplier_rfc=s.rfc, lot=lot, compliant=True)
            for s, _r in suppliers
            for lot in (1, 2)
        ],
    )
    proc.award_decide(actor=office.operator, procedure=tender)
    clock.move(days=5)
    for award in tender.awards.order_by("lot__number"):
        proc.contract_sign(
            actor=office.operator, award=award, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 12, 31)
        )
    factories.make_direct_contract(office, value="420000")
    open_tender = factories.publish(
        office,
        factories.make_procedure(
            office,
            title="Servicio de limpieza integral de unidades médicas",
            contract_type="servicios",
            lots=factories.lots_input("2400000.00", "600000.00"),
        ),
    )
    question = proc.clarification_ask(
        actor=suppliers[1][1], procedure=open_tender, question="¿Cuál es la superficie total por limpiar?"
    )
    proc.clarification_answer(actor=office.operator, clarification=question, answer="12,500 m² en tres edificios.")
    rep = suppliers[1][1]
    rep.first_name, rep.last_name = "Irma", "Lozano"
    rep.save(update_fields=["first_name", "last_name"])
    return {"office": office, "tender": tender, "open": open_tender, "supplier_rep": rep}


def test_screenshots_of_the_main_pages(frozen_clock, new_page, shoot):
    demo = _demo(frozen_clock)
    visitor = new_page(width=1280, height=900)

    visitor.goto("/")
    shoot(visitor, "home")
    visitor.goto("/buscar/?q=tom%C3%B3grafos")
    shoot(visitor, "search")
    visitor.goto(f"/procedimientos/{demo['tender'].number}/")
    shoot(visitor, "procedure")

    buyer = new_page(width=1280, height=900)
    login(buyer, demo["office"].admin.username, PASSWORD)
    buyer.goto("/comprador/")
    shoot(buyer, "buyer-home")

    supplier = new_page(width=1280, height=900)
    login(supplier, demo["supplier_rep"].username, PASSWORD)
    supplier.goto(f"/proveedor/procedimientos/{demo['open'].number}/")
    shoot(supplier, "supplier-bid")

    phone = new_page(width=360, height=740)
    phone.goto(f"/procedimientos/{demo['tender'].number}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(phone, "procedure-360px", full_page=False)
