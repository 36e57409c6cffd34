"""WCAG 2.1 A and AA rules checked by axe-core in the real browser, on the main pages with real content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import login
from tests.e2e.test_screenshots import _demo

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe_script() -> Path:
    import axe_playwright_python  # noqa: PLC0415 - a dev dependency, only these tests need it

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


def _violations(page: Any) -> list[str]:
    """Run axe-core on the page as it is and return its WCAG 2.1 A/AA violations, one line each."""
    page.add_script_tag(path=str(_axe_script()))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_public_pages_and_workspaces_have_no_wcag_21_aa_violations(frozen_clock, new_page):
    demo = _demo(frozen_clock)
    office, tender = demo["office"], demo["tender"]
    visitor, buyer, supplier = new_page(), new_page(), new_page(width=360, height=740)
    login(buyer, office.admin.username, "contraseña-de-prueba-1")
    login(supplier, demo["supplier_rep"].username, "contraseña-de-prueba-1")
    visits = [
        (visitor, "/"),
        (visitor, "/buscar/?q=servicio"),
        (visitor, "/buscar/?amount_min=-5"),  # the form with an error next to its field
        (visitor, f"/procedimientos/{tender.number}/"),
        (visitor, f"/uc/{office.unit.key}/"),
        (visitor, "/datos/"),
        (visitor, "/proveedor/registro/"),
        (buyer, "/comprador/"),
        (buyer, f"/comprador/procedimientos/{tender.number}/"),
        (buyer, "/comprador/procedimientos/nuevo/"),
        (supplier, "/proveedor/"),
        (supplier, f"/proveedor/procedimientos/{demo['open'].number}/"),
    ]

    found = []
    for page, url in visits:
        page.goto(url)
        found += _violations(page)

    assert found == []


def test_the_checker_does_find_violations(page):
    page.goto("/")
    page.evaluate("""() => {
        const img = document.createElement('img'); img.src = '/nothing.png'; document.querySelector('main').append(img);
        const low = document.createElement('p'); low.textContent = 'poco contraste'; low.style.color = '#ddd';
        document.querySelector('main').append(low);
    }""")

    found = " ".join(_violations(page))

    assert "image-alt" in found
    assert "color-contrast" in found
