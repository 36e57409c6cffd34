import csv
import datetime as dt
import io
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from licita.accounts import sanctions as sanctions_module
from licita.accounts.models import PersonType, Sanction, Supplier
from licita.accounts.sanctions import (
    add_months,
    sanction_name_normalize,
    sanction_term_months,
    sanctions_import,
    supplier_sanction_in_force,
)
from licita.core.errors import ValidationError

SAMPLE = "anabcm_ProveedoresyContratistasSancionados.csv"
SAMPLE_2 = "anabcm_ProveedoresyContratistasSancionados_2.csv"
HEADER = (
    "Proveedor,Dependencia,Número de Expediente         ,Hechos,Objeto Social       ,Sentido de Resolución ,"
    "Fecha de Notificación,FechadeResolucion,Plazo años - meses               ,Monto,"
    "Nombre del Responsable de la información,,\n"
)
COMPARED_FIELDS = (
    "supplier_name",
    "normalized_name",
    "rfc",
    "authority",
    "case_number",
    "facts",
    "resolution",
    "resolved_on",
    "notified_on",
    "starts_on",
    "ends_on",
    "term_text",
    "fine",
    "source",
    "supplier_id",
)


def _compranet_dir() -> Path:
    shared = os.environ.get("LICITA_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return root / "data" / "compranet"


@pytest.fixture
def sample_path():
    def locate(name: str) -> Path:
        path = _compranet_dir() / name
        if not path.is_file():
            if os.environ.get("CI") == "true":
                pytest.fail(f"sample file {path} is missing; CI must have ../shared")
            pytest.skip(f"sample file {path} not found (set LICITA_SHARED_DIR)")
        return path

    return locate


def _import_text(text: str, *, source: str = "test") -> sanctions_module.ImportReport:
    return sanctions_import(stream=io.StringIO(text, newline=""), source=source, actor=None)


def _snapshot() -> list[tuple]:
    return sorted(Sanction.objects.values_list(*COMPARED_FIELDS))


def _row(
    *,
    name="ACME, S.A. DE C.V.",
    authority="SECRETARIA DE SALUD",
    case="0001/2020",
    resolution="SANCIONATORIA CON MULTA E INHABILITACIÓN",
    notified="2020-03-10",
    resolved="2020-03-02",
    term="3 MESES",
    fine="70200",
) -> str:
    cells = [
        name,
        authority,
        case,
        "HECHOS",
        "OBJETO",
        resolution,
        notified,
        resolved,
        term,
        fine,
        "RESPONSABLE",
        "",
        "",
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


# --- What the test expects, worked out from the CSV on its own --------------------------------------------


def _cell_sound(cells: list[str], header: list[str]) -> bool:
    """Return whether the row reads cleanly: real dates, no value in unnamed columns, no date or term in the wrong place."""
    column = {name.strip(): i for i, name in enumerate(header) if name.strip()}
    for name in ("Fecha de Notificación", "FechadeResolucion"):
        value = cells[column[name]].strip()
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                return False
    if any(value.strip() for i, value in enumerate(cells) if i >= len(header) or not header[i].strip()):
        return False
    if re.fullmatch(r"\d{4}-\d\d-\d\d", cells[column["Plazo años - meses"]].strip()):
        return False
    return not re.search(r"MES|AÑO|-", cells[column["Monto"]])


def _expected(path: Path) -> tuple[list[tuple[str, str, str]], set[int], set[int], int]:
    """Return (keys of sound rows in order, unsound lines, lines superseded by a later duplicate, data rows)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        column = {name.strip(): i for i, name in enumerate(header)}
        keys: list[tuple[str, str, str]] = []
        key_lines: dict[tuple[str, str, str], int] = {}
        unsound: set[int] = set()
        superseded: set[int] = set()
        data_rows = 0
        for cells in reader:
            line = reader.line_num  # the samples have no line breaks inside cells
            data_rows += 1
            if not _cell_sound(cells, header):
                unsound.add(line)
                continue
            key = (
                sanction_name_normalize(cells[column["Proveedor"]]),
                " ".join(cells[column["Número de Expediente"]].split()),
                " ".join(cells[column["Dependencia"]].split()),
            )
            if key in key_lines:
                superseded.add(key_lines[key])
            else:
                keys.append(key)
            key_lines[key] = line
    return keys, unsound, superseded, data_rows


# --- Values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("1 AÑO", 12),
        ("3 MESES", 3),
        ("2 AÑOS 6 MESES", 30),
        ("1 AÑO 3 MESES", 15),
        ("6 MESES", 6),
        ("2 AÑOS, 8 MESES", 32),
        ("UN AÑO", 12),
        ("TRES MESES", 3),
        ("SEIS MESES", 6),
        ("1 MES", 1),
        ("12 MESES", 12),
        ("3 (TRES) MESES", 3),
        ("1 año y 6 meses", 18),
        ("2 ANOS", 24),
        ("  4 AÑOS 11 MESES ", 59),
        ("", None),
        ("INDEFINIDO", None),
        ("2010-11-25", None),
        ("0 MESES", None),
        ("3 MESES 15 DIAS", None),
        ("MESES", None),
    ],
)
def test_term_parsing(text, months):
    assert sanction_term_months(text) == months


@pytest.mark.parametrize(
    ("day", "months", "result"),
    [
        (dt.date(2014, 5, 7), 12, dt.date(2015, 5, 7)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2023, 1, 31), 1, dt.date(2023, 2, 28)),
        (dt.date(2020, 11, 30), 3, dt.date(2021, 2, 28)),
        (dt.date(2019, 12, 15), 30, dt.date(2022, 6, 15)),
    ],
)
def test_add_months(day, months, result):
    assert add_months(day, months) == result


@pytest.mark.parametrize(
    "name",
    [
        "3R INNOVACIÓN Y DISEÑO, S.A. DE  C.V.",
        "3R Innovacion y Diseno SA de CV",
        "3R INNOVACIÓN Y DISEÑO, S. A. DE C. V.",
        "3R INNOVACIÓN Y DISEÑO S.A.DE C.V.",
        "3R INNOVACIÓN Y DISEÑO, S. DE R.L. DE C.V.",
        "3R INNOVACIÓN Y DISEÑO, SAPI DE CV",
        "3R Innovación y Diseño, Sociedad Anónima de Capital Variable",
        "3R INNOVACIÓN Y DISEÑO, S.C.",
        "3R INNOVACIÓN Y DISEÑO A.C.",
        "  3r   innovación y diseño  ",
    ],
)
def test_name_normalisation(name):
    assert sanction_name_normalize(name) == "3R INNOVACION Y DISENO"


def test_name_normalisation_keeps_a_bare_legal_form_and_joins_initials():
    assert sanction_name_normalize("A.D.C. Consultores y Servicios, S.A de C.V.") == "ADC CONSULTORES Y SERVICIOS"
    assert sanction_name_normalize("S.A.") == "SA"


# --- Importing the real files ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_real_sample(sample_path):
    path = sample_path(SAMPLE)
    keys, unsound, superseded, data_rows = _expected(path)

    report = sanctions_import(path=path, source="SFP sample", actor=None)

    assert report.created == len(keys)
    assert Sanction.objects.count() == len(keys)
    assert report.updated == report.unchanged == 0
    assert report.rows == data_rows
    assert {line for line, _column, _message in report.errors} == unsound | superseded
    assert report.skipped == len(unsound) + len(superseded)
    assert 0.9 * data_rows < report.created <= data_rows  # plausible: nearly every row is a sanction
    assert len(unsound) < 0.01 * data_rows

    sanction = Sanction.objects.get(normalized_name="A AND P INTERNATIONAL", case_number="0014/2012")
    assert sanction.authority == "PEMEX EXPLORACIÓN Y PRODUCCION"
    assert sanction.supplier_name == "A AND P INTERNATIONAL, S.A. DE C.V."
    assert (sanction.notified_on, sanction.resolved_on) == (dt.date(2014, 5, 7), dt.date(2014, 5, 6))
    assert (sanction.starts_on, sanction.ends_on, sanction.term_text) == (
        dt.date(2014, 5, 7),
        dt.date(2015, 5, 7),
        "1 AÑO",
    )
    assert sanction.source == "SFP sample"

    fine_only = Sanction.objects.get(normalized_name="3R INNOVACION Y DISENO", case_number="0041/2013")
    assert fine_only.resolution == "SANCIONATORIA CON MULTA"
    assert (fine_only.starts_on, fine_only.ends_on, fine_only.term_text) == (None, None, "")
    assert fine_only.fine == Decimal("90664.00")

    # The same case twice in the file: the later, complete row is kept.
    duplicate = Sanction.objects.get(normalized_name="ESPARRAGOS INOXIDABLES DE MEXICO", case_number="0135/2004")
    assert (duplicate.starts_on, duplicate.ends_on, duplicate.fine) == (
        dt.date(2006, 1, 25),
        dt.date(2006, 7, 25),
        Decimal("67860.00"),
    )


@pytest.mark.django_db
def test_import_both_sample_files(sample_path):
    first, second = sample_path(SAMPLE), sample_path(SAMPLE_2)
    keys_1 = set(_expected(first)[0])
    keys_2 = set(_expected(second)[0])

    report_1 = sanctions_import(path=first, source="SFP", actor=None)
    report_2 = sanctions_import(path=second, source="SFP", actor=None)

    assert report_1.created == len(keys_1)
    assert report_2.created == len(keys_2 - keys_1)
    assert report_2.created + report_2.updated + report_2.unchanged == len(keys_2)
    assert Sanction.objects.count() == len(keys_1 | keys_2)


@pytest.mark.django_db
def test_reimport_is_idempotent(sample_path):
    path = sample_path(SAMPLE_2)
    first = sanctions_import(path=path, source="SFP", actor=None)
    before = _snapshot()

    again = sanctions_import(path=path, source="SFP", actor=None)

    assert again.created == again.updated == 0
    assert again.unchanged == first.created
    assert again.skipped == first.skipped
    assert again.errors == first.errors
    assert _snapshot() == before


@pytest.mark.django_db
def test_reimport_with_a_changed_value_updates():
    _import_text(HEADER + _row(fine="70200"))
    report = _import_text(HEADER + _row(fine="80000"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert Sanction.objects.get().fine == Decimal("80000.00")


@pytest.mark.django_db
def test_cp1252_copy_imports_the_same(sample_path, tmp_path):
    path = sample_path(SAMPLE)
    sanctions_import(path=path, source="SFP", actor=None)
    expected = _snapshot()
    Sanction.objects.all().delete()

    copy = tmp_path / "sancionados-cp1252.csv"
    copy.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    sanctions_import(path=copy, source="SFP", actor=None)

    assert _snapshot() == expected


@pytest.mark.django_db
def test_latin1_copy_imports_the_same(sample_path, tmp_path):
    path = sample_path(SAMPLE)
    text = path.read_text(encoding="utf-8")
    replaced = text.encode("latin-1", errors="replace").decode(
        "latin-1"
    )  # curly quotes, dashes and ellipses are not in ISO-8859-1
    assert replaced != text
    report_utf8 = _import_text(replaced, source="SFP")
    expected = _snapshot()
    Sanction.objects.all().delete()

    copy = tmp_path / "sancionados-latin1.csv"
    copy.write_bytes(text.encode("latin-1", errors="replace"))
    with pytest.raises(UnicodeDecodeError):
        copy.read_bytes().decode("utf-8")
    report_latin1 = sanctions_import(path=copy, source="SFP", actor=None)

    assert _snapshot() == expected
    assert report_latin1.created == report_utf8.created
    assert Sanction.objects.filter(authority="PEMEX EXPLORACIÓN Y PRODUCCION").exists()


# --- Refused files and bad rows ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_file_without_proveedor_is_refused_with_nothing_written(sample_path, tmp_path):
    with sample_path(SAMPLE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    copy = tmp_path / "sin-proveedor.csv"
    with copy.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([row[1:] for row in rows])

    with pytest.raises(ValidationError) as raised:
        sanctions_import(path=copy, source="SFP", actor=None)

    assert raised.value.detail == {"field": "Proveedor", "rule": "missing_column"}
    assert "Proveedor" in str(raised.value.message)
    assert Sanction.objects.count() == 0


@pytest.mark.django_db
def test_headers_match_after_folding():
    header = "  PROVEEDOR ,dependencia,NUMERO DE EXPEDIENTE,Fecha de notificacion,Plazo,MONTO\n"
    report = _import_text(header + "ACME SA DE CV,SALUD,0001/2020,10/03/2020,1 año,100\n")
    assert report.created == 1
    sanction = Sanction.objects.get()
    assert (sanction.normalized_name, sanction.case_number, sanction.authority) == ("ACME", "0001/2020", "SALUD")
    assert (sanction.starts_on, sanction.ends_on, sanction.fine) == (
        dt.date(2020, 3, 10),
        dt.date(2021, 3, 10),
        Decimal("100.00"),
    )


@pytest.mark.django_db
def test_bad_rows_are_reported_and_skipped():
    text = (
        HEADER
        + _row(case="0001/2020")
        + _row(case="0002/2020", notified="2020-13-01")
        + _row(case="0003/2020", name="  ")
        + _row(case="0004/2020", term="2020-03-01", fine="3 MESES")
        + _row(case="0005/2020", notified="30/02/2020")
        + _row(case="0006/2020")
    )
    report = _import_text(text)
    assert (report.created, report.skipped) == (2, 4)
    assert [(line, column) for line, column, _message in report.errors] == [
        (3, "Fecha de Notificación"),
        (4, "Proveedor"),
        (5, "Plazo años - meses"),
        (6, "Fecha de Notificación"),
    ]
    assert set(Sanction.objects.values_list("case_number", flat=True)) == {"0001/2020", "0006/2020"}


@pytest.mark.django_db
def test_crash_leaves_nothing_written(monkeypatch):
    calls = []
    original = sanctions_module._upsert

    def crash_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        original(*args, **kwargs)

    monkeypatch.setattr(sanctions_module, "_upsert", crash_on_third)
    with pytest.raises(RuntimeError):
        _import_text(HEADER + "".join(_row(case=f"000{i}/2020") for i in range(1, 6)))
    assert Sanction.objects.count() == 0


# --- Terms and dates on import -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("notified", "resolved", "term", "starts", "ends"),
    [
        ("2020-03-10", "2020-03-02", "3 MESES", dt.date(2020, 3, 10), dt.date(2020, 6, 10)),
        ("", "2020-03-02", "UN AÑO", dt.date(2020, 3, 2), dt.date(2021, 3, 2)),
        ("31/01/2020", "", "1 MES", dt.date(2020, 1, 31), dt.date(2020, 2, 29)),
        ("2020-03-10", "2020-03-02", "2 AÑOS, 8 MESES", dt.date(2020, 3, 10), dt.date(2022, 11, 10)),
        ("2020-03-10", "2020-03-02", "1 AÑO 3 MESES", dt.date(2020, 3, 10), dt.date(2021, 6, 10)),
        ("2020-03-10", "2020-03-02", "", None, None),
        ("2020-03-10", "2020-03-02", "INDEFINIDO", None, None),
        ("", "", "3 MESES", None, None),
    ],
)
def test_term_on_import(notified, resolved, term, starts, ends):
    report = _import_text(HEADER + _row(notified=notified, resolved=resolved, term=term))
    assert report.created == 1
    sanction = Sanction.objects.get()
    assert (sanction.starts_on, sanction.ends_on, sanction.term_text) == (starts, ends, term)
    assert len(report.warnings) == (1 if term and starts is None else 0)


@pytest.mark.django_db
def test_acquittal_records_no_debarment():
    report = _import_text(HEADER + _row(resolution="ABSOLUTORIA", term="3 MESES"))
    sanction = Sanction.objects.get()
    assert (sanction.starts_on, sanction.ends_on, sanction.term_text) == (None, None, "3 MESES")
    assert len(report.warnings) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "fine"),
    [("75438.5", Decimal("75438.50")), ("$1,250,000.00", Decimal("1250000.00")), ("", None), ("N/A", None)],
)
def test_fine_on_import(text, fine):
    _import_text(HEADER + _row(fine=text))
    assert Sanction.objects.get().fine == fine


# --- Sanctions in force ---------------------------------------------------------------------------------------


def _supplier(name: str, rfc: str) -> Supplier:
    return Supplier.objects.create(name=name, rfc=rfc, person_type=PersonType.COMPANY)


@pytest.mark.django_db
def test_sanction_in_force_for_supplier_matched_by_name(sample_path):
    linked = _supplier("A and P International, S.A. de C.V.", "AAP010101AB1")
    sanctions_import(path=sample_path(SAMPLE), source="SFP", actor=None)
    sanction = Sanction.objects.get(normalized_name="A AND P INTERNATIONAL", case_number="0014/2012")
    assert sanction.supplier == linked

    assert supplier_sanction_in_force(supplier=linked, on=dt.date(2014, 11, 1)) == sanction
    assert supplier_sanction_in_force(supplier=linked, on=dt.date(2015, 5, 7)) == sanction  # last day included
    assert supplier_sanction_in_force(supplier=linked, on=dt.date(2014, 5, 6)) is None  # before notification

    # A supplier registered after the import is found by name alone.
    later = _supplier("A Y V Industrial y Comercial SA de CV", "AVI010101AB1")
    found = supplier_sanction_in_force(supplier=later, on=dt.date(2014, 6, 1))
    assert found is not None
    assert found.case_number == "0001/2013"
    assert found.supplier is None

    assert (
        supplier_sanction_in_force(supplier=_supplier("Nadie Sancionado SA", "NSA010101AB1"), on=dt.date(2014, 6, 1))
        is None
    )


@pytest.mark.django_db
def test_expired_sanction_not_in_force():
    supplier = _supplier("Acme, S.A. de C.V.", "ACM010101AB1")
    _import_text(HEADER + _row(notified="2020-03-10", term="3 MESES"))
    assert supplier_sanction_in_force(supplier=supplier, on=dt.date(2020, 6, 10)) is not None
    assert supplier_sanction_in_force(supplier=supplier, on=dt.date(2020, 6, 11)) is None
    assert not Sanction.objects.get().is_in_force(dt.date(2020, 6, 11))


@pytest.mark.django_db
def test_fine_only_sanction_not_in_force():
    supplier = _supplier("Acme, S.A. de C.V.", "ACM010101AB1")
    _import_text(HEADER + _row(resolution="SANCIONATORIA CON MULTA", term=""))
    assert supplier_sanction_in_force(supplier=supplier, on=dt.date(2020, 4, 1)) is None


@pytest.mark.django_db
def test_sanction_in_force_by_rfc_but_not_for_generic_rfc():
    header = "Proveedor,Dependencia,Número de Expediente,Fecha de Notificación,Plazo años - meses,RFC\n"
    _import_text(header + "OTRO NOMBRE,SALUD,0001/2020,2020-03-10,1 AÑO,acm-010101-ab1\n")
    assert Sanction.objects.get().rfc == "ACM010101AB1"
    supplier = _supplier("Acme SA de CV", "ACM010101AB1")
    assert supplier_sanction_in_force(supplier=supplier, on=dt.date(2020, 4, 1)) is not None

    _import_text(header + "PUBLICO EN GENERAL,SALUD,0002/2020,2020-03-10,1 AÑO,XAXX010101000\n")
    generic = _supplier("Mostrador", "XAXX010101000")
    assert supplier_sanction_in_force(supplier=generic, on=dt.date(2020, 4, 1)) is None


@pytest.mark.django_db
def test_name_match_ignores_sanction_linked_to_another_supplier():
    other = _supplier("Acme SA de CV", "ACM010101AB1")
    _import_text(HEADER + _row(name="ACME, S.A. DE C.V."))
    assert Sanction.objects.get().supplier == other
    namesake = _supplier("Acme, S.C.", "ACM020202AB2")
    assert supplier_sanction_in_force(supplier=namesake, on=dt.date(2020, 4, 1)) is None
    assert supplier_sanction_in_force(supplier=other, on=dt.date(2020, 4, 1)) is not None


# --- Management command -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_imports_and_reports(sample_path, tmp_path):
    out = io.StringIO()
    call_command("sanctions_import", str(sample_path(SAMPLE_2)), "--source", "SFP 2016", stdout=out)
    output = out.getvalue()
    assert "created" in output
    assert "skipped rows" in output
    assert Sanction.objects.filter(source="SFP 2016").count() == Sanction.objects.count() > 0

    missing = tmp_path / "missing.csv"
    with pytest.raises(CommandError):
        call_command("sanctions_import", str(missing), stdout=io.StringIO(), stderr=io.StringIO())
