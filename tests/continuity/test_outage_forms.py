"""Auditors declare and close outages from the portal and the API; nobody else can."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from licita.continuity.models import DeadlineExtension, Outage
from licita.ledger.models import Leaf, LeafKind
from tests.api.conftest import ApiClient
from tests.continuity.helpers import END, START
from tests.factories import make_office, make_procedure, publish

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def office(frozen_clock):
    return make_office()


def _local(at: dt.datetime) -> str:
    """The value a datetime-local input sends, in Mexico City time (UTC-6 in March 2026)."""
    return (at - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")


def test_an_auditor_declares_an_open_outage_then_closes_it_extending_the_periods(client, office, frozen_clock):
    frozen_clock.set(START - dt.timedelta(days=10))
    procedure = publish(office, make_procedure(office), days=16)
    deadline = procedure.submission_deadline
    frozen_clock.set(START + dt.timedelta(hours=3))
    client.force_login(office.auditor)

    declared = client.post(
        reverse("auditor_outages"),
        {"declare": "1", "declare-start": _local(START), "declare-affected": "Red", "declare-cause": "Fibra cortada"},
        **EN,
    )

    outage = Outage.objects.get()
    assert declared.status_code == 302
    assert (outage.started_at, outage.ended_at, outage.declared_by) == (START, None, office.auditor)
    assert Leaf.objects.filter(kind=LeafKind.OUTAGE, ref=f"outage-{outage.pk}-declared").exists()
    frozen_clock.set(END + dt.timedelta(hours=1))
    page = client.get(reverse("auditor_outages"), **EN)
    assert "Close the outage" in page.content.decode()

    closed = client.post(
        reverse("auditor_outages"), {"close": "1", "close-outage": str(outage.pk), "close-end": _local(END)}, **EN
    )

    outage.refresh_from_db()
    procedure.refresh_from_db()
    assert closed.status_code == 302
    assert outage.ended_at == END
    assert procedure.submission_deadline == deadline + outage.extension
    assert DeadlineExtension.objects.filter(outage=outage, procedure=procedure).exists()


def test_a_close_before_the_start_is_refused_on_the_page_nothing_written(client, office, frozen_clock):
    frozen_clock.set(START + dt.timedelta(hours=3))
    client.force_login(office.auditor)
    client.post(
        reverse("auditor_outages"),
        {"declare": "1", "declare-start": _local(START), "declare-affected": "Red", "declare-cause": "Fibra cortada"},
    )
    outage = Outage.objects.get()
    leaves = Leaf.objects.count()

    response = client.post(
        reverse("auditor_outages"),
        {"close": "1", "close-outage": str(outage.pk), "close-end": _local(START - dt.timedelta(hours=1))},
        **EN,
    )

    assert response.status_code == 200
    assert response.context["close"].errors
    outage.refresh_from_db()
    assert outage.ended_at is None
    assert Leaf.objects.count() == leaves


def test_a_buyer_cannot_see_the_page_nor_declare(client, office, frozen_clock):
    client.force_login(office.operator)

    assert client.get(reverse("auditor_outages")).status_code == 404
    response = client.post(
        reverse("auditor_outages"),
        {"declare": "1", "declare-start": _local(START), "declare-affected": "Red", "declare-cause": "Fibra"},
    )

    assert response.status_code == 404
    assert not Outage.objects.exists()


def test_the_api_declares_and_closes_an_outage(office, frozen_clock):
    frozen_clock.set(END + dt.timedelta(hours=1))
    client = ApiClient(office.auditor)

    declared = client.post("/outages", {"start": START.isoformat(), "affected": "Red", "cause": "Fibra cortada"})
    closed = client.post(f"/outages/{declared.json()['id']}/close", {"end": END.isoformat()})
    again = client.post(f"/outages/{declared.json()['id']}/close", {"end": END.isoformat()})

    assert declared.status_code == 201, declared.json()
    assert declared.json()["ended_at"] is None
    assert closed.status_code == 200, closed.json()
    assert closed.json()["upload_deadline"] is not None
    assert again.status_code == 409
    assert again.json()["detail"]["rule"] == "closed"


def test_the_api_refuses_a_buyer_and_an_outage_in_the_future(office, frozen_clock):
    frozen_clock.set(START)

    buyer = ApiClient(office.operator).post(
        "/outages", {"start": START.isoformat(), "affected": "Red", "cause": "x y z"}
    )
    future = ApiClient(office.auditor).post(
        "/outages", {"start": (START + dt.timedelta(hours=1)).isoformat(), "affected": "Red", "cause": "Fibra"}
    )

    assert buyer.status_code == 403
    assert future.status_code == 422
    assert future.json()["detail"]["field"] == "start"
    assert not Outage.objects.exists()
