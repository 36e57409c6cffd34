"""The supplier workspace through the test client: registration, questions, sealed bids and receipts."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.urls import reverse

from licita.accounts.models import Membership, Role, Sanction, Supplier, User
from licita.bidding import services as bidding
from licita.bidding.models import Bid, BidStatus
from licita.core.models import AuditEntry
from licita.procurement import services as proc
from licita.procurement.models import Clarification
from tests.factories import lots_input, make_office, make_procedure, make_supplier, publish

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
GOOD = {
    "rfc": "abc-010203-a12",
    "name": "Abarrotes del Centro, S.A. de C.V.",
    "size": "small",
    "email": "ventas@abarrotes.example",
    "username": "abarrotes",
    "password1": "una-clave-larga-2026",
    "password2": "una-clave-larga-2026",
}


@pytest.fixture
def office():
    return make_office()


@pytest.fixture
def tender(frozen_clock, office):
    procedure = make_procedure(office, lots=lots_input("600000.00", "400000.00"))
    return publish(office, procedure)


@pytest.fixture
def bidder(client):
    supplier, rep = make_supplier()
    client.force_login(rep)
    return supplier


def _page(procedure):
    return reverse("supplier_procedure", kwargs={"ref": procedure.number})


def _bid(client, procedure, **prices):
    data = {"action": "bid", **prices}
    return client.post(_page(procedure), data, **EN)


def _receipt_file(content, name="acuse.json"):
    upload = io.BytesIO(content if isinstance(content, bytes) else json.dumps(content).encode())
    upload.name = name
    return upload


# --- Registration ----------------------------------------------------------------------------------


def test_register_creates_user_supplier_and_membership_and_signs_in(client):
    response = client.post(reverse("supplier_register"), GOOD, **EN)

    assert response.status_code == 302
    assert response["Location"] == reverse("supplier_home")
    supplier = Supplier.objects.get(rfc="ABC010203A12")
    user = User.objects.get(username="abarrotes")
    assert Membership.objects.filter(user=user, supplier=supplier, role=Role.SUPPLIER_REP).exists()
    assert client.get(reverse("supplier_home"), **EN).status_code == 200


@pytest.mark.parametrize(
    ("rfc", "message"),
    [
        ("ABC0102", "it has 7 characters; an RFC has 12 (company) or 13 (person)"),
        ("AB10102030A12", "a person RFC is 4 letters, 6 digits (YYMMDD)"),
        ("ABC010230A12", "the date 010230 is not a real date"),
    ],
)
def test_register_bad_rfc_names_the_rule_next_to_the_field_and_writes_nothing(client, rfc, message):
    response = client.post(reverse("supplier_register"), GOOD | {"rfc": rfc}, **EN)

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["rfc"])
    assert 'id="id_rfc_error"' in response.content.decode()
    assert not User.objects.exists()
    assert not Supplier.objects.exists()


def test_register_bad_rfc_message_is_in_spanish_by_default(client):
    response = client.post(reverse("supplier_register"), GOOD | {"rfc": "ABC010230A12"})

    assert "no existe en el calendario" in response.content.decode()


def test_register_duplicate_rfc_says_already_registered_and_keeps_no_user(client):
    existing, _rep = make_supplier(name="Otra Empresa Secreta, S.A.")
    users = User.objects.count()

    response = client.post(reverse("supplier_register"), GOOD | {"rfc": existing.rfc}, **EN)

    assert response.status_code == 200
    errors = response.context["form"].errors["rfc"]
    assert errors == [f"A supplier with RFC {existing.rfc} is already registered"]
    assert "Otra Empresa Secreta" not in response.content.decode()
    assert User.objects.count() == users


def test_register_weak_password_is_refused_next_to_the_field(client):
    response = client.post(reverse("supplier_register"), GOOD | {"password1": "123", "password2": "123"}, **EN)

    assert response.status_code == 200
    assert "This password is too short" in " ".join(response.context["form"].errors["password1"])
    assert not User.objects.exists()
    assert not Supplier.objects.exists()


def test_register_form_has_csrf_and_labels(client):
    html = client.get(reverse("supplier_register"), **EN).content.decode()

    assert "csrfmiddlewaretoken" in html
    assert '<label for="id_rfc">' in html
    assert '<label for="id_password1">' in html


# --- Home ------------------------------------------------------------------------------------------


def test_home_lists_open_tenders_and_only_invitations_the_supplier_got(client, tender, office, bidder):
    invitation = make_procedure(office, procedure_type="invitacion", legal_basis="art42", title="Invitación privada")
    others = [make_supplier()[0] for _ in range(3)]
    proc.procedure_invite(actor=office.operator, procedure=invitation, rfcs=[s.rfc for s in others])
    publish(office, invitation, days=8)

    html = client.get(reverse("supplier_home"), **EN).content.decode()

    assert tender.number in html
    assert invitation.number not in html


def test_home_search_filters_open_procedures_by_text(client, tender, office, bidder):
    other = publish(office, make_procedure(office, title="Servicio de limpieza integral"))

    html = client.get(reverse("supplier_home"), {"q": "limpieza"}, **EN).content.decode()

    assert other.number in html
    assert tender.number not in html


def test_home_query_count_does_not_grow_with_data(client, django_assert_num_queries, tender, office, bidder):
    def grow():
        p = publish(office, make_procedure(office))
        rep = Membership.objects.get(supplier=bidder).user
        bidding.bid_submit(actor=rep, procedure=p, lots=[bidding.BidLotInput(lot=1, price="10")])
        proc.clarification_ask(actor=rep, procedure=p, question="¿Se aceptan entregas parciales?")

    grow()
    with django_assert_num_queries(11):
        client.get(reverse("supplier_home"))
    for _ in range(3):
        grow()

    with django_assert_num_queries(11):
        response = client.get(reverse("supplier_home"))

    assert len(response.context["bids"]) == 4


# --- The procedure page: questions, bids, receipts ---------------------------------------------------


def test_supplier_asks_a_question(client, tender, bidder):
    response = client.post(_page(tender), {"action": "ask", "question": "¿Se aceptan entregas parciales?"}, **EN)

    assert response.status_code == 302
    assert Clarification.objects.get(procedure=tender, supplier=bidder).question == "¿Se aceptan entregas parciales?"


def test_too_short_question_is_refused_next_to_the_field(client, tender, bidder):
    response = client.post(_page(tender), {"action": "ask", "question": "¿?"}, **EN)

    assert response.status_code == 200
    assert response.context["question_form"].errors["question"]
    assert not Clarification.objects.exists()


def test_supplier_bids_downloads_and_verifies_the_receipt(client, tender, bidder):
    response = _bid(client, tender, lot_1="$1,250,000.50", lot_2="")

    assert response.status_code == 302
    bid = Bid.objects.get(procedure=tender, supplier=bidder)
    assert bid.status == BidStatus.SUBMITTED
    page = client.get(_page(tender), **EN).content.decode()
    assert "Replace my bid" in page
    assert bid.sealed_sha256 in page

    download = client.get(reverse("supplier_bid_receipt", kwargs={"pk": bid.pk}))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    receipt = json.loads(download.content)
    assert receipt["payload"]["bidder_rfc"] == bidder.rfc

    verified = client.post(_page(tender), {"action": "verify", "receipt": _receipt_file(download.content)}, **EN)
    assert verified.context["verdict"].valid
    assert "Valid receipt." in verified.content.decode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not json at all", "The file is not JSON"),
        ({"hello": "world"}, "not a Licita bid receipt"),
        ("altered", "the receipt was altered"),
        ("other-key", "not signed with this platform's key"),
    ],
)
def test_verify_refuses_a_bad_receipt_with_the_reason(client, tender, bidder, content, reason):
    _bid(client, tender, lot_1="1000")
    receipt = Bid.objects.get(procedure=tender, supplier=bidder).receipt
    if content == "altered":
        content = receipt | {"payload": receipt["payload"] | {"committed_at": "2026-01-01T00:00:00+00:00"}}
    elif content == "other-key":
        content = receipt | {"public_key": "A" * 43 + "="}

    response = client.post(_page(tender), {"action": "verify", "receipt": _receipt_file(content)}, **EN)

    assert response.status_code == 200
    assert not response.context["verdict"].valid
    assert reason in response.context["verdict"].reason
    assert "Invalid receipt." in response.content.decode()


def test_supplier_replaces_then_withdraws_the_bid(client, tender, bidder):
    _bid(client, tender, lot_1="1000")
    _bid(client, tender, lot_1="900", lot_2="800")
    first, second = Bid.objects.filter(supplier=bidder).order_by("version")

    response = client.post(_page(tender), {"action": "withdraw", "bid": second.pk}, **EN)

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (BidStatus.REPLACED, BidStatus.WITHDRAWN)
    assert AuditEntry.objects.filter(action="bid_withdrawn").exists()


def test_bid_with_a_bad_price_is_refused_next_to_the_lot(client, tender, bidder):
    response = _bid(client, tender, lot_1="mil pesos", lot_2="-5")

    assert response.status_code == 200
    errors = response.context["bid_form"].errors
    assert set(errors) == {"lot_1", "lot_2"}
    assert not Bid.objects.exists()


def test_bid_without_any_price_is_refused(client, tender, bidder):
    response = _bid(client, tender, lot_1="", lot_2="")

    assert response.status_code == 200
    assert "at least one lot" in " ".join(response.context["bid_form"].non_field_errors())
    assert not Bid.objects.exists()


def test_bid_documents_are_sealed_with_the_bid(client, tender, bidder):
    doc = io.BytesIO(b"%PDF-1.4 propuesta tecnica")
    doc.name = "tecnica.pdf"

    response = client.post(_page(tender), {"action": "bid", "lot_1": "1000", "technical_documents": [doc]}, **EN)

    assert response.status_code == 302
    assert Bid.objects.get(supplier=bidder).sealed_size > 100


def test_after_the_deadline_the_form_is_gone_and_a_post_is_refused(client, frozen_clock, tender, bidder):
    frozen_clock.move(days=17)

    page = client.get(_page(tender), **EN)
    response = _bid(client, tender, lot_1="1000")

    assert 'value="bid"' not in page.content.decode()
    assert "Bids are not accepted" in page.content.decode()
    assert response.status_code == 200
    assert "Bids closed at" in response.context["refusal"]
    assert not Bid.objects.exists()


def test_withdraw_after_the_deadline_is_refused(client, frozen_clock, tender, bidder):
    _bid(client, tender, lot_1="1000")
    bid = Bid.objects.get(supplier=bidder)
    frozen_clock.move(days=17)

    response = client.post(_page(tender), {"action": "withdraw", "bid": bid.pk}, **EN)

    assert response.status_code == 200
    assert "Bids closed at" in response.context["refusal"]
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED


def test_supplier_not_invited_sees_no_bid_form_and_is_refused(client, frozen_clock, office, bidder):
    invitation = make_procedure(office, procedure_type="invitacion", legal_basis="art42")
    proc.procedure_invite(actor=office.operator, procedure=invitation, rfcs=[make_supplier()[0].rfc for _ in range(3)])
    publish(office, invitation, days=8)

    page = client.get(_page(invitation), **EN)
    response = _bid(client, invitation, lot_1="1000")

    assert "Your company was not invited" in page.content.decode()
    assert 'value="bid"' not in page.content.decode()
    assert "only invited suppliers may bid" in response.context["refusal"]
    assert not Bid.objects.exists()


def test_sanctioned_supplier_is_refused_with_the_service_message(client, tender, bidder):
    Sanction.objects.create(
        supplier=bidder,
        supplier_name=bidder.name,
        normalized_name=bidder.name.upper(),
        case_number="SANC-1",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 1, 1),
    )

    response = _bid(client, tender, lot_1="1000")

    assert "sanctioned" in (response.context["refusal"] or "")
    assert not Bid.objects.exists()


def test_unknown_action_is_answered_without_error(client, tender, bidder):
    response = client.post(_page(tender), {"action": "explode"}, **EN)

    assert response.status_code == 200
    assert response.context["refusal"] == "Unknown action."


# --- Permissions ---------------------------------------------------------------------------------


def test_another_suppliers_receipt_is_not_found(client, tender, bidder):
    other, rep = make_supplier()
    bid = bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="10")])

    download = client.get(reverse("supplier_bid_receipt", kwargs={"pk": bid.pk}))
    withdraw = client.post(_page(tender), {"action": "withdraw", "bid": bid.pk}, **EN)

    assert download.status_code == 404
    assert withdraw.context["refusal"] == "Bid not found"
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED


def test_buyer_gets_404_on_supplier_pages(client, tender, office):
    client.force_login(office.operator)

    assert client.get(reverse("supplier_home")).status_code == 404
    assert client.get(_page(tender)).status_code == 404


def test_visitor_is_sent_to_log_in(client, tender):
    response = client.get(reverse("supplier_home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_draft_procedure_is_not_found_for_a_supplier(client, frozen_clock, office, bidder):
    draft = make_procedure(office)

    assert client.get(_page(draft)).status_code == 404
