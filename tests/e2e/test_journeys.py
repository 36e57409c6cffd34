"""Journeys through the portal in a real browser: every step a person takes goes through the pages.

People, purchasing units, suppliers and custodian keys are arranged with tests/factories.py (they exist before
the story starts); each custodian decrypts their sealed share with their private key outside the platform, as
they would on their own machine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from licita.bidding import crypto
from licita.bidding import services as bidding
from licita.procurement.models import Procedure
from tests import factories
from tests.e2e.conftest import login, t

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "contraseña-de-prueba-1"  # what tests/factories.py gives every user
TITLE = "Adquisición de tomógrafos para hospitales regionales"
LOT = "Tomógrafos de 64 cortes"


def _people() -> dict[str, Any]:
    office = factories.make_office()
    for user, name in ((office.admin, "Adela"), (office.auditor, "Ulises"), (office.third, "Tomás")):
        user.first_name = name
        user.save(update_fields=["first_name"])
    suppliers = [
        factories.make_supplier(name=f"{name}, S.A. de C.V.")
        for name in ("Equipos Médicos del Bajío", "Imagenología del Norte", "Tecnología Hospitalaria Sur")
    ]
    return {"office": office, "suppliers": suppliers}


def _buyer_publishes(page: Any, office: Any) -> str:
    """The unit's administrator drafts a licitación with one lot and item, checks it and publishes it."""
    login(page, office.admin.username, PASSWORD)
    page.goto("/comprador/")
    page.locator("main").get_by_role("link", name=t("New procedure")).first.click()
    page.get_by_label(t("Title")).fill(TITLE)
    page.get_by_label(t("Law")).select_option("LAASSP")
    page.get_by_label(t("Procedure type")).select_option("licitacion")
    page.get_by_label(t("Contract type")).select_option("adquisiciones")
    page.get_by_label(t("Legal basis")).select_option("art26")
    page.get_by_label(t("Lot title", exact=False)).fill(LOT)
    page.get_by_label(t("Estimated value", exact=False)).fill("12500000.00")
    page.get_by_label(t("CUCoP code", exact=False)).fill("53100001")
    page.get_by_label(t("Description", exact=False)).last.fill("Tomógrafo computarizado de 64 cortes")
    page.get_by_label(t("Quantity", exact=False)).fill("2")
    page.get_by_label(t("Unit of measure", exact=False)).fill("equipo")
    page.get_by_role("button", name=t("Save draft")).last.click()
    page.wait_for_url(re.compile(r"/comprador/procedimientos/[^/]+/$"))
    number = Procedure.objects.get(title=TITLE).number
    expect_status(page, t("Draft %(number)s created.", number=number))
    assert f"/comprador/procedimientos/{number}/" in page.url

    page.get_by_label(t("Bids accepted until (opening)")).fill("2026-03-20T12:00")
    page.get_by_label(t("Questions accepted until (clarification meeting)")).fill("2026-03-12T12:00")
    for name in ("Adela", "Ulises", "Tomás"):
        page.get_by_role("checkbox", name=re.compile(name)).check()
    page.get_by_label(t("Shares needed to open the bids")).fill("2")
    page.get_by_role("button", name=t("Check against the legal rules")).click()
    expect_status(page, t("No problems found with the legal rules for these dates."))
    page.get_by_role("button", name=t("Publish procedure")).click()
    page.wait_for_load_state()
    assert Procedure.objects.get(number=number).status == "published", page.locator("main").inner_text()
    return number


def expect_status(page: Any, text: re.Pattern[str]) -> None:
    """Wait for a status or alert message matching `text` on the page."""
    page.locator(".messages li, .messages p, [role=status], [role=alert]").filter(has_text=text).first.wait_for()


def _supplier_finds_asks_and_bids(page: Any, rep: Any, number: str, price: str, *, ask: bool) -> dict[str, Any]:
    """A supplier searches, opens the procedure, (asks a question,) bids and downloads the signed receipt."""
    login(page, rep.username, PASSWORD)
    page.goto("/buscar/")
    page.get_by_role("searchbox").or_(page.get_by_label(t("Search"))).first.fill("tomógrafos")
    page.locator("main form").first.get_by_role("button").first.click()
    page.locator("main").get_by_role("link", name=re.compile(re.escape(number) + "|" + TITLE)).first.click()
    page.wait_for_url(re.compile(rf"/procedimientos/{re.escape(number)}/$"))
    page.goto(f"/proveedor/procedimientos/{number}/")
    if ask:
        page.get_by_label(t("Your question")).fill("¿Se acepta la entrega en dos exhibiciones?")
        page.get_by_role("button", name=t("Send question")).click()
        page.wait_for_load_state()
    lot = t("Lot %(number)s: %(title)s — price in %(currency)s", number=1, title=LOT, currency="MXN")
    page.get_by_label(lot).fill(price)
    page.get_by_role("button", name=t("Submit sealed bid")).click()
    page.wait_for_load_state()
    with page.expect_download() as download_info:
        page.locator("main").get_by_role("link", name=t("Download", exact=False)).first.click()
    return json.loads(download_info.value.path().read_text(encoding="utf-8"))


def _claim_share(page: Any, custodian: factories.Custodian, number: str) -> str:
    """A custodian receives their sealed share on the opening page and decrypts it on their own machine."""
    page.goto(f"/comprador/procedimientos/{number}/apertura/")
    page.get_by_role("button", name=t("Receive my sealed share (only once)")).click()
    sealed = page.get_by_label(t("Sealed share (base64)")).input_value()
    context = page.get_by_label(t("Context (base64)")).input_value()
    return custodian.open_share({"sealed_share": sealed, "context": context})


def test_a_licitacion_goes_from_publication_to_a_public_contract(frozen_clock, new_page):
    people = _people()
    office = people["office"]
    buyer = new_page()

    number = _buyer_publishes(buyer, office)

    receipts = []
    prices = ("11900000", "11450000", "12100000")
    for i, ((_supplier, rep), price) in enumerate(zip(people["suppliers"], prices, strict=True)):
        receipts.append(_supplier_finds_asks_and_bids(new_page(), rep, number, price, ask=i == 0))
    procedure = Procedure.objects.get(number=number)
    assert procedure.clarifications.count() == 1
    assert procedure.bids.filter(status="submitted").count() == 3
    platform_key = crypto.public_key_b64(bidding.platform_signing_key())
    for receipt, (supplier, _rep) in zip(receipts, people["suppliers"], strict=True):
        assert receipt["payload"]["bidder_rfc"] == supplier.rfc
        assert receipt["payload"]["procedure"] == number
        assert crypto.receipt_verify(receipt=receipt, public_key_b64=platform_key)

    frozen_clock.set(dt.datetime(2026, 3, 21, 17, 0, tzinfo=dt.UTC))
    admin, auditor = office.custodians[0], office.custodians[1]
    words = [_claim_share(buyer, admin, number)]
    oversight = new_page()
    login(oversight, auditor.user.username, PASSWORD)
    words.append(_claim_share(oversight, auditor, number))
    buyer.goto(f"/comprador/procedimientos/{number}/apertura/")
    buyer.get_by_label(t("Share of %(name)s", name="Adela")).fill(words[0])
    buyer.get_by_label(t("Share of %(name)s", name="Ulises")).fill(words[1])
    buyer.get_by_role("button", name=t("Open the bids")).click()
    expect_status(buyer, t("The bids were opened."))

    buyer.get_by_role("button", name=t("Record the evaluation")).click()
    expect_status(buyer, t("The evaluation was recorded.", exact=False))
    buyer.get_by_role("button", name=t("Issue the fallo")).click()
    buyer.wait_for_load_state()
    buyer.get_by_label(t("Start date")).fill("2026-04-01")
    buyer.get_by_label(t("End date")).fill("2026-12-31")
    buyer.get_by_role("button", name=t("Record the signed contract")).click()
    buyer.wait_for_load_state()
    procedure.refresh_from_db()
    assert procedure.status == "contracted", buyer.locator("main").inner_text()
    contract = procedure.contracts.get()
    assert contract.supplier.name == "Imagenología del Norte, S.A. de C.V."
    assert contract.value == Decimal("11450000.00")

    public = new_page()
    public.goto(f"/procedimientos/{number}/")
    text = public.locator("main").inner_text()
    assert "Imagenología del Norte" in text
    assert "11,450,000.00" in text
    assert contract.code in text


def test_an_auditor_on_the_committee_receives_their_share_on_the_opening_page(frozen_clock, page):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    login(page, office.auditor.username, PASSWORD)

    words = _claim_share(page, office.custodians[1], procedure.number)

    assert len(words.split()) >= 20
