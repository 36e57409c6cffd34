import datetime as dt

import pytest
from django.utils import translation

from licita.accounts.models import PersonType
from licita.accounts.rfc import RFC_GENERIC, rfc_generate, rfc_is_generic, rfc_normalize, rfc_validate
from licita.core.errors import ValidationError


def test_company_rfc():
    assert rfc_validate("ABC010101AB1") == ("ABC010101AB1", PersonType.COMPANY)


def test_company_rfc_with_enye_and_ampersand():
    assert rfc_validate("Ñ&A991231XY9") == ("Ñ&A991231XY9", PersonType.COMPANY)


def test_person_rfc():
    assert rfc_validate("GODE561231GR8") == ("GODE561231GR8", PersonType.PERSON)


def test_normalisation():
    assert rfc_normalize("  abc-010101-ab1 ") == "ABC010101AB1"
    assert rfc_normalize("a.b.c 010101 ab1") == "ABC010101AB1"
    assert rfc_validate("  abc-010101-ab1 ") == ("ABC010101AB1", PersonType.COMPANY)


@pytest.mark.parametrize("value", ["ABC01010AB1", "GODE561231GR8X", "AB", ""])
def test_wrong_length(value):
    with pytest.raises(ValidationError) as raised:
        rfc_validate(value, field="supplier_rfc")
    assert raised.value.detail == {"field": "supplier_rfc", "rule": "length"}
    assert raised.value.code == "invalid"


@pytest.mark.parametrize(
    "value",
    [
        "AB1010101AB1",  # digit among the company letters
        "ABCD0101AB12",  # 12 characters but 4 letters
        "GOD1561231GR8",  # digit among the person letters
        "GODE5612A1GR8",  # letter in the date
        "ABC010101A_1",  # underscore in the homoclave
    ],
)
def test_bad_structure(value):
    with pytest.raises(ValidationError) as raised:
        rfc_validate(value)
    assert raised.value.detail == {"field": "rfc", "rule": "structure"}
    assert rfc_normalize(value) in str(raised.value.message)


@pytest.mark.parametrize("value", ["ABC990230AB1", "GODE561301GR8", "ABC010100AB1", "ABC010229AB1", "GODE560431GR8"])
def test_impossible_date(value):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        rfc_validate(value)
    assert raised.value.detail == {"field": "rfc", "rule": "date"}
    assert "is not a real date" in str(raised.value.message)


def test_leap_day():
    assert rfc_validate("ABC000229AB1")[0] == "ABC000229AB1"
    assert rfc_validate("GODE040229GR8")[0] == "GODE040229GR8"


@pytest.mark.parametrize("value", ["XAXX010101000", "XEXX010101000", "xaxx-010101-000"])
def test_generic_rfcs(value):
    rfc, person_type = rfc_validate(value)
    assert rfc in RFC_GENERIC
    assert person_type == PersonType.PERSON
    assert rfc_is_generic(value)


def test_not_generic():
    assert not rfc_is_generic("ABC010101AB1")


def test_generate_company_and_person():
    company = rfc_generate(name_letters="Constructora Ávila", date=dt.date(2003, 7, 15), person=False, seed=7)
    person = rfc_generate(name_letters="peña", date=dt.date(1980, 2, 29), person=True, seed=7)
    assert company[:9] == "CON030715"
    assert rfc_validate(company)[1] == PersonType.COMPANY
    assert person[:10] == "PEÑA800229"
    assert rfc_validate(person)[1] == PersonType.PERSON


def test_generate_is_deterministic_and_varies_with_seed():
    kwargs = {"name_letters": "ACM", "date": dt.date(2010, 1, 31), "person": False}
    assert rfc_generate(**kwargs, seed=1) == rfc_generate(**kwargs, seed=1)
    assert len({rfc_generate(**kwargs, seed=seed) for seed in range(50)}) > 45


def test_generate_pads_short_names():
    rfc = rfc_generate(name_letters="Y", date=dt.date(1999, 12, 31), person=True, seed=3)
    assert rfc.startswith("Y" + "X" * 3 + "991231")  # short names are padded with X
    assert not rfc_is_generic(rfc)
