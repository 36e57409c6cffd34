"""The buyer workspace, driven through the portal with the Django test client."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from licita.bidding import services as bidding
from licita.bidding.models import BidLot, ShareEnvelope
from licita.core import clock
from licita.procurement import services as proc
from licita.procurement.models import Award, Clarification, Contract, ContractAmendment, Payment, Procedure, Status
from tests import factories

pytestmark = pytest.mark.django_db
MEXICO = ZoneInfo("America/Mexico_City")


def local(at: dt.datetime) -> str:
    return at.astimezone(MEXICO).strftime("%Y-%m-%dT%H:%M")


def draft_data(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Adquisición de equipo de cómputo",
        "description": "Computadoras para las oficinas regionales",
        "law": "LAASSP",
        "procedure_type": "licitacion",
        "character": "nacional",
        "form": "electronica",
        "contract_type": "adquisiciones",
        "legal_basis": "art26",
        "evaluation_method": "binaria",
        "currency": "MXN",
        "lots-TOTAL_FORMS": "1",
        "lots-INITIAL_FORMS": "0",
        "lots-0-title": "Computadoras de escritorio",
        "lots-0-estimated_value": "1500000.00",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-lot": "1",
        "items-0-cucop": "51100001",
        "items-0-description": "Computadora de escritorio",
        "items-0-quantity": "100",
        "items-0-unit": "pieza",
        "create": "1",
    } | overrides


@pytest.fixture
def office(frozen_clock: Any) -> factories.Office:
    return factories.make_office()


def test_whole_buyer_flow_through_the_portal(client: Any, office: factories.Office, frozen_clock: Any) -> None:
    client.force_login(office.operator)
    response = client.post(reverse("buyer_procedure_new"), draft_data())
    procedure = Procedure.objects.get(unit=office.unit)
    assert response.status_code == 302
    assert response["Location"] == reverse("buyer_procedure", args=[procedure.number])
    assert procedure.lots.get().items.get().cucop == "51100001"

    client.force_login(office.admin)
    committee = [c.user.pk for c in office.custodians]
    url = reverse("buyer_publish", args=[procedure.number])
    early = {"submission_deadline": local(clock.now() + dt.timedelta(days=5)), "committee": committee, "threshold": 2}
    response = client.post(url, early | {"check": "1"})
    problems = response.context["problems"]
    assert response.status_code == 200
    assert [p.error.detail["rule"] for p in problems] == ["minimum_period"]
    assert "LAASSP Art. 32" in problems[0].source
    assert "LAASSP Art. 32" in response.content.decode()
    response = client.post(url, early | {"publish": "1"})
    assert response.context["publish_form"].errors["submission_deadline"]
    procedure.refresh_from_db()
    assert procedure.status == Status.DRAFT

    fixed = early | {
        "submission_deadline": local(clock.now() + dt.timedelta(days=16)),
        "award_deadline": local(clock.now() + dt.timedelta(days=21)),
    }
    assert client.post(url, fixed | {"check": "1"}).context["problems"] == []
    response = client.post(url, fixed | {"publish": "1"})
    procedure.refresh_from_db()
    assert response.status_code == 302
    assert procedure.status == Status.PUBLISHED
    assert procedure.award_deadline is not None
    assert procedure.award_deadline - procedure.submission_deadline == dt.timedelta(days=5)

    supplier, rep = factories.make_supplier()
    question = proc.clarification_ask(actor=rep, procedure=procedure, question="¿Se aceptan equipos equivalentes?")
    client.force_login(office.operator)
    response = client.post(
        reverse("buyer_answer", args=[procedure.number, question.pk]), {f"a{question.pk}-answer": "Sí, con ficha."}
    )
    assert response.status_code == 302
    assert Clarification.objects.get(pk=question.pk).answer == "Sí, con ficha."
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="1400000.00")])

    frozen_clock.move(days=17)
    shares = factories.claim_shares(office, procedure)
    response = client.post(
        reverse("procedure_opening", args=[procedure.number]),
        {f"share_{office.custodians[0].user.pk}": shares[0], f"share_{office.custodians[1].user.pk}": shares[1]},
    )
    procedure.refresh_from_db()
    assert response.status_code == 302
    assert procedure.status == Status.OPENED

    row = BidLot.objects.get(bid__procedure=procedure)
    response = client.post(reverse("buyer_evaluate", args=[procedure.number]), {f"c_{row.pk}": "1", f"r_{row.pk}": ""})
    assert response.status_code == 302
    response = client.post(reverse("buyer_fallo", args=[procedure.number]))
    award = Award.objects.get(procedure=procedure)
    assert response.status_code == 302
    assert award.supplier == supplier
    assert award.value == Decimal("1400000.00")

    response = client.post(
        reverse("buyer_contract_sign", args=[procedure.number, award.pk]),
        {f"s{award.pk}-start_date": "2026-03-20", f"s{award.pk}-end_date": "2026-12-31"},
    )
    contract = Contract.objects.get(award=award)
    assert response.status_code == 302

    response = client.post(
        reverse("buyer_contract_amend", args=[procedure.number, contract.pk]),
        {
            f"m{contract.pk}-description": "Ampliación de la cantidad",
            f"m{contract.pk}-rationale": "Se requieren más equipos en las oficinas",
            f"m{contract.pk}-value_change": "420000.00",
        },
    )
    form = response.context["contract_rows"][0]["amend_form"]
    assert response.status_code == 200
    assert "20" in form.errors["value_change"][0]
    assert f'id="id_m{contract.pk}-value_change_error"' in response.content.decode()
    assert not ContractAmendment.objects.exists()

    response = client.post(
        reverse("buyer_payment", args=[procedure.number, contract.pk]),
        {f"p{contract.pk}-amount": "350000.00", f"p{contract.pk}-description": "Primera entrega"},
    )
    assert response.status_code == 302
    assert Payment.objects.get(contract=contract).amount == Decimal("350000.00")


def test_operator_sees_publish_refused_without_admin_role(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)

    response = client.post(
        reverse("buyer_publish", args=[procedure.number]),
        {
            "submission_deadline": local(clock.now() + dt.timedelta(days=16)),
            "committee": [c.user.pk for c in office.custodians],
            "publish": "1",
        },
    )

    procedure.refresh_from_db()
    assert response.status_code == 200
    assert response.context["publish_form"].non_field_errors()
    assert procedure.status == Status.DRAFT


def test_another_units_buyer_gets_404(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    other = factories.make_office()
    client.force_login(other.operator)

    page = client.get(reverse("buyer_procedure", args=[procedure.number]))
    opening = client.get(reverse("procedure_opening", args=[procedure.number]))
    post = client.post(reverse("buyer_cancel", args=[procedure.number]), {"reason": "Ya no se requiere el bien"})

    procedure.refresh_from_db()
    assert (page.status_code, opening.status_code, post.status_code) == (404, 404, 404)
    assert procedure.status == Status.DRAFT


def test_supplier_gets_404(client: Any, office: factories.Office) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    _supplier, rep = factories.make_supplier()
    client.force_login(rep)

    assert client.get(reverse("buyer_home")).status_code == 404
    assert client.get(reverse("buyer_procedure", args=[procedure.number])).status_code == 404


def test_auditor_gets_404_on_the_buyer_pages(client: Any, office: factories.Office) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    client.force_login(office.auditor)

    assert client.get(reverse("buyer_procedure", args=[procedure.number])).status_code == 404


def test_anonymous_is_redirected_to_login(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)

    for url in (reverse("buyer_home"), reverse("buyer_procedure", args=[procedure.number])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("overrides", "form_name", "field"),
    [
        ({"title": ""}, "form", "title"),
        ({"title": "Ab"}, "form", "title"),
        ({"lots-0-estimated_value": "-5"}, "lots", "estimated_value"),
        ({"items-0-cucop": "12"}, "items", "cucop"),
        ({"items-0-lot": "3"}, "items", "lot"),
    ],
)
def test_bad_draft_input_shows_field_error_and_writes_nothing(
    client: Any, office: factories.Office, overrides: dict[str, str], form_name: str, field: str
) -> None:
    client.force_login(office.operator)

    response = client.post(reverse("buyer_procedure_new"), draft_data(**overrides))

    form = response.context[form_name]
    errors = form.errors if form_name == "form" else form.forms[0].errors
    assert response.status_code == 200
    assert errors[field]
    assert not Procedure.objects.exists()


def test_bad_publish_date_shows_field_error(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.admin)

    response = client.post(
        reverse("buyer_publish", args=[procedure.number]),
        {
            "submission_deadline": "2026-02-31T10:00",
            "committee": [c.user.pk for c in office.custodians],
            "publish": "1",
        },
    )

    procedure.refresh_from_db()
    assert response.status_code == 200
    assert response.context["publish_form"].errors["submission_deadline"]
    assert procedure.status == Status.DRAFT


def test_negative_payment_shows_field_error(client: Any, office: factories.Office) -> None:
    contract = factories.make_direct_contract(office)
    client.force_login(office.operator)

    response = client.post(
        reverse("buyer_payment", args=[contract.procedure.number, contract.pk]),
        {f"p{contract.pk}-amount": "-100", f"p{contract.pk}-description": "Anticipo"},
    )

    assert response.status_code == 200
    assert response.context["contract_rows"][0]["payment_form"].errors["amount"]
    assert not Payment.objects.exists()


def test_add_another_lot_keeps_what_was_typed(client: Any, office: factories.Office) -> None:
    client.force_login(office.operator)

    response = client.post(reverse("buyer_procedure_new"), draft_data(add_lot="1") | {"create": ""})

    lots = response.context["lots"]
    assert response.status_code == 200
    assert len(lots.forms) == 2
    assert 'value="Computadoras de escritorio"' in response.content.decode()
    assert not Procedure.objects.exists()


def test_two_lots_with_their_items_are_created(client: Any, office: factories.Office) -> None:
    client.force_login(office.operator)
    data = draft_data(
        **{
            "lots-TOTAL_FORMS": "2",
            "lots-1-title": "Monitores",
            "lots-1-estimated_value": "300000",
            "items-TOTAL_FORMS": "2",
            "items-1-lot": "2",
            "items-1-cucop": "51100002",
            "items-1-description": "Monitor de 24 pulgadas",
            "items-1-quantity": "100",
            "items-1-unit": "pieza",
        }
    )

    client.post(reverse("buyer_procedure_new"), data)

    procedure = Procedure.objects.get()
    assert [lot.items.get().cucop for lot in procedure.lots.order_by("number")] == ["51100001", "51100002"]
    assert procedure.estimated_value == Decimal("1800000.00")


def test_direct_award_over_threshold_shows_error_next_to_lot(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(
        office, procedure_type="adjudicacion", legal_basis="art42", lots=factories.lots_input("500000")
    )
    supplier, _rep = factories.make_supplier()
    client.force_login(office.operator)

    response = client.post(
        reverse("buyer_direct_award", args=[procedure.number]), {"supplier_rfc": supplier.rfc, "lot_1": "900000"}
    )

    assert response.status_code == 200
    assert response.context["direct_form"].errors["lot_1"]
    assert not Award.objects.exists()


def test_document_upload_shows_its_sha256(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    client.post(
        reverse("buyer_document_upload", args=[procedure.number]),
        {"kind": "tenderNotice", "title": "Convocatoria", "file": SimpleUploadedFile("conv.pdf", b"%PDF-1.4 hola")},
    )
    response = client.get(reverse("buyer_procedure", args=[procedure.number]))

    assert hashlib.sha256(b"%PDF-1.4 hola").hexdigest() in response.content.decode()


def test_wrong_share_is_shown_next_to_its_field(client: Any, office: factories.Office, frozen_clock: Any) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    shares = factories.claim_shares(office, procedure)
    client.force_login(office.operator)
    first, second = (c.user.pk for c in office.custodians[:2])

    response = client.post(
        reverse("procedure_opening", args=[procedure.number]),
        {f"share_{first}": shares[0], f"share_{second}": "palabra " * 20},
    )

    procedure.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors[f"share_{second}"]
    assert procedure.opened_at is None


def _fill_unit(office: factories.Office, n: int) -> None:
    for _ in range(n):
        procedure = factories.make_procedure(office)
        factories.publish(office, procedure)
        supplier, rep = factories.make_supplier()
        proc.clarification_ask(actor=rep, procedure=procedure, question="¿Cuál es el plazo de entrega?")
        factories.make_direct_contract(office)


@pytest.mark.parametrize("n", [1, 4])
def test_buyer_home_query_count_does_not_grow(
    client: Any, office: factories.Office, django_assert_num_queries: Any, n: int
) -> None:
    _fill_unit(office, n)
    client.force_login(office.operator)

    with django_assert_num_queries(10):
        response = client.get(reverse("buyer_home"))

    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 4])
def test_buyer_procedure_query_count_does_not_grow(
    client: Any, office: factories.Office, django_assert_num_queries: Any, n: int
) -> None:
    contract = factories.make_direct_contract(office)
    for i in range(n):
        proc.payment_record(actor=office.operator, contract=contract, amount="1000", description=f"Pago {i}")
        proc.milestone_record(
            actor=office.operator, contract=contract, title=f"Entrega {i}", due_date=dt.date(2026, 5, 1)
        )
    client.force_login(office.operator)

    with django_assert_num_queries(23):
        response = client.get(reverse("buyer_procedure", args=[contract.procedure.number]))

    assert response.status_code == 200


def test_pages_render_in_spanish_and_english(client: Any, office: factories.Office, frozen_clock: Any) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    client.force_login(office.admin)
    urls = [
        reverse("buyer_home"),
        reverse("buyer_procedure_new"),
        reverse("buyer_procedure", args=[procedure.number]),
        reverse("procedure_opening", args=[procedure.number]),
    ]

    spanish = [client.get(url, HTTP_ACCEPT_LANGUAGE="es") for url in urls]
    client.cookies["django_language"] = "en"
    english = [client.get(url) for url in urls]

    assert [r.status_code for r in spanish + english] == [200] * 8
    assert 'name="csrfmiddlewaretoken"' in spanish[3].content.decode()
    assert "Open the bids" in english[3].content.decode()
    assert 'lang="en"' in english[0].content.decode()


def test_custodian_receives_the_sealed_share_once(client: Any, office: factories.Office) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    client.force_login(office.admin)
    url = reverse("procedure_opening", args=[procedure.number])

    first = client.post(url, {"claim": "1"})
    second = client.post(url, {"claim": "1"})

    assert first.status_code == 200
    assert first.context["claim"]["sealed_share"]
    assert second.status_code == 302
    assert office.custodians[0].open_share(first.context["claim"])


# --- Editing a draft -------------------------------------------------------------------------------


def test_edit_page_is_the_draft_form_filled_in(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)

    page = client.get(reverse("buyer_procedure", args=[procedure.number])).content.decode()
    response = client.get(reverse("buyer_procedure_edit", args=[procedure.number]))

    html = response.content.decode()
    assert reverse("buyer_procedure_edit", args=[procedure.number]) in page
    assert response.status_code == 200
    assert 'value="Adquisición de material de curación"' in html
    assert 'value="Partida 1"' in html
    assert 'value="25100001"' in html
    assert response.context["lots"].initial_form_count() == 1


def test_edit_draft_changes_the_title_and_an_item(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)
    data = draft_data(**{"lots-INITIAL_FORMS": "1", "items-INITIAL_FORMS": "1"}) | {
        "title": "Adquisición de equipo de cómputo portátil",
        "items-0-description": "Computadora portátil de 14 pulgadas",
    }

    response = client.post(reverse("buyer_procedure_edit", args=[procedure.number]), data)

    procedure.refresh_from_db()
    item = procedure.lots.get().items.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("buyer_procedure", args=[procedure.number])
    assert procedure.title == "Adquisición de equipo de cómputo portátil"
    assert (item.description, item.cucop) == ("Computadora portátil de 14 pulgadas", "51100001")
    assert procedure.estimated_value == Decimal("1500000.00")


@pytest.mark.parametrize(
    ("overrides", "form_name", "field"),
    [
        ({"title": "Ab"}, "form", "title"),  # refused by the service, shown next to the field
        ({"items-0-cucop": "12"}, "items", "cucop"),
        ({"lots-0-estimated_value": "mil pesos"}, "lots", "estimated_value"),
    ],
)
def test_edit_draft_with_bad_input_shows_the_field_error_and_writes_nothing(
    client: Any, office: factories.Office, overrides: dict[str, str], form_name: str, field: str
) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)
    lot = procedure.lots.get()

    response = client.post(reverse("buyer_procedure_edit", args=[procedure.number]), draft_data(**overrides))

    form = response.context[form_name]
    errors = form.errors if form_name == "form" else form.forms[0].errors
    procedure.refresh_from_db()
    assert response.status_code == 200
    assert errors[field]
    assert 'class="errorlist"' in response.content.decode()
    assert procedure.title == "Adquisición de material de curación"
    assert list(procedure.lots.all()) == [lot]


def test_edit_of_a_published_procedure_is_refused(client: Any, office: factories.Office) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    client.force_login(office.operator)
    url = reverse("buyer_procedure_edit", args=[procedure.number])

    page = client.get(reverse("buyer_procedure", args=[procedure.number])).content.decode()
    get = client.get(url)
    post = client.post(url, draft_data())

    procedure.refresh_from_db()
    assert url not in page
    assert (get.status_code, post.status_code) == (302, 302)
    assert procedure.title == "Adquisición de material de curación"


def test_edit_by_another_units_buyer_is_404(client: Any, office: factories.Office) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(factories.make_office().operator)

    response = client.post(reverse("buyer_procedure_edit", args=[procedure.number]), draft_data())

    procedure.refresh_from_db()
    assert response.status_code == 404
    assert procedure.title == "Adquisición de material de curación"


@pytest.mark.parametrize("url_name", ["buyer_procedure_new", "buyer_procedure_edit"])
def test_enter_in_a_text_field_saves_the_draft_instead_of_adding_a_row(
    client: Any, office: factories.Office, url_name: str
) -> None:
    procedure = factories.make_procedure(office)
    client.force_login(office.operator)
    url = reverse(url_name, args=[procedure.number] if url_name == "buyer_procedure_edit" else [])

    html = client.get(url).content.decode()

    form = html[html.rindex("<form", 0, html.index('name="add_lot"')) :]
    buttons = re.findall(r'<button type="submit" name="(\w+)"', form)
    assert buttons[0] == "create"
    assert {"add_lot", "add_item"} <= set(buttons[1:])


# --- The opening page for the committee's custodians ---------------------------------------------


def test_auditor_on_the_committee_loads_the_opening_and_claims_once(
    client: Any, office: factories.Office, frozen_clock: Any
) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    client.force_login(office.auditor)
    url = reverse("procedure_opening", args=[procedure.number])

    page = client.get(url)
    first = client.post(url, {"claim": "1"})
    second = client.post(url, {"claim": "1"}, follow=True)

    claim = first.context["claim"]
    download = json.loads(base64.b64decode(first.context["claim_b64"]))
    envelope = ShareEnvelope.objects.get(opening_key__procedure=procedure, custodian=office.auditor)
    assert page.status_code == 200
    assert 'name="claim"' in page.content.decode()
    assert 'name="open"' not in page.content.decode()
    assert len(office.custodians[1].open_share(claim).split()) >= 20
    assert download == claim
    assert "tools/unseal_share.py" in first.content.decode()
    assert second.redirect_chain == [(url, 302)]
    assert second.context["claim"] is None
    assert len(list(second.context["messages"])) == 1
    assert (envelope.sealed_share, envelope.delivered_at) == (None, frozen_clock.at)


def test_auditor_not_on_the_committee_gets_404_on_the_opening(client: Any, office: factories.Office) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    client.force_login(factories.make_auditor(office.unit.institution))
    url = reverse("procedure_opening", args=[procedure.number])

    responses = [client.get(url), client.post(url, {"claim": "1"})]

    assert [r.status_code for r in responses] == [404, 404]


def test_auditor_on_the_committee_cannot_run_the_opening(
    client: Any, office: factories.Office, frozen_clock: Any
) -> None:
    procedure = factories.publish(office, factories.make_procedure(office))
    frozen_clock.move(days=17)
    shares = factories.claim_shares(office, procedure)
    client.force_login(office.auditor)
    first, second = (c.user.pk for c in office.custodians[:2])

    response = client.post(
        reverse("procedure_opening", args=[procedure.number]),
        {f"share_{first}": shares[0], f"share_{second}": shares[1], "open": "1"},
        follow=True,
    )

    procedure.refresh_from_db()
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    assert procedure.opened_at is None
    assert procedure.status == Status.PUBLISHED
