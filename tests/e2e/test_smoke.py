import re

import pytest

from tests.e2e.conftest import login
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_stylesheet_is_served_by_the_live_server(page):
    page.goto("/")

    colour = page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor")

    assert colour == "rgb(7, 59, 69)"


def test_login_with_a_wrong_password_says_so_in_spanish(page):
    make_user(username="ana", password="contraseña-de-prueba-1")

    page.goto("/cuenta/entrar/")
    page.get_by_label(re.compile("usuario", re.IGNORECASE)).fill("ana")
    page.get_by_label(re.compile("contraseña", re.IGNORECASE)).fill("otra-cosa")
    page.locator("main").get_by_role("button").first.click()

    assert "/cuenta/entrar/" in page.url
    assert "correctos" in page.get_by_role("alert").inner_text()


def test_login_lands_logged_in(page):
    make_user(username="ana", password="contraseña-de-prueba-1")

    login(page, "ana", "contraseña-de-prueba-1")

    assert (
        page.locator("header.site")
        .get_by_role("button", name=re.compile("cerrar sesión|log out", re.IGNORECASE))
        .is_visible()
    )
