"""Reads of the continuity office: public outages, accountability reports and the workspaces' lists.

The workspaces' lists: a unit's contingency procedures, and the auditor's overdue items.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from licita.accounts.models import PurchasingUnit
from licita.continuity.models import ContingencyProcedure, Outage, upload_status_of
from licita.core import clock
from licita.core.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from licita.portal.selectors_supplier import AuditorScope


def outage_list() -> QuerySet[Outage]:
    """Return every outage, newest first (they are all public)."""
    return Outage.objects.order_by("-started_at")


def outage_get(*, pk: Any) -> Outage:
    """Return one outage by its id, or refuse with "not found" naming the field `outage`.

    The id is an integer, or its digits as text (as a file or a form gives it); one out of range never reaches
    the database.
    """
    valid = (type(pk) is int and 0 < pk < 2**63) or (
        isinstance(pk, str) and pk.isascii() and pk.isdigit() and len(pk) < 19
    )
    outage = Outage.objects.filter(pk=int(pk)).first() if valid else None
    if outage is None:
        raise NotFound(_("Outage not found"), field="outage")
    return outage


@dataclass
class Row:
    """One contingency procedure as the report shows it."""

    pk: int
    institution: str
    unit: str
    unit_name: str
    ref: str
    title: str
    procedure_type: str
    amount: Decimal
    currency: str
    carried_out_at: dt.datetime
    status: str
    days_late: int
    escalated: bool
    number: str | None


@dataclass
class Group:
    """Totals of an institution or unit (or the whole outage)."""

    key: str
    name: str
    count: int = 0
    amount: Decimal = Decimal(0)
    complete: int = 0
    partial: int = 0
    missing: int = 0
    late: int = 0
    days_late: int = 0

    def add(self, row: Row) -> None:
        """Count one row in the totals."""
        self.count += 1
        self.amount += row.amount
        setattr(self, row.status, getattr(self, row.status) + 1)
        if row.days_late:
            self.late += 1
            self.days_late = max(self.days_late, row.days_late)


@dataclass
class Report:
    """The accountability report of one outage."""

    outage: Outage
    total: Group
    institutions: list[Group]
    units: list[Group]
    rows: list[Row] = field(default_factory=list)


def days_late(deadline: dt.datetime | None, completed: dt.datetime | None, now: dt.datetime) -> int:
    """Return whole days (rounded up) past the back-capture deadline, at completion or now."""
    if deadline is None:
        return 0
    end = completed or now
    if end <= deadline:
        return 0
    late = end - deadline
    return late.days + (1 if late.seconds or late.microseconds else 0)


def report_build(*, outage: Outage) -> Report:
    """Return counts, amounts, upload status and lateness per institution and unit, with every procedure."""
    now = clock.now()
    deadline = outage.upload_deadline
    values = (
        ContingencyProcedure.objects.filter(outage=outage)
        .order_by("unit__institution__siglas", "unit__key", "ref")
        .values_list(
            "pk",
            "unit__institution__siglas",
            "unit__institution__name",
            "unit__key",
            "unit__name",
            "ref",
            "title",
            "procedure_type",
            "amount",
            "currency",
            "carried_out_at",
            "procedure_id",
            "completed_at",
            "escalated_at",
            "procedure__number",
        )
    )
    total = Group(key="", name=_("All"))
    institutions: dict[str, Group] = {}
    units: dict[str, Group] = {}
    rows = []
    for (
        pk,
        siglas,
        inst_name,
        key,
        unit_name,
        ref,
        title,
        ptype,
        amount,
        currency,
        at,
        proc_id,
        completed,
        escalated,
        number,
    ) in values.iterator(chunk_size=5000):
        status = str(upload_status_of(completed_at=completed, procedure_id=proc_id))
        row = Row(
            pk,
            siglas,
            key,
            unit_name,
            ref,
            title,
            ptype,
            amount,
            currency,
            at,
            status,
            days_late(deadline, completed, now),
            escalated is not None,
            number,
        )
        rows.append(row)
        total.add(row)
        institutions.setdefault(siglas, Group(key=siglas, name=inst_name)).add(row)
        units.setdefault(key, Group(key=key, name=f"{siglas} — {unit_name}")).add(row)
    return Report(
        outage=outage, total=total, institutions=list(institutions.values()), units=list(units.values()), rows=rows
    )


CSV_COLUMNS = (
    "institution",
    "unit",
    "ref",
    "title",
    "procedure_type",
    "amount",
    "currency",
    "carried_out_at",
    "status",
    "days_late",
    "escalated",
    "procedure_number",
)


def report_csv(report: Report) -> str:
    """Return the report's procedures as CSV (one row per contingency procedure)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        writer.writerow(
            [
                r.institution,
                r.unit,
                r.ref,
                r.title,
                r.procedure_type,
                f"{r.amount:.2f}",
                r.currency,
                r.carried_out_at.isoformat(),
                r.status,
                r.days_late,
                "yes" if r.escalated else "no",
                r.number or "",
            ]
        )
    return out.getvalue()


@dataclass
class Match:
    """One procedure of an external list, and what the platform holds for it."""

    line: int
    unit: str
    ref: str
    amount: str
    status: str


def external_match(*, outage: Outage, lines: Iterable[str]) -> list[Match]:
    """Match an external list (CSV with columns `unit` and `ref`, `amount` optional) against the outage's records.

    Each expected procedure is `unregistered` (the unit never registered it), or its upload status.
    """
    reader = csv.DictReader(lines)
    names = {n.strip().lower() for n in (reader.fieldnames or [])}
    if not {"unit", "ref"} <= names:
        raise ValidationError(
            _("The list must be CSV with the columns unit and ref (amount is optional)"), field="file", rule="columns"
        )
    known = {
        (unit, ref): (proc_id, completed)
        for unit, ref, proc_id, completed in ContingencyProcedure.objects.filter(outage=outage).values_list(
            "unit__key", "ref", "procedure_id", "completed_at"
        )
    }
    matches = []
    for i, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        key = (row.get("unit", "").upper(), row.get("ref", ""))
        found = known.get(key)
        if found is None:
            status = "unregistered"
        else:
            status = str(upload_status_of(completed_at=found[1], procedure_id=found[0]))
        matches.append(Match(i, key[0], key[1], row.get("amount", ""), status))
    return matches


def unit_contingency(*, unit: PurchasingUnit, outage: int | None = None) -> QuerySet[ContingencyProcedure]:
    """Return a unit's contingency procedures, newest outage first, then by reference."""
    qs = ContingencyProcedure.objects.filter(unit=unit)
    if outage is not None:
        qs = qs.filter(outage_id=outage)
    return qs.select_related("outage", "unit__institution", "procedure").order_by("-outage__started_at", "ref")


def overdue_contingency(*, scope: AuditorScope, now: dt.datetime) -> QuerySet[ContingencyProcedure]:
    """Return the items of the scope past their back-capture deadline and not complete, or escalated."""
    qs = ContingencyProcedure.objects.filter(
        Q(outage__upload_deadline__lt=now, completed_at__isnull=True) | Q(escalated_at__isnull=False)
    )
    if scope.institution_ids is not None:
        qs = qs.filter(unit__institution_id__in=scope.institution_ids)
    return qs.select_related("outage", "unit__institution", "procedure").order_by(
        "-outage__started_at", "unit__institution__siglas", "unit__key", "ref"
    )
