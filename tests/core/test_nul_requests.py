"""A NUL character anywhere in a request's path, query or form: a 400 naming where, never a 500 (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/procedimientos/%00/", "path"),
        ("/uc/%00/", "path"),
        ("/proveedores/a%00/", "path"),
        ("/bitacora/procedimientos/%00/", "path"),
        ("/buscar/?q=a%00b", "q"),
        ("/interrupciones/?x=%00", "x"),
    ],
)
def test_portal_pages_refuse_a_nul_with_400_naming_where(url, field):
    response = Client(raise_request_exception=False).get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert f"{field} contains a NUL character" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/procedures/%00", "path"), ("/api/procedures?q=%00", "q"), ("/api/ocds/records?buyer=x%00", "buyer")],
)
def test_the_api_refuses_a_nul_with_its_error_format(url, field):
    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == {"field": field, "rule": "text"}


def test_a_form_field_with_a_nul_is_refused_and_a_clean_one_is_not():
    client = Client(raise_request_exception=False)

    refused = client.post("/cuenta/entrar/", {"username": "ana\x00", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    clean = client.post("/cuenta/entrar/", {"username": "ana", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 400
    assert "username contains a NUL character" in refused.content.decode()
    assert clean.status_code == 200  # the login page again, with its own message
