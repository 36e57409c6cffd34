"""The public outages pages: listing, accountability page, CSV, external list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licita.continuity import services as cont
from tests.continuity.helpers import END, declare, row
from tests.factories import make_office

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(frozen_clock):
    office = make_office()
    frozen_clock.set(END + dt.timedelta(hours=1))
    outage = declare(office, end=END)
    for ref in ("A-1", "A-2", "A-3"):
        cont.contingency_register(actor=office.operator, outage=outage, unit_key=office.unit.key, procedure=row(ref))
    return outage


def test_outages_page_lists_every_outage_in_a_fixed_number_of_queries(client, outage, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        page = client.get("/interrupciones/")

    assert page.status_code == 200
    assert "Falla de almacenamiento" in page.content.decode()


def test_accountability_page_in_a_fixed_number_of_queries(client, outage, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        page = client.get(f"/interrupciones/{outage.pk}/")

    assert page.status_code == 200
    assert page.context["report"].total.missing == 3


def test_accountability_page_of_a_missing_outage_is_404(client, db):
    assert client.get("/interrupciones/999/").status_code == 404


def test_csv_has_one_row_per_procedure(client, outage):
    response = client.get(f"/interrupciones/{outage.pk}/procedimientos.csv")

    assert response["Content-Type"].startswith("text/csv")
    assert len(response.content.decode().strip().splitlines()) == 4


def test_external_list_without_the_columns_is_refused_with_a_message(client, outage):
    bad = SimpleUploadedFile("lista.csv", b"clave,numero\nX,1\n", content_type="text/csv")

    page = client.post(f"/interrupciones/{outage.pk}/", {"expected": bad})

    assert page.status_code == 200
    assert page.context["error"]
    assert page.context["matches"] is None
