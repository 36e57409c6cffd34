"""What any visitor meets: search with filters, the language switch, errors in Spanish, keyboard, a small phone."""

from __future__ import annotations

import re

import pytest

from licita.accounts.models import Supplier
from licita.procurement import services as proc
from tests import factories
from tests.e2e.conftest import t

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _procedures() -> dict[str, str]:
    """Three public procedures: two open licitaciones of different kinds, and a direct award with its contract."""
    office = factories.make_office()
    goods = factories.publish(
        office, factories.make_procedure(office, title="Adquisición de vacunas contra la influenza")
    )
    services = factories.publish(
        office,
        factories.make_procedure(
            office, title="Servicio de vacunación en escuelas rurales", contract_type="servicios"
        ),
    )
    contract = factories.make_direct_contract(office, value="350000")
    return {"goods": goods.number, "services": services.number, "direct": contract.procedure.number}


def test_search_filters_narrow_the_results_and_stay_in_the_url(frozen_clock, page):
    numbers = _procedures()

    page.goto("/buscar/")
    page.get_by_label(t("Search")).first.fill("vacun")
    page.get_by_label(t("Contract type")).select_option("servicios")
    page.locator("main form[role=search]").get_by_role("button", name=t("Search")).click()
    page.wait_for_url(re.compile("contract_type=servicios"))

    results = page.locator("main").inner_text()
    assert numbers["services"] in results
    assert numbers["goods"] not in results
    assert numbers["direct"] not in results
    assert "q=vacun" in page.url
    assert "contract_type=servicios" in page.url


def test_a_bad_filter_is_explained_next_to_it_not_a_server_error(frozen_clock, page):
    response = page.goto("/buscar/?amount_min=-5&published_from=2026-02-31")

    assert response.status < 500
    assert page.locator("main .has-error").count() >= 1


def test_language_switch_goes_to_english_and_back_on_the_same_page(frozen_clock, page):
    page.goto("/buscar/")
    assert page.locator("html").get_attribute("lang") == "es"

    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith("/buscar/")
    assert page.locator("header.site").get_by_role("link", name="Search").is_visible()

    page.get_by_role("button", name="Español").click()
    page.wait_for_function("document.documentElement.lang === 'es'")

    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("header.site").get_by_role("link", name="Buscar").is_visible()


def test_registration_with_a_bad_rfc_says_why_in_spanish_next_to_the_field(page):
    page.goto("/proveedor/registro/")
    page.get_by_label(t("RFC")).fill("ABC12")
    page.get_by_label(t("Legal name")).fill("Comercializadora Ejemplo, S.A. de C.V.")
    page.get_by_label(t("Contact e-mail")).fill("ventas@ejemplo.mx")
    page.get_by_label(t("Username")).fill("ejemplo")
    page.get_by_label(t("Password")).fill("una-contraseña-larga-2026")
    page.get_by_label(t("Password again")).fill("una-contraseña-larga-2026")
    page.locator("main").get_by_role("button", name=t("Register")).click()
    page.wait_for_load_state()

    field = page.locator(".field.has-error").filter(has=page.get_by_label(t("RFC")))
    assert "tiene 5 caracteres" in field.locator(".errorlist").inner_text()
    assert not Supplier.objects.exists()


def test_tab_first_reaches_the_skip_link_and_shows_where_the_focus_is(page):
    page.goto("/")

    page.keyboard.press("Tab")

    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    box = page.locator("a.skip").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#main'")  # a same-page jump: wait for it, however busy the machine
    assert page.url.endswith("#main")


def test_procedure_page_fits_a_360_px_phone_without_sideways_scrolling(frozen_clock, new_page):
    numbers = _procedures()
    office = factories.make_office()
    procedure = factories.make_procedure(
        office, title="Rehabilitación integral del Hospital General de Zona número 32 en Ciudad Obregón, Sonora"
    )
    procedure = factories.publish(office, procedure)
    _supplier, rep = factories.make_supplier()
    proc.clarification_ask(actor=rep, procedure=procedure, question="¿Se permite la subcontratación parcial?")
    phone = new_page(width=360, height=740)

    for number in (numbers["direct"], procedure.number):
        phone.goto(f"/procedimientos/{number}/")

        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{number}: the page is {width} px wide"
    assert re.search(r"Rehabilitación integral", phone.locator("h1").inner_text())
