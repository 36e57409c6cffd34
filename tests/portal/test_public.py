"""The public pages: figures computed right, search filters and their messages, the sealed opening, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licita.accounts.models import Sanction
from licita.bidding import services as bidding
from licita.portal import charts
from licita.procurement import services as proc
from tests import factories

pytestmark = pytest.mark.django_db

PRICES = ("812345.67", "798765.43")


def _tender(office, frozen_clock, *, title="Adquisición de material de curación", lots=("1000000.00",), bidders=2):
    """Return a published tender with sealed bids, its bidders, and the deadline (the clock stays before it)."""
    procedure = factories.make_procedure(office, title=title, lots=factories.lots_input(*lots))
    procedure = factories.publish(office, procedure)
    parties = [factories.make_supplier() for _ in range(bidders)]
    for i, (_supplier, rep) in enumerate(parties):
        bidding.bid_submit(
            actor=rep,
            procedure=procedure,
            lots=[bidding.BidLotInput(lot=n, price=PRICES[i % 2]) for n in range(1, len(lots) + 1)],
        )
    return procedure, parties


def _open(office, procedure, frozen_clock):
    frozen_clock.set(procedure.submission_deadline + dt.timedelta(seconds=1))
    procedure.refresh_from_db()
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=factories.claim_shares(office, procedure))
    procedure.refresh_from_db()
    return procedure


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- Home ------------------------------------------------------------------------------------------


def test_home_figures_count_open_procedures_and_sum_this_years_awards(client, frozen_clock):
    office = factories.make_office()
    factories.make_direct_contract(office, value="200000")
    factories.make_direct_contract(office, value="350000.50")
    open_one = factories.make_procedure(office)
    factories.publish(office, open_one)
    factories.make_procedure(office, title="Borrador que nadie ve todavía")

    response = client.get(reverse("home"))

    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.open_now == 1
    assert figures.awarded_this_year == Decimal("550000.50")
    assert dict(figures.by_type) == {"licitacion": 1, "invitacion": 0, "adjudicacion": 2}
    assert dict(figures.awarded_by_month)[3] == Decimal("550000.50")
    assert "$550,000.50 MXN" in response.content.decode()
    assert "Borrador que nadie ve" not in response.content.decode()


def test_home_explains_licita_and_links_to_search_data_and_registration(client):
    response = client.get(reverse("home"))

    html = response.content.decode()
    assert f'action="{reverse("search")}"' in html
    assert f'href="{reverse("data")}"' in html
    assert f'href="{reverse("supplier_register")}"' in html
    assert 'role="img"' in html
    assert "<figcaption>" in html


def test_home_query_count_does_not_grow_with_data(client, frozen_clock, django_assert_num_queries):
    office = factories.make_office()
    factories.make_direct_contract(office)
    before = _queries(client, reverse("home"))
    for _ in range(3):
        factories.make_direct_contract(office)
        factories.publish(office, factories.make_procedure(office))

    with django_assert_num_queries(before):
        client.get(reverse("home"))
    assert before == 4


# --- Search ----------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(frozen_clock):
    office = factories.make_office()
    other = factories.make_office()
    gauze = factories.make_procedure(
        office, title="Gasas y vendas para hospitales", lots=factories.lots_input("500000")
    )
    factories.publish(office, gauze)
    works = factories.make_procedure(
        other,
        title="Construcción de un puente vehicular",
        law="LOPSRM",
        contract_type="obra_publica",
        lots=factories.lots_input("9000000"),
    )
    factories.publish(other, works)
    contract = factories.make_direct_contract(office, value="150000")
    return {"office": office, "other": other, "gauze": gauze, "works": works, "contract": contract}


def _numbers(response):
    return [row.procedure.number for row in response.context["results"]]


def test_search_by_text_finds_titles_buyers_and_suppliers(client, catalogue):
    supplier = catalogue["contract"].supplier

    by_title = client.get(reverse("search"), {"q": "vendas"})
    by_rfc = client.get(reverse("search"), {"q": supplier.rfc.lower()})
    by_buyer = client.get(reverse("search"), {"q": catalogue["other"].unit.name})

    assert _numbers(by_title) == [catalogue["gauze"].number]
    assert _numbers(by_rfc) == [catalogue["contract"].procedure.number]
    assert [s.rfc for s in by_rfc.context["suppliers"]] == [supplier.rfc]
    assert _numbers(by_buyer) == [catalogue["works"].number]
    assert [u.key for u in by_buyer.context["units"]] == [catalogue["other"].unit.key]


def test_search_ignores_accents_and_case_and_needs_every_word(client, catalogue):
    contract = catalogue["contract"]

    no_accents = client.get(reverse("search"), {"q": "CONSTRUCCION puente"})
    by_contract_code = client.get(reverse("search"), {"q": contract.code.lower()})
    one_word_missing = client.get(reverse("search"), {"q": "puente gasas"})

    assert _numbers(no_accents) == [catalogue["works"].number]
    assert _numbers(by_contract_code) == [contract.procedure.number]
    assert _numbers(one_word_missing) == []


def test_search_filters_by_type_contract_type_institution_amount_and_status(client, catalogue):
    url = reverse("search")

    assert _numbers(client.get(url, {"procedure_type": "adjudicacion"})) == [catalogue["contract"].procedure.number]
    assert _numbers(client.get(url, {"contract_type": "obra_publica"})) == [catalogue["works"].number]
    assert set(_numbers(client.get(url, {"institution": catalogue["other"].unit.institution_id}))) == {
        catalogue["works"].number
    }
    assert _numbers(client.get(url, {"amount_min": "400000", "amount_max": "600000"})) == [catalogue["gauze"].number]
    assert set(_numbers(client.get(url, {"status": "published"}))) == {
        catalogue["gauze"].number,
        catalogue["works"].number,
    }
    assert _numbers(client.get(url, {"unit": catalogue["other"].unit.key.lower()})) == [catalogue["works"].number]


def test_search_status_published_excludes_procedures_past_their_deadline(client, catalogue, frozen_clock):
    frozen_clock.move(days=30)

    published = client.get(reverse("search"), {"status": "published"})
    closed = client.get(reverse("search"), {"status": "closed"})

    assert _numbers(published) == []
    assert set(_numbers(closed)) == {catalogue["gauze"].number, catalogue["works"].number}


def test_search_sorts_by_amount(client, catalogue):
    response = client.get(reverse("search"), {"sort": "amount_desc"})

    assert _numbers(response) == [
        catalogue["works"].number,
        catalogue["gauze"].number,
        catalogue["contract"].procedure.number,
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"published_from": "2026-02-31"}, "published_from"),
        ({"amount_min": "-5"}, "amount_min"),
        ({"amount_min": "10", "amount_max": "5"}, "amount_max"),
        ({"procedure_type": "subasta"}, "procedure_type"),
        ({"page": "abc"}, "page"),
        ({"page": "99"}, "page"),
        ({"unit": "123"}, "unit"),
        ({"published_from": "2026-03-10", "published_to": "2026-03-01"}, "published_to"),
        ({"institution": "x"}, "institution"),
    ],
)
def test_search_bad_filter_shows_a_message_next_to_the_field(client, catalogue, params, field):
    response = client.get(reverse("search"), params)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "results" not in response.context
    html = response.content.decode()
    assert 'class="errorlist"' in html or "Page" in html or "Página" in html


def test_search_bad_date_message_is_in_spanish_by_default(client):
    response = client.get(reverse("search"), {"published_from": "ayer"})

    html = response.content.decode()
    assert 'id="id_published_from_error"' in html
    assert "Introduzca una fecha válida" in html


def test_search_pages_keep_the_filters(client, frozen_clock, django_assert_num_queries):
    office = factories.make_office()
    for n in range(21):
        p = factories.make_procedure(office, title=f"Servicio de limpieza lote {n:02d}")
        proc.procedure_announce(actor=office.admin, procedure=p)
    url = reverse("search")

    first = client.get(url, {"q": "limpieza", "sort": "oldest"})
    second = client.get(url, {"q": "limpieza", "sort": "oldest", "page": 2})

    assert first.context["total"] == 21
    assert len(first.context["results"]) == 20
    assert "q=limpieza&amp;sort=oldest&amp;page=2" in first.content.decode()
    assert [r.procedure.title for r in second.context["results"]] == ["Servicio de limpieza lote 20"]
    with django_assert_num_queries(6):
        client.get(url, {"q": "limpieza", "page": 2})


def test_search_counts_up_to_a_cap_and_says_more_than(client, frozen_clock, monkeypatch):
    office = factories.make_office()
    for name in ("alfa", "beta", "gamma", "delta", "epsilon"):
        p = factories.make_procedure(office, title=f"Servicio de vigilancia {name}")
        proc.procedure_announce(actor=office.admin, procedure=p)
    monkeypatch.setattr("licita.portal.views.public.COUNT_CAP", 3)
    monkeypatch.setattr("licita.portal.views.public.PAGE_SIZE", 2)

    capped = client.get(reverse("search"), {"q": "vigilancia"}, HTTP_ACCEPT_LANGUAGE="en")
    past_the_cap = client.get(reverse("search"), {"q": "vigilancia", "page": 3}, HTTP_ACCEPT_LANGUAGE="en")
    exact = client.get(reverse("search"), {"q": "vigilancia delta"}, HTTP_ACCEPT_LANGUAGE="en")

    assert (capped.context["total"], capped.context["capped"], capped.context["pages"]) == (3, True, 2)
    assert "More than 3 procedures found" in capped.content.decode()
    assert past_the_cap.status_code == 400
    assert (exact.context["total"], exact.context["capped"]) == (1, False)


# --- Procedure page ------------------------------------------------------------------------------


def test_procedure_page_shows_no_bidder_or_price_before_the_opening(client, frozen_clock):
    office = factories.make_office()
    procedure, parties = _tender(office, frozen_clock)
    frozen_clock.set(procedure.submission_deadline + dt.timedelta(seconds=1))

    response = client.get(reverse("procedure_detail", args=[procedure.number]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "812,345.67" not in html
    assert "798,765.43" not in html
    assert all(supplier.rfc not in html for supplier, _rep in parties)
    assert response.context["file"].bids == []


def test_procedure_page_shows_bidders_and_prices_after_the_opening(client, frozen_clock):
    office = factories.make_office()
    procedure, parties = _tender(office, frozen_clock)
    _open(office, procedure, frozen_clock)

    response = client.get(reverse("procedure_detail", args=[procedure.expediente]))

    html = response.content.decode()
    assert "$812,345.67 MXN" in html
    assert "$798,765.43 MXN" in html
    assert all(supplier.rfc in html for supplier, _rep in parties)
    assert [t.key for t in response.context["file"].timeline if t.state == "done"][-1] == "opening"
    assert next(t for t in response.context["file"].timeline if t.state == "current").key == "award"


def test_procedure_page_shows_facts_documents_and_open_data_links(client, frozen_clock):
    office = factories.make_office()
    contract = factories.make_direct_contract(office, value="180000")
    procedure = contract.procedure

    response = client.get(reverse("procedure_detail", args=[procedure.number]))

    html = response.content.decode()
    ocid = response.context["ocid"]
    assert f"/api/ocds/releases/{ocid}" in html
    assert f"/api/ocds/records/{ocid}" in html
    assert contract.code in html
    assert contract.supplier.name in html
    assert "25100001" in html
    assert reverse("unit_detail", args=[office.unit.key]) in html


def test_draft_procedure_is_404(client, frozen_clock):
    office = factories.make_office()
    draft = factories.make_procedure(office)

    assert client.get(reverse("procedure_detail", args=[draft.number])).status_code == 404
    assert client.get(reverse("procedure_detail", args=["LA-NO-EXISTE"])).status_code == 404


def test_procedure_page_query_count_is_constant(client, frozen_clock, django_assert_num_queries):
    office = factories.make_office()
    small, _parties = _tender(office, frozen_clock, bidders=1)
    big, parties = _tender(office, frozen_clock, lots=("100000", "200000", "300000"), bidders=3)
    for _supplier, rep in parties:
        proc.clarification_ask(actor=rep, procedure=big, question="¿Se aceptan entregas parciales?")
    _open(office, small, frozen_clock)
    _open(office, big, frozen_clock)
    expected = _queries(client, reverse("procedure_detail", args=[small.number]))

    with django_assert_num_queries(expected):
        response = client.get(reverse("procedure_detail", args=[big.number]))
    assert len(response.context["file"].bid_rows) == 9
    assert expected == 12


# --- Institutions, units, suppliers ------------------------------------------------------------------


def test_institution_and_unit_pages_show_spending_and_top_suppliers(client, frozen_clock):
    office = factories.make_office()
    first = factories.make_direct_contract(office, value="300000")
    factories.make_direct_contract(office, value="100000")
    institution = office.unit.institution

    inst = client.get(reverse("institution_detail", args=[institution.pk]))
    unit = client.get(reverse("unit_detail", args=[office.unit.key.lower()]))

    for response in (inst, unit):
        stats = response.context["stats"]
        assert response.status_code == 200
        assert stats.total_awarded == Decimal(400000)
        assert stats.by_month[-1] == (dt.date(2026, 3, 1), Decimal(400000))
        assert stats.top_suppliers[0]["supplier__rfc"] == first.supplier.rfc
        assert "$300,000.00 MXN" in response.content.decode()
    assert client.get(reverse("institution_detail", args=[999999])).status_code == 404
    assert client.get(reverse("unit_detail", args=["NOEXISTE1"])).status_code == 404


def test_institution_and_unit_query_counts_do_not_grow(client, frozen_clock, django_assert_num_queries):
    office = factories.make_office()
    factories.make_direct_contract(office)
    inst_url = reverse("institution_detail", args=[office.unit.institution_id])
    unit_url = reverse("unit_detail", args=[office.unit.key])
    inst_before, unit_before = _queries(client, inst_url), _queries(client, unit_url)
    for _ in range(3):
        factories.make_direct_contract(office)

    with django_assert_num_queries(inst_before):
        client.get(inst_url)
    with django_assert_num_queries(unit_before):
        client.get(unit_url)
    assert (inst_before, unit_before) == (6, 5)


def test_supplier_page_finds_a_lower_case_rfc_and_shows_awards_and_sanctions(client, frozen_clock):
    office = factories.make_office()
    contract = factories.make_direct_contract(office, value="250000")
    supplier = contract.supplier
    Sanction.objects.create(
        supplier=supplier,
        supplier_name=supplier.name,
        normalized_name=supplier.name.upper(),
        authority="Órgano Interno de Control en la SP",
        case_number="SAN-001/2025",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    messy = f" {supplier.rfc[:4].lower()}-{supplier.rfc[4:]} "

    response = client.get(reverse("supplier_detail", args=[messy]))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["file"].total_awarded == Decimal(250000)
    assert response.context["file"].total_contracted == Decimal(250000)
    assert contract.code in html
    assert "SAN-001/2025" in html
    assert "01/01/2026 – 31/12/2026" in html
    assert client.get(reverse("supplier_detail", args=["XAXX010101000"])).status_code == 404


def test_supplier_page_query_count_does_not_grow(client, frozen_clock, django_assert_num_queries):
    office = factories.make_office()
    contract = factories.make_direct_contract(office)
    url = reverse("supplier_detail", args=[contract.supplier.rfc])
    before = _queries(client, url)
    for _ in range(3):
        p = factories.make_procedure(
            office, procedure_type="adjudicacion", legal_basis="art42", lots=factories.lots_input("1000")
        )
        proc.award_direct(
            actor=office.operator,
            procedure=p,
            supplier_rfc=contract.supplier.rfc,
            lots=[proc.DirectAwardLot(lot=1, value="1000")],
        )

    with django_assert_num_queries(before):
        client.get(url)
    assert before == 5


# --- Languages -------------------------------------------------------------------------------------


def test_pages_render_in_english_with_the_language_cookie(client):
    client.cookies["django_language"] = "en"

    response = client.get(reverse("search"))

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Search procedures" in html
    assert "Clear filters" in html


def test_pages_render_in_english_with_accept_language(client):
    response = client.get(reverse("home"), headers={"accept-language": "en"})

    assert '<html lang="en">' in response.content.decode()


def test_pages_are_spanish_by_default(client):
    response = client.get(reverse("home"))

    html = response.content.decode()
    assert '<html lang="es">' in html
    assert ">Buscar</a>" in html


# --- Charts ----------------------------------------------------------------------------------------


def test_chart_labels_are_escaped():
    svg = charts.bar_chart_horizontal([("<script>alert(1)</script>", 5)], title='Top "x" & <b>')

    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;b&gt;" in svg
    assert "&quot;x&quot; &amp;" in svg


def test_vertical_chart_reads_its_data_in_words_and_scales_bars():
    svg = charts.bar_chart_vertical([("Ene", 100), ("Feb", 50), ("Mar", 0)], title="Montos", fmt=lambda v: f"${v}")

    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-label="Montos. Ene: $100; Feb: $50; Mar: $0"' in svg
    assert 'height="164.0"' in svg
    assert 'height="82.0"' in svg
    assert 'viewBox="0 0 192 220"' in svg


def test_chart_of_no_data_is_still_valid():
    svg = charts.bar_chart_horizontal([], title="Vacío")

    assert 'aria-label="Vacío"' in svg
    assert svg.endswith("</svg>")
