"""The search text: normalised, and rewritten by the act that changes what a procedure is found by."""

from __future__ import annotations

import pytest

from licita.procurement.models import Procedure
from licita.procurement.search import normalize, query_words
from tests import factories

pytestmark = pytest.mark.django_db


def test_normalize_drops_accents_case_and_extra_spaces():
    assert normalize("  Cómputo\tÑANDÚ  sat ") == "computo nandu sat"


def test_query_words_are_normalised_and_capped():
    assert query_words("Pólizas de SEGURO " + "x " * 20) == ["polizas", "de", "seguro", *["x"] * 5]


def test_an_award_and_a_contract_make_the_supplier_and_the_contract_findable(frozen_clock):
    office = factories.make_office()

    contract = factories.make_direct_contract(office)

    text = Procedure.objects.get(pk=contract.procedure_id).search_text
    assert normalize(contract.supplier.name) in text
    assert contract.supplier.rfc.lower() in text
    assert contract.code.lower() in text
    assert office.unit.key.lower() in text


def test_a_draft_is_not_indexed_until_it_publishes(frozen_clock):
    office = factories.make_office()
    procedure = factories.make_procedure(office, title="Papelería")

    assert Procedure.objects.get(pk=procedure.pk).search_text == ""
    factories.publish(office, procedure)
    assert "papeleria" in Procedure.objects.get(pk=procedure.pk).search_text
