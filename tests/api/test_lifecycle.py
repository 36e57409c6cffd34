"""Whole procedures driven through the HTTP API only."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest

from licita.bidding import crypto
from licita.bidding.models import Bid
from licita.procurement.models import Procedure
from tests import factories

pytestmark = pytest.mark.django_db

PROCEDURE = {
    "title": "Adquisición de material de curación para unidades médicas",
    "law": "LAASSP",
    "procedure_type": "licitacion",
    "character": "nacional",
    "form": "electronica",
    "contract_type": "adquisiciones",
    "legal_basis": "art26",
    "lots": [
        {
            "title": "Gasas y vendas",
            "estimated_value": "2500000.00",
            "items": [
                {"cucop": "25400001", "description": "Gasa estéril 10x10", "quantity": "50000", "unit": "pieza"}
            ],
        }
    ],
}


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _claim(api, custodian, number):
    response = api(custodian.user).post(f"/procedures/{number}/opening-key/share")
    assert response.status_code == 200, response.json()
    return custodian.open_share(response.json())


def test_public_tender_runs_from_draft_to_amended_contract_over_http(api, frozen_clock):
    office = factories.make_office()
    operator, admin = api(office.operator), api(office.admin)
    bidders = [factories.make_supplier() for _ in range(4)]

    created = operator.post("/procedures", PROCEDURE | {"unit_key": office.unit.key})
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert number.startswith(f"LA-{office.unit.key}-E")
    assert created.json()["status"] == "draft"

    deadline = frozen_clock.at + dt.timedelta(days=15, hours=2)
    published = admin.post(
        f"/procedures/{number}/publish",
        {
            "submission_deadline": _iso(deadline),
            "committee": [c.user.username for c in office.custodians],
            "threshold": 2,
        },
    )
    assert published.status_code == 200, published.json()
    assert published.json()["status"] == "published"
    assert published.json()["opening_threshold"] == 2

    frozen_clock.move(days=2)
    question = api(bidders[0][1]).post(
        f"/procedures/{number}/clarifications", {"question": "¿Se aceptan gasas de 8x8?"}
    )
    assert question.status_code == 201, question.json()
    answer = operator.post(
        f"/clarifications/{question.json()['id']}/answer", {"answer": "No; sólo 10x10 como indica el anexo técnico."}
    )
    assert answer.status_code == 200
    public_qa = api().get(f"/procedures/{number}/clarifications").json()
    assert public_qa[0]["answer"].startswith("No; sólo 10x10")

    frozen_clock.move(days=12)
    prices = ["2100000.00", "1980000.50", "2230000.00"]
    receipts = []
    for (_supplier, rep), price in zip(bidders[:3], prices, strict=False):
        doc = base64.b64encode(b"Propuesta tecnica conforme al anexo").decode()
        response = api(rep).post(
            f"/procedures/{number}/bids",
            {
                "lots": [{"lot": 1, "price": price}],
                "documents": [{"kind": "technical", "filename": "tecnica.pdf", "content_b64": doc}],
            },
        )
        assert response.status_code == 201, response.json()
        assert response.json()["lots"] is None
        receipts.append(response.json()["receipt"])
    key = api().get("/platform/keys").json()["receipt_signing_key"]
    assert all(crypto.receipt_verify(receipt=r, public_key_b64=key) for r in receipts)

    frozen_clock.set(deadline + dt.timedelta(seconds=1))
    late = api(bidders[3][1]).post(f"/procedures/{number}/bids", {"lots": [{"lot": 1, "price": "1000000.00"}]})
    assert late.status_code == 409
    assert late.json()["code"] == "deadline_passed"
    assert Bid.objects.filter(procedure__number=number).count() == 3

    shares = [_claim(api, c, number) for c in office.custodians[:2]]
    one = operator.post(f"/procedures/{number}/open", {"shares": shares[:1]})
    assert one.status_code == 422
    assert one.json()["code"] == "shares_insufficient"
    opened = operator.post(f"/procedures/{number}/open", {"shares": shares})
    assert opened.status_code == 200, opened.json()
    assert opened.json()["status"] == "opened"
    public_bids = api().get(f"/procedures/{number}/bids").json()
    assert sorted(b["lots"][0]["price"] for b in public_bids) == sorted(prices)

    evaluation = operator.post(
        f"/procedures/{number}/evaluation",
        {"evaluations": [{"supplier_rfc": s.rfc, "lot": 1, "compliant": True} for s, _ in bidders[:3]]},
    )
    assert evaluation.status_code == 200, evaluation.json()
    fallo = operator.post(f"/procedures/{number}/fallo")
    assert fallo.status_code == 200, fallo.json()
    award = fallo.json()["awards"][0]
    assert award["supplier_rfc"] == bidders[1][0].rfc
    assert Decimal(award["value"]) == Decimal("1980000.50")

    contract = operator.post(f"/awards/{award['id']}/contract", {"start_date": "2026-04-01", "end_date": "2026-12-31"})
    assert contract.status_code == 201, contract.json()
    code = contract.json()["code"]
    within = operator.post(
        f"/contracts/{code}/amendments",
        {
            "description": "Ampliación de cantidades",
            "rationale": "Incremento de la demanda en unidades médicas",
            "value_change": "396000.10",
        },
    )
    assert within.status_code == 201, within.json()
    above = operator.post(
        f"/contracts/{code}/amendments",
        {"description": "Segunda ampliación", "rationale": "Nuevo incremento de la demanda", "value_change": "1.00"},
    )
    assert above.status_code == 422
    assert above.json()["code"] == "amendment_cap_exceeded"
    assert above.json()["detail"]["field"] == "value_change"
    final = api().get(f"/contracts/{code}").json()
    assert Decimal(final["current_value"]) == Decimal("2376000.60")
    assert len(final["amendments"]) == 1
    assert api().get(f"/procedures/{number}").json()["status"] == "contracted"


def test_invitation_accepts_bids_only_from_invited_suppliers_over_http(api, frozen_clock):
    office = factories.make_office()
    operator, admin = api(office.operator), api(office.admin)
    invited = [factories.make_supplier() for _ in range(3)]
    outsider = factories.make_supplier()
    body = PROCEDURE | {
        "unit_key": office.unit.key,
        "procedure_type": "invitacion",
        "legal_basis": "art42",
        "title": "Servicio de mantenimiento preventivo a equipo de cómputo",
        "contract_type": "servicios",
        "lots": [
            {
                "title": "Mantenimiento",
                "estimated_value": "900000.00",
                "items": [{"cucop": "33900001", "description": "Servicio", "quantity": "1", "unit": "servicio"}],
            }
        ],
    }
    number = operator.post("/procedures", body).json()["number"]
    committee = [c.user.username for c in office.custodians]
    deadline = _iso(frozen_clock.at + dt.timedelta(days=6))
    too_few = operator.post(f"/procedures/{number}/invitations", {"rfcs": [s.rfc for s, _ in invited[:2]]})
    assert too_few.status_code == 200
    refused = admin.post(f"/procedures/{number}/publish", {"submission_deadline": deadline, "committee": committee})
    assert refused.status_code == 422
    assert refused.json()["detail"]["rule"] == "min_invited"
    operator.post(f"/procedures/{number}/invitations", {"rfcs": [invited[2][0].rfc]})
    assert (
        admin.post(
            f"/procedures/{number}/publish", {"submission_deadline": deadline, "committee": committee}
        ).status_code
        == 200
    )

    outsider_bid = api(outsider[1]).post(f"/procedures/{number}/bids", {"lots": [{"lot": 1, "price": "800000"}]})
    for (_s, rep), price in zip(invited, ["850000", "820000", "870000"], strict=True):
        assert api(rep).post(f"/procedures/{number}/bids", {"lots": [{"lot": 1, "price": price}]}).status_code == 201

    assert outsider_bid.status_code == 422
    assert outsider_bid.json()["detail"]["rule"] == "invited"
    frozen_clock.move(days=7)
    shares = [_claim(api, c, number) for c in office.custodians[1:]]
    assert operator.post(f"/procedures/{number}/open", {"shares": shares}).status_code == 200
    evaluations = [
        {
            "supplier_rfc": invited[1][0].rfc,
            "lot": 1,
            "compliant": False,
            "reason": "No presentó la carta de garantía solicitada",
        },
        {"supplier_rfc": invited[0][0].rfc, "lot": 1, "compliant": True},
        {"supplier_rfc": invited[2][0].rfc, "lot": 1, "compliant": True},
    ]
    assert operator.post(f"/procedures/{number}/evaluation", {"evaluations": evaluations}).status_code == 200
    fallo = operator.post(f"/procedures/{number}/fallo").json()
    assert fallo["awards"][0]["supplier_rfc"] == invited[0][0].rfc
    award_id = fallo["awards"][0]["id"]
    assert (
        operator.post(
            f"/awards/{award_id}/contract", {"start_date": "2026-04-01", "end_date": "2026-06-30"}
        ).status_code
        == 201
    )


def test_direct_award_goes_from_draft_to_contract_over_http(api, frozen_clock):
    office = factories.make_office()
    operator = api(office.operator)
    supplier, _rep = factories.make_supplier()
    body = PROCEDURE | {
        "unit_key": office.unit.key,
        "procedure_type": "adjudicacion",
        "legal_basis": "art42",
        "lots": [
            {
                "title": "Papelería",
                "estimated_value": "450000.00",
                "items": [{"cucop": "21100001", "description": "Papel bond", "quantity": "900", "unit": "caja"}],
            }
        ],
    }
    created = operator.post("/procedures", body)
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert number.startswith("AA-")

    too_much = operator.post(
        f"/procedures/{number}/direct-award",
        {"supplier_rfc": supplier.rfc, "lots": [{"lot": 1, "value": "700000.00"}]},
    )
    awarded = operator.post(
        f"/procedures/{number}/direct-award",
        {"supplier_rfc": supplier.rfc, "lots": [{"lot": 1, "value": "448500.00"}]},
    )
    contract = operator.post(
        f"/awards/{awarded.json()['awards'][0]['id']}/contract", {"start_date": "2026-03-10", "end_date": "2026-03-31"}
    )

    assert too_much.status_code == 422
    assert too_much.json()["code"] == "threshold_exceeded"
    assert awarded.status_code == 200, awarded.json()
    assert contract.status_code == 201, contract.json()
    assert api().get(f"/procedures/{number}").json()["status"] == "contracted"


def test_procedure_list_is_paginated_with_a_fixed_number_of_queries(api, frozen_clock, django_assert_max_num_queries):
    office = factories.make_office()
    for _ in range(30):
        factories.publish(office, factories.make_procedure(office))
    client = api()

    with django_assert_max_num_queries(3):
        first = client.get("/procedures", page=1)
    second = client.get("/procedures", page=2)

    assert first.json()["count"] == 30
    assert len(first.json()["items"]) == 25
    assert len(second.json()["items"]) == 5
    assert {p["unit_key"] for p in first.json()["items"]} == {office.unit.key}


def test_drafts_are_invisible_to_the_public_and_other_units(api, frozen_clock):
    office = factories.make_office()
    other = factories.make_office()
    draft = factories.make_procedure(office)

    public = api().get(f"/procedures/{draft.number}")
    foreign = api(other.operator).get(f"/procedures/{draft.number}")
    own = api(office.operator).get(f"/procedures/{draft.number}")

    assert (public.status_code, foreign.status_code, own.status_code) == (404, 404, 200)
    assert api().get("/procedures").json()["count"] == 0


def test_session_authenticated_browser_needs_the_csrf_token(frozen_clock):
    from django.test import Client  # noqa: PLC0415

    office = factories.make_office()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(office.operator)
    body = PROCEDURE | {"unit_key": office.unit.key}

    without = browser.post("/api/procedures", body, content_type="application/json")
    browser.get("/admin/login/")
    token = browser.cookies.get("csrftoken")
    with_token = browser.post(
        "/api/procedures", body, content_type="application/json", headers={"X-CSRFToken": token.value if token else ""}
    )

    assert without.status_code in (401, 403)
    assert with_token.status_code == 201, with_token.content


def test_a_draft_is_edited_with_put_and_a_published_procedure_is_not(api, frozen_clock):
    office = factories.make_office()
    operator = api(office.operator)
    number = operator.post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]
    lots = [PROCEDURE["lots"][0] | {"estimated_value": "3100000.00"}]

    edited = operator.put(f"/procedures/{number}", PROCEDURE | {"title": "Material de curación 2026", "lots": lots})
    bad = operator.put(f"/procedures/{number}", PROCEDURE | {"title": ""})
    factories.publish(office, Procedure.objects.get(number=number))
    late = operator.put(f"/procedures/{number}", PROCEDURE)

    assert edited.status_code == 200, edited.json()
    assert (edited.json()["title"], Decimal(edited.json()["estimated_value"])) == (
        "Material de curación 2026",
        Decimal("3100000.00"),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "title"
    assert late.status_code == 409
    assert api().get(f"/procedures/{number}").json()["title"] == "Material de curación 2026"
