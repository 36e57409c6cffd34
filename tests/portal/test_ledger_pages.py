"""The public ledger pages: latest checkpoint, per-procedure proof, and a bidder's receipt proven."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from licita.bidding import services as bidding
from licita.ledger import services as ledger
from tests import factories

pytestmark = pytest.mark.django_db


def _procedure_with_bid():
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    _, rep = factories.make_supplier()
    bid = bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    return procedure, bid


def test_ledger_page_shows_the_latest_checkpoint_and_the_commands_to_verify(client, frozen_clock):
    _procedure_with_bid()
    checkpoint = ledger.checkpoint_sign()

    response = client.get(reverse("ledger"))

    assert response.status_code == 200
    page = response.content.decode()
    assert checkpoint.note.splitlines()[2] in page  # the root line of the signed note
    assert ledger.verifier_key() in page
    assert "licita verify --url" in page


def test_procedure_ledger_page_proves_every_entry_of_the_procedure(client, frozen_clock):
    procedure, _ = _procedure_with_bid()
    ledger.checkpoint_sign()

    response = client.get(reverse("ledger_procedure", args=[procedure.number]))

    assert response.status_code == 200
    result = response.context["result"]
    assert result["verified"] is True
    kinds = {leaf["kind"] for leaf in result["leaves"]}
    assert {"release", "bid_receipt"} <= kinds
    assert all(leaf["included"] for leaf in result["leaves"])


def test_procedure_ledger_page_flags_a_release_changed_after_it_was_logged(client, frozen_clock):
    procedure, _ = _procedure_with_bid()
    ledger.checkpoint_sign()
    release = procedure.releases.order_by("id").first()
    with connection.cursor() as cursor:  # as someone with database access could do
        cursor.execute(
            "UPDATE publication_release SET data = %s WHERE id = %s",
            [json.dumps({**release.data, "language": "en"}), release.pk],
        )

    response = client.get(reverse("ledger_procedure", args=[procedure.number]))

    result = response.context["result"]
    assert result["verified"] is False
    bad = [leaf for leaf in result["leaves"] if leaf["included"] is False]
    assert [leaf["data"]["release_id"] for leaf in bad] == [release.release_id]


def test_a_bidder_pastes_the_receipt_and_sees_it_proven(client, frozen_clock):
    _, bid = _procedure_with_bid()

    response = client.post(reverse("ledger"), {"receipt": json.dumps(bid.receipt)})

    assert response.status_code == 200
    result = response.context["receipt_result"]
    assert result["valid"] is True
    assert [c["check"] for c in result["checks"]] == ["signature", "leaf", "inclusion"]


def test_an_altered_receipt_is_not_proven(client, frozen_clock):
    _, bid = _procedure_with_bid()
    receipt = json.loads(json.dumps(bid.receipt))
    receipt["payload"]["committed_at"] = receipt["payload"]["committed_at"].replace("2026", "2025")

    response = client.post(reverse("ledger"), {"receipt": json.dumps(receipt)})

    result = response.context["receipt_result"]
    assert result["valid"] is False
    assert result["checks"][0] == {"check": "signature", "ok": False, "message": result["checks"][0]["message"]}
    assert result["checks"][1]["ok"] is False  # the digest in the ledger is of the real receipt


def test_garbage_instead_of_a_receipt_is_explained_next_to_the_field(client):
    response = client.post(reverse("ledger"), {"receipt": "no es JSON"})

    assert response.status_code == 400
    assert response.context["form"].errors["receipt"]
