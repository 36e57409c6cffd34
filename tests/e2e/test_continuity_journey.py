"""July 2022 in a real browser: an auditor declares the outage, a unit registers what it bought in person, and
anyone sees it on the outage's accountability page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from licita.continuity.models import ContingencyProcedure, Outage
from tests import factories
from tests.e2e.conftest import login, t

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "contraseña-de-prueba-1"  # what tests/factories.py gives every user
#: 15 July 2026 at 10:00 in Mexico City (UTC-6) to 18 July at 10:00; the clock stands a day after.
START = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 7, 18, 16, 0, tzinfo=dt.UTC)


def _auditor_declares(page: Any, auditor: Any) -> Outage:
    login(page, auditor.username, PASSWORD)
    page.goto("/auditoria/interrupciones/")
    page.get_by_label(t("Start")).fill("2026-07-15T10:00")
    page.get_by_label(t("End")).first.fill("2026-07-18T10:00")
    page.get_by_label(t("What was affected")).fill("Red de datos del centro de cómputo")
    page.get_by_label(t("Cause")).fill("Corte de fibra óptica del proveedor")
    page.get_by_role("button", name=t("Declare")).click()
    page.wait_for_url(re.compile(r"/interrupciones/\d+/$"))
    return Outage.objects.get()


def _unit_registers(page: Any, operator: Any, unit: Any) -> None:
    login(page, operator.username, PASSWORD)
    page.goto(f"/comprador/contingencia/registrar/?uc={unit.key}")
    page.get_by_label(t("Unit's reference")).fill("CP-0715")
    page.get_by_label(t("Title")).fill("Compra urgente de insulina en persona")
    page.get_by_label(t("Procedure type")).select_option("adjudicacion")
    page.get_by_label(t("Contract type")).select_option("adquisiciones")
    page.get_by_label(t("Legal basis")).select_option("art41")
    page.get_by_label(t("Supplier RFC")).fill("PRV900102AB1")
    page.get_by_label(t("Amount (MXN)")).fill("1250000.00")
    page.get_by_label(t("Carried out at")).fill("2026-07-16T12:30")
    page.get_by_role("button", name=t("Register")).click()
    page.wait_for_url(re.compile(r"/comprador/contingencia/\?uc="))


def test_an_outage_declared_and_an_offline_purchase_registered_are_public(frozen_clock, new_page):
    office = factories.make_office()
    frozen_clock.set(END + dt.timedelta(days=1))

    outage = _auditor_declares(new_page(), office.auditor)
    buyer = new_page()
    _unit_registers(buyer, office.operator, office.unit)

    assert (outage.started_at, outage.ended_at, outage.declared_by) == (START, END, office.auditor)
    item = ContingencyProcedure.objects.get()
    assert (item.ref, item.outage, item.amount) == ("CP-0715", outage, 1250000)
    assert "CP-0715" in buyer.locator("main").inner_text()
    public = new_page()
    public.goto(f"/interrupciones/{outage.pk}/")
    text = public.locator("main").inner_text()
    assert "CP-0715" in text
    assert "Compra urgente de insulina en persona" in text
    assert "1,250,000" in text
