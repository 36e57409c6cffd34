"""Every bad input is refused with a clear message naming the field and the rule, and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from licita.accounts.models import Sanction, Supplier
from licita.accounts.sanctions import sanction_name_normalize
from licita.core.models import AuditEntry
from licita.procurement.models import Award, Procedure
from tests import factories
from tests.api.test_lifecycle import PROCEDURE

pytestmark = pytest.mark.django_db


def _writes() -> tuple[int, int, int, int]:
    return (Procedure.objects.count(), Award.objects.count(), Supplier.objects.count(), AuditEntry.objects.count())


def _assert_error(response, status, code, field=None):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert body["detail"]["field"] == field


@pytest.mark.parametrize(
    ("rfc", "rule"),
    [("ABC0101011", "length"), ("A1C010101AB1", "structure"), ("ABC991332AB1", "date"), ("", "length")],
)
def test_supplier_registration_refuses_an_invalid_rfc(api, rfc, rule):
    user = factories.make_user()
    before = _writes()

    response = api(user).post("/suppliers", {"rfc": rfc, "name": "Comercializadora Ejemplo"})

    _assert_error(response, 422, "invalid", "rfc")
    assert response.json()["detail"]["rule"] == rule
    assert _writes() == before


def test_publication_refuses_a_deadline_below_the_minimum_without_justification(api, frozen_clock):
    office = factories.make_office()
    number = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]
    body = {
        "submission_deadline": (frozen_clock.at + dt.timedelta(days=12)).isoformat(),
        "committee": [c.user.username for c in office.custodians],
    }

    refused = api(office.admin).post(f"/procedures/{number}/publish", body)
    accepted = api(office.admin).post(
        f"/procedures/{number}/publish",
        body
        | {
            "reduced_period_justification": "Urgencia acreditada por el área requirente para el abasto de medicamentos"
        },
    )

    _assert_error(refused, 422, "deadline_too_short", "reduced_period_justification")
    assert accepted.status_code == 200, accepted.json()


def test_publication_refuses_a_deadline_below_the_reduced_minimum_even_with_justification(api, frozen_clock):
    office = factories.make_office()
    number = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]

    refused = api(office.admin).post(
        f"/procedures/{number}/publish",
        {
            "submission_deadline": (frozen_clock.at + dt.timedelta(days=9)).isoformat(),
            "committee": [c.user.username for c in office.custodians],
            "reduced_period_justification": "Urgencia acreditada por el área requirente para el abasto",
        },
    )

    _assert_error(refused, 422, "deadline_too_short", "submission_deadline")
    assert Procedure.objects.get(number=number).status == "draft"


def test_publication_takes_the_fallo_date_and_refuses_one_before_the_opening(api, frozen_clock):
    office = factories.make_office()
    number = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]
    body = {
        "submission_deadline": (frozen_clock.at + dt.timedelta(days=16)).isoformat(),
        "committee": [c.user.username for c in office.custodians],
    }
    fallo = frozen_clock.at + dt.timedelta(days=20)

    refused = api(office.admin).post(
        f"/procedures/{number}/publish",
        body | {"award_deadline": (frozen_clock.at + dt.timedelta(days=15)).isoformat()},
    )
    accepted = api(office.admin).post(f"/procedures/{number}/publish", body | {"award_deadline": fallo.isoformat()})

    _assert_error(refused, 422, "invalid", "award_deadline")
    assert refused.json()["detail"]["rule"] == "after_submission"
    assert accepted.status_code == 200, accepted.json()
    assert dt.datetime.fromisoformat(accepted.json()["award_deadline"]) == fallo
    assert Procedure.objects.get(number=number).award_deadline == fallo


def test_direct_award_above_threshold_needs_an_art41_exception(api, frozen_clock):
    office = factories.make_office()
    before = _writes()
    body = PROCEDURE | {"unit_key": office.unit.key, "procedure_type": "adjudicacion", "legal_basis": "art42"}

    by_amount = api(office.operator).post("/procedures", body)
    no_reason = api(office.operator).post("/procedures", body | {"legal_basis": "art41", "exception_fraction": "I"})
    with_reason = api(office.operator).post(
        "/procedures",
        body
        | {
            "legal_basis": "art41",
            "exception_fraction": "I",
            "justification": "Titular exclusivo de la patente del insumo, según dictamen.",
        },
    )

    _assert_error(by_amount, 422, "threshold_exceeded", "estimated_value")
    _assert_error(no_reason, 422, "invalid", "justification")
    assert with_reason.status_code == 201
    assert _writes()[0] == before[0] + 1


def test_award_to_a_sanctioned_supplier_is_refused(api, frozen_clock):
    office = factories.make_office()
    supplier, _rep = factories.make_supplier(name="Constructora Sancionada, S.A. de C.V.")
    Sanction.objects.create(
        supplier_name=supplier.name,
        normalized_name=sanction_name_normalize(supplier.name),
        case_number="0001/2026",
        authority="SFP",
        starts_on=frozen_clock.at.date() - dt.timedelta(days=30),
        ends_on=frozen_clock.at.date() + dt.timedelta(days=300),
    )
    body = PROCEDURE | {
        "unit_key": office.unit.key,
        "procedure_type": "adjudicacion",
        "legal_basis": "art42",
        "lots": [
            {
                "title": "Papel",
                "estimated_value": "100000",
                "items": [{"cucop": "21100001", "description": "Papel", "quantity": "1", "unit": "lote"}],
            }
        ],
    }
    number = api(office.operator).post("/procedures", body).json()["number"]

    response = api(office.operator).post(
        f"/procedures/{number}/direct-award", {"supplier_rfc": supplier.rfc, "lots": [{"lot": 1, "value": "90000"}]}
    )

    _assert_error(response, 409, "supplier_sanctioned", "supplier_rfc")
    assert Award.objects.count() == 0
    assert Procedure.objects.get(number=number).status == "draft"


def test_a_transition_not_in_the_table_is_refused(api, frozen_clock):
    office = factories.make_office()
    number = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]

    fallo = api(office.operator).post(f"/procedures/{number}/fallo")
    opening = api(office.operator).post(f"/procedures/{number}/open", {"shares": ["a", "b"]})

    _assert_error(fallo, 409, "invalid_transition")
    assert opening.status_code in (404, 409)
    assert Procedure.objects.get(number=number).status == "draft"


def test_an_actor_of_another_unit_cannot_touch_the_procedure(api, frozen_clock):
    office = factories.make_office()
    other = factories.make_office()
    number = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key}).json()["number"]
    committee = [c.user.username for c in office.custodians]
    deadline = (frozen_clock.at + dt.timedelta(days=16)).isoformat()

    draft_attempt = api(other.admin).post(
        f"/procedures/{number}/publish", {"submission_deadline": deadline, "committee": committee}
    )
    create_attempt = api(other.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key})
    api(office.admin).post(f"/procedures/{number}/publish", {"submission_deadline": deadline, "committee": committee})
    cancel_attempt = api(other.operator).post(
        f"/procedures/{number}/cancel", {"reason": "Intento de cancelar un procedimiento ajeno"}
    )

    _assert_error(draft_attempt, 404, "not_found")
    _assert_error(create_attempt, 403, "forbidden")
    _assert_error(cancel_attempt, 403, "forbidden")
    assert Procedure.objects.get(number=number).status == "published"
    assert Procedure.objects.count() == 1


def test_malformed_json_is_answered_with_a_clear_400(api):
    office = factories.make_office()

    response = api(office.operator).post("/procedures", raw='{"title": "sin cerrar"')

    _assert_error(response, 400, "malformed")
    assert Procedure.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lots": "muchos"}, "lots"),
        ({"lots": [{"title": "x", "estimated_value": "mucho", "items": []}]}, "lots.0.estimated_value"),
        ({"title": ["lista"]}, "title"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(api, change, field):
    office = factories.make_office()

    response = api(office.operator).post("/procedures", PROCEDURE | {"unit_key": office.unit.key} | change)

    _assert_error(response, 422, "invalid", field)
    assert Procedure.objects.count() == 0


def test_unknown_law_and_negative_amount_are_refused_by_the_service(api):
    office = factories.make_office()
    base = PROCEDURE | {"unit_key": office.unit.key}

    law = api(office.operator).post("/procedures", base | {"law": "LEY"})
    negative = api(office.operator).post(
        "/procedures",
        base | {"lots": [{"title": "x", "estimated_value": "-5", "items": PROCEDURE["lots"][0]["items"]}]},
    )

    _assert_error(law, 422, "invalid", "law")
    _assert_error(negative, 422, "invalid", "lots[1].estimated_value")
    assert Procedure.objects.count() == 0


def test_anonymous_write_is_refused_with_401(api):
    response = api().post("/procedures", PROCEDURE)

    _assert_error(response, 401, "unauthenticated")


def test_invalid_token_is_refused_with_401(api):
    client = api()
    client.headers["Authorization"] = "Bearer lct_not-a-token"

    response = client.get("/procedures")

    _assert_error(response, 401, "unauthenticated")


def test_openapi_schema_and_docs_are_served(api):
    schema = api().get("/openapi.json")
    docs = api().get("/docs")

    assert schema.status_code == 200
    assert "/api/procedures/{ref}/bids" in schema.json()["paths"]
    assert docs.status_code == 200


def test_a_revoked_token_no_longer_authenticates(api):
    user = factories.make_user()
    client = api(user)
    prefix = client.headers["Authorization"].removeprefix("Bearer ")[:12]

    revoked = client.client.delete(f"/api/auth/tokens/{prefix}", headers=client.headers)
    after = client.get("/me")

    assert revoked.status_code == 204
    _assert_error(after, 401, "unauthenticated")


def test_token_is_issued_for_a_password_and_refused_for_a_wrong_one(api):
    factories.make_user(username="ana.lopez", password="una-contraseña-larga-1")

    good = api().post("/auth/tokens", {"username": "ana.lopez", "password": "una-contraseña-larga-1", "name": "cli"})
    bad = api().post("/auth/tokens", {"username": "ana.lopez", "password": "otra", "name": "cli"})

    assert good.status_code == 201
    assert good.json()["token"].startswith("lct_")
    _assert_error(bad, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("lot", "field"),
    [
        ({"estimated_value": "1e30"}, "lots[1].estimated_value"),
        (
            {"items": [{"cucop": "25400001", "description": "Gasa", "quantity": "1e13", "unit": "pieza"}]},
            "lots[1].items[1].quantity",
        ),
        (
            {"items": [{"cucop": "ABC", "description": "Gasa", "quantity": "1", "unit": "pieza"}]},
            "lots[1].items[1].cucop",
        ),
    ],
)
def test_out_of_range_values_are_refused_on_every_database(api, lot, field):
    office = factories.make_office()
    body = PROCEDURE | {"unit_key": office.unit.key, "lots": [PROCEDURE["lots"][0] | lot]}

    response = api(office.operator).post("/procedures", body)

    _assert_error(response, 422, "invalid", field)
    assert Procedure.objects.count() == 0
