"""Import of the SFP directory of sanctioned suppliers and contractors, and the in-force check.

The file is the CSV published by the Secretaría de la Función Pública ("Directorio de Proveedores y
Contratistas Sancionados"): columns Proveedor, Dependencia, Número de Expediente, Hechos, Objeto Social,
Sentido de Resolución, Fecha de Notificación, FechadeResolucion, Plazo años - meses, Monto, …

Reading:

- Headers are matched after stripping, case and accent folding and dropping everything but letters and
  digits ("Número de Expediente         " and "NUMERO DE EXPEDIENTE" are the same column). Proveedor,
  Dependencia and Número de Expediente are required; a file without one of them is refused whole.
  Columns without a model field (Objeto Social, Nombre del Responsable…) are ignored.
- The file is read as UTF-8 (a BOM is dropped), else as Windows-1252 (the "latin-1" that Windows
  exports actually use, with curly quotes, dashes and ellipses), else as ISO-8859-1, which decodes anything.
- Dates are YYYY-MM-DD or DD/MM/YYYY. The term (Plazo) reads "1 AÑO", "3 MESES", "2 AÑOS 6 MESES",
  "2 AÑOS, 8 MESES", "UN AÑO", "TRES MESES", "3 (TRES) MESES"…; Monto is the fine in pesos.

The debarment period: the inhabilitación starts on the notification date when there is one, else on the
resolution date. By law (LAASSP art. 60) the debarment runs from the day the SFP makes it known, by
publication in the Diario Oficial; the file carries no publication date, and the notification to the
supplier is the date the published rows use as the start (it follows the resolution by a few days), so
it is the closest date the file offers; the resolution date is the fallback. It ends on the start plus
the term in calendar months, the day clamped to the month's end (31 January + 1 month = 28/29 February),
and `Sanction.is_in_force` treats both ends as included. A blank or unreadable term, or an acquittal
(Sentido de Resolución ABSOLUTORIA), records no debarment period (starts_on = ends_on = None, term_text
kept): fine-only sanctions do not debar.

Row by row: a row that breaks a rule (missing required value, a date that is not a date, columns shifted
by an unquoted comma in an earlier cell, an invalid RFC, a value too long) is reported as
`(line, column, message)` and skipped; the other rows are imported. Two rows with the same supplier,
case number and authority are one sanction: the later row wins, the earlier one is reported as skipped.
The whole file is written in one transaction, so a crash leaves nothing half-written.

Rows are keyed by (normalised supplier name, case number, authority): importing the same file again
creates nothing and reports the rows as unchanged (or updated when a value changed).

Suppliers are matched by normalised name (`sanction_name_normalize`) or, when the file has an RFC
column, by RFC. A name shared by several registered suppliers links none of them. An existing link is
never removed by a re-import. Matching by name is a screening aid, not proof of identity.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from licita.accounts.models import Sanction, Supplier, User
from licita.accounts.rfc import rfc_is_generic, rfc_validate
from licita.core import clock
from licita.core.errors import ValidationError

logger = logging.getLogger(__name__)

#: A reported row: (line number in the file, column as published, message).
RowIssue = tuple[int, str, str]


@dataclass
class ImportReport:
    """What an import did: counts of sanctions created, updated, unchanged and rows skipped, and why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    #: Rows not imported: (line, column, message).
    errors: list[RowIssue] = field(default_factory=list)
    #: Rows imported with a value dropped (an unreadable term or fine): (line, column, message).
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Return the number of data rows read (blank lines aside)."""
        return self.created + self.updated + self.unchanged + self.skipped


# --- Supplier names -------------------------------------------------------------------------------------

_LEGAL_FORMS = (
    "SA DE CV",
    "SAB DE CV",
    "SAPI DE CV",
    "SAPIB DE CV",
    "SAS DE CV",
    "SA",
    "SAB",
    "SAPI",
    "SAS",
    "S DE RL DE CV",
    "S DE RL MI",
    "S DE RL",
    "SRL DE CV",
    "SRL",
    "SC DE RL DE CV",
    "SC DE RL",
    "SC DE CV",
    "SC DE RI",
    "SPR DE RL DE CV",
    "SPR DE RL",
    "SPR DE RI",
    "S EN C",
    "S EN CS",
    "S EN NC",
    "SCL",
    "SCP",
    "SC",
    "AC",
    "IAP",
    "ABP",
    "SOCIEDAD ANONIMA DE CAPITAL VARIABLE",
    "SOCIEDAD ANONIMA",
    "SOCIEDAD DE RESPONSABILIDAD LIMITADA DE CAPITAL VARIABLE",
    "SOCIEDAD DE RESPONSABILIDAD LIMITADA",
    "SOCIEDAD CIVIL",
    "ASOCIACION CIVIL",
)
_LEGAL_FORM_SUFFIX = re.compile(
    r"(?:^|\s)(?:" + "|".join(re.escape(form) for form in sorted(_LEGAL_FORMS, key=len, reverse=True)) + r")$"
)
_NOT_NAME = re.compile(r"[^A-Z0-9&]+")


def _strip_accents(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def sanction_name_normalize(name: str) -> str:
    """Return `name` in the form used to match suppliers: "Acme, S.A. de C.V." -> "ACME".

    Uppercase, accents dropped (Ñ -> N), punctuation removed, runs of one-letter words joined
    ("S. A. DE C. V." -> "SA DE CV", "A.D.C." -> "ADC"), spaces collapsed, then trailing legal forms
    removed (SA DE CV, S DE RL DE CV, SAPI DE CV, SC, AC and the like, abbreviated or spelled out).
    """
    text = _NOT_NAME.sub(" ", _strip_accents(name).upper())
    words: list[str] = []
    letters = ""
    for word in text.split():
        if len(word) == 1:
            letters += word
            continue
        if letters:
            words.append(letters)
            letters = ""
        words.append(word)
    if letters:
        words.append(letters)
    normalized = " ".join(words)
    while True:
        shorter = _LEGAL_FORM_SUFFIX.sub("", normalized).strip()
        if shorter in {"", normalized}:
            return normalized
        normalized = shorter


# --- Values ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "UN": 1,
    "UNO": 1,
    "UNA": 1,
    "DOS": 2,
    "TRES": 3,
    "CUATRO": 4,
    "CINCO": 5,
    "SEIS": 6,
    "SIETE": 7,
    "OCHO": 8,
    "NUEVE": 9,
    "DIEZ": 10,
    "ONCE": 11,
    "DOCE": 12,
}
_YEAR_WORDS = frozenset({"ANO", "ANOS"})
_MONTH_WORDS = frozenset({"MES", "MESES"})
_CONNECTORS = frozenset({"Y", "E"})


def sanction_term_months(text: str) -> int | None:
    """Return the term "2 AÑOS 6 MESES" as 30 months, or None when it is blank, zero or not understood."""
    folded = re.sub(r"\([^)]*\)", " ", _strip_accents(text).upper())
    tokens = re.findall(r"[0-9]+|[A-Z]+", folded)
    months = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _CONNECTORS and index > 0:
            index += 1
            continue
        count = int(token) if token.isdigit() else _NUMBER_WORDS.get(token)
        if count is None or index + 1 >= len(tokens):
            return None
        unit = tokens[index + 1]
        if unit in _YEAR_WORDS:
            months += 12 * count
        elif unit in _MONTH_WORDS:
            months += count
        else:
            return None
        index += 2
    return months or None


def add_months(day: dt.date, months: int) -> dt.date:
    """Return `day` plus `months` calendar months, the day clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _parse_date(text: str) -> dt.date | None:
    """Return the date in `text` (YYYY-MM-DD or DD/MM/YYYY), None when blank; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    if match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := _DMY_DATE.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(text)
    return dt.date(int(year), int(month), int(day))


_FINE_LIMIT = Decimal(10) ** 14  # max_digits=16, decimal_places=2
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_AMOUNT = re.compile(r"^\d+(?:\.\d+)?$")


def _parse_fine(text: str) -> Decimal | None:
    """Return the amount in `text` ("90664", "133502.74", "$1,250.50") to the cent, None when blank or not an amount."""
    text = text.replace("$", "").replace(" ", "").strip()
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _AMOUNT.match(text):
        return None
    try:
        amount = Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return amount if amount < _FINE_LIMIT else None


def _max_length(attr: str) -> int | None:
    """Return the `max_length` of the Sanction field `attr` (None for text fields)."""
    model_field = Sanction._meta.get_field(attr)  # noqa: SLF001
    return model_field.max_length if isinstance(model_field, models.Field) else None


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --- Columns --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    attr: str
    label: str
    names: tuple[str, ...]
    required: bool = False


_COLUMNS = (
    _Column("supplier_name", "Proveedor", ("proveedor",), required=True),
    _Column("authority", "Dependencia", ("dependencia",), required=True),
    _Column(
        "case_number",
        "Número de Expediente",
        ("numerodeexpediente", "numeroexpediente", "expediente"),
        required=True,
    ),
    _Column("facts", "Hechos", ("hechos",)),
    _Column("resolution", "Sentido de Resolución", ("sentidoderesolucion", "sentidodelaresolucion")),
    _Column("notified_on", "Fecha de Notificación", ("fechadenotificacion",)),
    _Column("resolved_on", "FechadeResolucion", ("fechaderesolucion",)),
    _Column("term_text", "Plazo años - meses", ("plazoanosmeses", "plazo")),
    _Column("fine", "Monto", ("monto", "multa")),
    _Column("rfc", "RFC", ("rfc",)),
)


def _fold(text: str) -> str:
    """Return a header folded for matching: lowercase, no accents, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", _strip_accents(text).casefold())


@dataclass(frozen=True)
class _Layout:
    #: Model attribute -> (index in the row, column label as published in the file).
    index: dict[str, tuple[int, str]]
    #: Indexes of columns without a header.
    unnamed: frozenset[int]
    width: int

    def cell(self, cells: list[str], attr: str) -> str:
        position = self.index.get(attr)
        if position is None or position[0] >= len(cells):
            return ""
        return cells[position[0]]

    def label(self, attr: str) -> str:
        position = self.index.get(attr)
        if position is not None:
            return position[1].strip()
        return next(column.label for column in _COLUMNS if column.attr == attr)


def _layout(header: list[str]) -> _Layout:
    """Return where each known column is, or raise `ValidationError` naming a missing required column."""
    if header:
        header = [header[0].removeprefix("\ufeff"), *header[1:]]
    folded = [_fold(cell) for cell in header]
    index: dict[str, tuple[int, str]] = {}
    for column in _COLUMNS:
        position = next((i for i, name in enumerate(folded) if name in column.names), None)
        if position is not None:
            index[column.attr] = (position, header[position])
    for column in _COLUMNS:
        if column.required and column.attr not in index:
            raise ValidationError(
                _("The sanctions file has no “%(column)s” column; its header is: %(header)s")
                % {"column": column.label, "header": ", ".join(cell.strip() for cell in header if cell.strip())},
                field=column.label,
                rule="missing_column",
            )
    unnamed = frozenset(i for i, name in enumerate(folded) if not name)
    return _Layout(index=index, unnamed=unnamed, width=len(header))


# --- Rows -----------------------------------------------------------------------------------------------


class _RowError(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class _Row:
    line: int
    key: tuple[str, str, str]
    values: dict[str, Any]
    warnings: list[RowIssue]


def _records(stream: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) for each CSV record, quoted line breaks included."""
    reader = csv.reader(stream)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise ValidationError(
            _("Line %(line)d of the sanctions file is not valid CSV: %(error)s") % {"line": line, "error": error},
            field="file",
            rule="csv",
        ) from None


def _shift_symptom(cells: list[str], layout: _Layout) -> tuple[str, str] | None:
    """Return (column, message) when the row's cells look shifted by an unquoted comma, else None."""
    message = _(
        "“%(value)s” does not belong in this column: the row's columns seem shifted "
        "(an unquoted comma in an earlier cell?); fix the row and import again"
    )
    for position, value in enumerate(cells):
        if value.strip() and (position in layout.unnamed or position >= layout.width):
            return _("column %(number)d") % {"number": position + 1}, message % {"value": _clip(value)}
    term = layout.cell(cells, "term_text").strip()
    if term and (_ISO_DATE.match(term) or _DMY_DATE.match(term)):
        return layout.label("term_text"), message % {"value": term}
    fine = layout.cell(cells, "fine").strip()
    if fine and (_ISO_DATE.match(fine) or _DMY_DATE.match(fine) or sanction_term_months(fine) is not None):
        return layout.label("fine"), message % {"value": fine}
    return None


def _clip(text: str, limit: int = 60) -> str:
    text = _collapse(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_row(line: int, cells: list[str], layout: _Layout) -> _Row:
    """Return the row's values, or raise `_RowError` for the first rule it breaks."""
    if symptom := _shift_symptom(cells, layout):
        raise _RowError(*symptom)
    warnings: list[RowIssue] = []
    values: dict[str, Any] = {
        "supplier_name": _collapse(layout.cell(cells, "supplier_name")),
        "authority": _collapse(layout.cell(cells, "authority")),
        "case_number": _collapse(layout.cell(cells, "case_number")),
        "facts": re.sub(r"\s*<br\s*/?>\s*", "\n", layout.cell(cells, "facts"), flags=re.IGNORECASE).strip(),
        "resolution": _collapse(layout.cell(cells, "resolution")),
        "term_text": _collapse(layout.cell(cells, "term_text")),
    }
    for attr in ("supplier_name", "authority", "case_number"):
        if not values[attr]:
            raise _RowError(layout.label(attr), _("the value is required"))
    for attr, value in values.items():
        limit = _max_length(attr)
        if limit is not None and len(value) > limit:
            raise _RowError(
                layout.label(attr),
                _("“%(value)s” is longer than %(limit)d characters") % {"value": _clip(value), "limit": limit},
            )
    values["normalized_name"] = sanction_name_normalize(values["supplier_name"])
    if not values["normalized_name"]:
        raise _RowError(layout.label("supplier_name"), _("the supplier name has no letters or digits"))

    for attr in ("notified_on", "resolved_on"):
        text = layout.cell(cells, attr).strip()
        try:
            values[attr] = _parse_date(text)
        except ValueError:
            raise _RowError(
                layout.label(attr),
                _("“%(value)s” is not a date (YYYY-MM-DD or DD/MM/YYYY)") % {"value": _clip(text)},
            ) from None

    rfc_text = layout.cell(cells, "rfc").strip()
    if rfc_text:
        try:
            values["rfc"], _person_type = rfc_validate(rfc_text, field=layout.label("rfc"))
        except ValidationError as error:
            raise _RowError(layout.label("rfc"), str(error.message)) from None

    fine_text = layout.cell(cells, "fine").strip()
    values["fine"] = _parse_fine(fine_text)
    if fine_text and values["fine"] is None:
        warnings.append(
            (line, layout.label("fine"), _("“%(value)s” is not an amount; no fine recorded") % {"value": fine_text})
        )

    values["starts_on"] = values["ends_on"] = None
    term = values["term_text"]
    months = sanction_term_months(term) if term else None
    start = values["notified_on"] or values["resolved_on"]
    if _fold(values["resolution"]).startswith("absolutoria"):
        if term:
            warnings.append(
                (line, layout.label("term_text"), _("the resolution is an acquittal; no debarment period recorded"))
            )
    elif term and months is None:
        warnings.append(
            (
                line,
                layout.label("term_text"),
                _("“%(value)s” is not a term in years and months; no debarment period recorded") % {"value": term},
            )
        )
    elif months is not None and start is None:
        warnings.append(
            (line, layout.label("term_text"), _("no notification or resolution date; no debarment period recorded"))
        )
    elif months is not None and start is not None:
        values["starts_on"] = start
        values["ends_on"] = add_months(start, months)

    key = (values.pop("normalized_name"), values.pop("case_number"), values.pop("authority"))
    return _Row(line=line, key=key, values=values, warnings=warnings)


# --- Import ---------------------------------------------------------------------------------------------


class _SupplierIndex:
    """Registered suppliers by RFC and by normalised name, loaded once per import."""

    def __init__(self) -> None:
        self.by_rfc: dict[str, Supplier] = {}
        self.by_name: dict[str, list[Supplier]] = {}
        for supplier in Supplier.objects.only("pk", "name", "rfc"):
            self.by_rfc[supplier.rfc] = supplier
            self.by_name.setdefault(sanction_name_normalize(supplier.name), []).append(supplier)

    def match(self, *, rfc: str, normalized_name: str) -> Supplier | None:
        if rfc and not rfc_is_generic(rfc) and rfc in self.by_rfc:
            return self.by_rfc[rfc]
        candidates = self.by_name.get(normalized_name, [])
        return candidates[0] if len(candidates) == 1 else None


def _read_text(path: Path) -> str:
    """Return the file's text: UTF-8, else Windows-1252, else ISO-8859-1."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def sanctions_import(
    *, path: Path | None = None, stream: TextIO | None = None, source: str, actor: User | None
) -> ImportReport:
    """Import an SFP sanctioned-suppliers CSV from `path` or an open text `stream`; return what it did.

    `source` is recorded on every sanction (where the file came from); `actor` is who asked (None for
    the console), logged. Raises `ValidationError` when the file cannot be used at all (missing required
    column, not CSV): then nothing is written. Bad rows are reported in the result and skipped.
    """
    text: Iterable[str]
    if path is not None and stream is None:
        text = io.StringIO(_read_text(path), newline="")
    elif stream is not None and path is None:
        text = stream
    else:
        msg = "pass exactly one of path and stream"
        raise ValueError(msg)
    source_limit = _max_length("source") or 0
    if len(source) > source_limit:
        raise ValidationError(
            _("The source is longer than %(limit)d characters") % {"limit": source_limit},
            field="source",
            rule="length",
        )
    records = _records(text)
    report = ImportReport()

    first = next(records, None)
    if first is None:
        raise ValidationError(_("The sanctions file is empty"), field="file", rule="empty")
    layout = _layout(first[1])

    rows: dict[tuple[str, str, str], _Row] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        try:
            row = _parse_row(line, cells, layout)
        except _RowError as error:
            report.skipped += 1
            report.errors.append((line, error.column, error.message))
            continue
        earlier = rows.pop(row.key, None)
        if earlier is not None:
            report.skipped += 1
            report.errors.append(
                (
                    earlier.line,
                    layout.label("case_number"),
                    _("same supplier, case number and authority as line %(line)d, which is imported instead")
                    % {"line": line},
                )
            )
        rows[row.key] = row

    with transaction.atomic():
        suppliers = _SupplierIndex()
        for row in rows.values():
            _upsert(row, source=source, suppliers=suppliers, report=report)
            report.warnings.extend(row.warnings)

    report.errors.sort()
    report.warnings.sort()
    logger.info(
        "sanctions import from %s by %s: %d created, %d updated, %d unchanged, %d skipped",
        source,
        actor.get_username() if actor is not None else "console",
        report.created,
        report.updated,
        report.unchanged,
        report.skipped,
    )
    return report


def _upsert(row: _Row, *, source: str, suppliers: _SupplierIndex, report: ImportReport) -> None:
    normalized_name, case_number, authority = row.key
    values = {**row.values, "source": source}
    if not values.get("rfc"):
        values.pop("rfc", None)  # keep an RFC recorded earlier
    supplier = suppliers.match(rfc=values.get("rfc", ""), normalized_name=normalized_name)
    existing = Sanction.objects.filter(
        normalized_name=normalized_name, case_number=case_number, authority=authority
    ).first()
    if existing is None:
        Sanction.objects.create(
            normalized_name=normalized_name, case_number=case_number, authority=authority, supplier=supplier, **values
        )
        report.created += 1
        return
    changed = [attr for attr, value in values.items() if getattr(existing, attr) != value]
    for attr in changed:
        setattr(existing, attr, values[attr])
    if supplier is not None and existing.supplier_id != supplier.pk:  # a link is added, never removed
        existing.supplier = supplier
        changed.append("supplier")
    if not changed:
        report.unchanged += 1
        return
    existing.updated_at = clock.now()
    existing.save(update_fields=[*changed, "updated_at"])
    report.updated += 1


def supplier_sanction_in_force(*, supplier: Supplier, on: dt.date) -> Sanction | None:
    """Return a sanction debarring `supplier` on `on` (the one ending last), or None.

    A sanction counts when it is linked to the supplier, carries its RFC (SAT's generic RFCs match
    nothing) or, when linked to no other supplier, has its normalised name.
    """
    match = Q(supplier=supplier)
    if supplier.rfc and not rfc_is_generic(supplier.rfc):
        match |= Q(rfc=supplier.rfc)
    name = sanction_name_normalize(supplier.name)
    if name:
        match |= Q(normalized_name=name) & (Q(supplier__isnull=True) | Q(supplier=supplier))
    return (
        Sanction.objects.filter(match, starts_on__lte=on, ends_on__gte=on)
        .order_by("-ends_on", "-starts_on", "pk")
        .first()
    )
