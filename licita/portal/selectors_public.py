"""Public reads for the portal: figures, search, a procedure's public file, buyers' and suppliers' pages.

Everything here answers what an anonymous visitor may see: procedures come from
`procurement.selectors.procedure_list(actor=None)` (drafts never), bids from
`bidding.selectors.bids_for_actor(actor=None)` (no content before the opening). Each page reads a fixed
number of queries whatever the size of the data (aggregates in the database, prefetches, LIMIT).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils.translation import gettext as _

from licita.accounts.models import Institution, PurchasingUnit, Sanction, Supplier
from licita.accounts.rfc import rfc_is_generic, rfc_normalize
from licita.bidding.selectors import bids_for_actor
from licita.core.errors import NotFound
from licita.procurement.models import (
    Award,
    AwardStatus,
    Contract,
    ContractStatus,
    Lot,
    Procedure,
    ProcedureType,
    Status,
)
from licita.procurement.search import query_words
from licita.procurement.selectors import clarifications_public, procedure_get_for_actor, procedure_list

if TYPE_CHECKING:
    from licita.bidding.models import Bid, BidLot
    from licita.documents.models import Document
    from licita.procurement.models import Clarification

MEXICO = ZoneInfo("America/Mexico_City")
ZERO = Decimal(0)

#: Sort keys of the search page and their ORDER BY (always ending on a unique column, for stable pages).
SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "amount_desc": ("-estimated_value", "-id"),
    "amount_asc": ("estimated_value", "id"),
    "deadline": ("submission_deadline", "id"),
}


def _year_start(at: dt.datetime) -> dt.datetime:
    local = at.astimezone(MEXICO)
    return dt.datetime(local.year, 1, 1, tzinfo=MEXICO)


def public_procedures() -> QuerySet[Procedure]:
    """Return every procedure a visitor may see, with its unit and institution."""
    return procedure_list(actor=None)


def _active_awards() -> QuerySet[Award]:
    """Return the awards in force of public procedures (a cancelled award no longer counts)."""
    return Award.objects.filter(status=AwardStatus.ACTIVE, procedure__in=public_procedures().values("pk"))


# --- Home ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeFigures:
    open_now: int
    awarded_this_year: Decimal
    by_type: list[tuple[str, int]]
    awarded_by_month: list[tuple[int, Decimal]]
    year: int


def home_figures(*, at: dt.datetime) -> HomeFigures:
    """Return the live figures of the home page: open now, awarded this year, procedures by type and month."""
    start = _year_start(at)
    visible = public_procedures()
    open_now = visible.filter(status=Status.PUBLISHED, submission_deadline__gt=at).count()
    counts = dict(visible.order_by().values_list("procedure_type").annotate(n=Count("id")))
    by_type = [(t, counts.get(t, 0)) for t in ProcedureType.values]
    months = dict(
        _active_awards()
        .filter(date__gte=start, date__lt=start.replace(year=start.year + 1))
        .annotate(month=ExtractMonth("date", tzinfo=MEXICO))
        .order_by()
        .values_list("month")
        .annotate(total=Sum("value"))
    )
    by_month = [(m, months.get(m) or ZERO) for m in range(1, at.astimezone(MEXICO).month + 1)]
    return HomeFigures(
        open_now=open_now,
        awarded_this_year=sum((v for _m, v in by_month), ZERO),
        by_type=by_type,
        awarded_by_month=by_month,
        year=start.year,
    )


def recent_procedures(*, limit: int = 10) -> list[Procedure]:
    """Return the latest public procedures."""
    return list(public_procedures()[:limit])


# --- Search -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    procedure_type: str = ""
    status: str = ""
    institution: int | None = None
    unit: str = ""
    contract_type: str = ""
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    sort: str = "newest"


def procedure_search(*, filters: SearchFilters, at: dt.datetime) -> QuerySet[Procedure]:
    """Return the public procedures matching the text and filters, sorted; slice it for a page.

    Every word of the text must be in the procedure's search text (`procurement/search.py`: number, expediente,
    title and description, institution and unit, awarded suppliers' names and RFCs, contracts' titles and
    codes; without accents or case). The status is the one a visitor sees now: a published procedure past its
    deadline counts as closed.
    """
    qs = public_procedures()
    f = filters
    for word in query_words(f.q or ""):
        qs = qs.filter(search_text__contains=word)
    if f.procedure_type:
        qs = qs.filter(procedure_type=f.procedure_type)
    if f.status == Status.PUBLISHED:
        qs = qs.filter(status=Status.PUBLISHED, submission_deadline__gt=at)
    elif f.status == Status.CLOSED:
        qs = qs.filter(Q(status=Status.CLOSED) | Q(status=Status.PUBLISHED, submission_deadline__lte=at))
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.institution is not None:
        qs = qs.filter(unit__institution_id=f.institution)
    if f.unit:
        qs = qs.filter(unit__key=f.unit)
    if f.contract_type:
        qs = qs.filter(contract_type=f.contract_type)
    if f.published_from:
        qs = qs.filter(published_at__gte=dt.datetime.combine(f.published_from, dt.time(), MEXICO))
    if f.published_to:
        qs = qs.filter(published_at__lt=dt.datetime.combine(f.published_to + dt.timedelta(days=1), dt.time(), MEXICO))
    if f.amount_min is not None:
        qs = qs.filter(estimated_value__gte=f.amount_min)
    if f.amount_max is not None:
        qs = qs.filter(estimated_value__lte=f.amount_max)
    return qs.order_by(*SORTS.get(f.sort, SORTS["newest"]))


def buyers_matching(q: str, *, limit: int = 8) -> tuple[list[Institution], list[PurchasingUnit]]:
    """Return the institutions and purchasing units whose name, acronym or key matches the text."""
    institutions = list(
        Institution.objects.filter(Q(name__icontains=q) | Q(siglas__iexact=q)).order_by("name")[:limit]
    )
    units = list(
        PurchasingUnit.objects.filter(Q(name__icontains=q) | Q(key=q.upper()))
        .select_related("institution")
        .order_by("key")[:limit]
    )
    return institutions, units


def suppliers_matching(q: str, *, limit: int = 8) -> list[Supplier]:
    """Return the suppliers whose legal name or RFC matches the text."""
    return list(Supplier.objects.filter(Q(name__icontains=q) | Q(rfc=rfc_normalize(q))).order_by("name")[:limit])


# --- A procedure's public file --------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    when: dt.datetime | dt.date | None
    state: str = "upcoming"  # done, current or upcoming
    note: str = ""

    @property
    def day_only(self) -> bool:
        """Return whether the stage has a calendar day rather than an instant."""
        return not isinstance(self.when, dt.datetime)


@dataclass
class ProcedureFile:
    procedure: Procedure
    lots: list[Lot]
    documents: list[Document]
    clarifications: list[Clarification]
    bids: list[Bid]
    awards: list[Award]
    contracts: Sequence[Contract]
    timeline: list[Stage] = field(default_factory=list)

    @property
    def bid_rows(self) -> list[BidLot]:
        """Return the opened bids' prices per lot, by lot and price (empty before the opening)."""
        return sorted((row for bid in self.bids for row in bid.lots.all()), key=lambda r: (r.lot.number, r.price))


def procedure_file(*, ref: str, at: dt.datetime) -> ProcedureFile:
    """Return everything public about a procedure, in a fixed number of queries; NotFound if not public.

    Bids come only after the opening (through `bids_for_actor` with no actor), so no price or bidder
    shows before it.
    """
    procedure = procedure_get_for_actor(ref=ref.strip(), actor=None)
    lots = list(procedure.lots.prefetch_related("items"))
    documents = list(procedure.documents.filter(contract__isnull=True).order_by("created_at", "id"))
    clarifications = list(clarifications_public(procedure=procedure))
    amendments = list(procedure.amendments.order_by("created_at"))
    bids = list(bids_for_actor(procedure=procedure, actor=None)) if procedure.opened_at else []
    awards = list(procedure.awards.select_related("supplier", "lot").order_by("lot__number"))
    contracts = list(
        procedure.contracts.select_related("supplier", "award__lot").prefetch_related(
            "amendments", "payments", "milestones", Prefetch("documents", to_attr="files")
        )
    )
    return ProcedureFile(
        procedure=procedure,
        lots=lots,
        documents=documents,
        clarifications=clarifications,
        bids=bids,
        awards=awards,
        contracts=contracts,
        timeline=procedure_timeline(procedure, amendments=amendments, contracts=contracts, at=at),
    )


def procedure_timeline(
    procedure: Procedure, *, amendments: Sequence[Any], contracts: Sequence[Contract], at: dt.datetime
) -> list[Stage]:
    """Return the stages of a procedure from its stored dates: done, the current one, and those to come."""
    p = procedure
    direct = p.procedure_type == ProcedureType.DIRECT_AWARD
    stages: list[Stage] = []

    def add(key: str, label: str, when: Any, *, done: bool, note: str = "") -> None:
        stages.append(Stage(key, label, when, "done" if done else "upcoming", note))

    if p.announced_at:
        add("announced", _("Plan announced"), p.announced_at, done=True)
    if not direct:
        add("published", _("Call for bids published"), p.published_at, done=p.published_at is not None)
        add(
            "clarifications",
            _("Questions accepted until (clarification meeting)"),
            p.clarification_deadline,
            done=p.clarification_deadline is not None and p.clarification_deadline <= at,
        )
        for a in amendments:
            if a.new_deadline:
                add("tender_amendment", _("Deadline extended"), a.created_at, done=True, note=a.description)
        add(
            "deadline",
            _("Bids accepted until"),
            p.submission_deadline,
            done=p.submission_deadline is not None and p.submission_deadline <= at,
        )
        add("opening", _("Opening of bids"), p.opened_at, done=p.opened_at is not None)
    add("award", _("Award (fallo)"), p.awarded_at or p.award_deadline, done=p.awarded_at is not None)
    if p.status == Status.DESERTED:
        add("deserted", _("Declared deserted: no acceptable bid"), p.awarded_at, done=True)
    signed = [c.date_signed for c in contracts]
    add("contract", _("Contract signed"), min(signed) if signed else p.signature_deadline, done=bool(signed))
    for c in contracts:
        for m in c.amendments.all():
            add("amendment", _("Contract amendment %(code)s") % {"code": f"{c.code} CM-{m.number}"}, m.date, done=True)
    paid = [pay.date for c in contracts for pay in c.payments.all()]
    if paid:
        add("payments", _("Payments: %(n)d, the last on this date") % {"n": len(paid)}, max(paid), done=True)
    elif p.status in (Status.CONTRACTED, Status.COMPLETED):
        add("payments", _("Payments"), None, done=False)
    ends = [c.end_date for c in contracts]
    completed = bool(contracts) and all(c.status == ContractStatus.COMPLETED for c in contracts)
    add("completion", _("Completion"), max(ends) if ends else None, done=completed)
    if p.status == Status.CANCELLED:
        stages = [s for s in stages if s.state == "done"]
        add("cancelled", _("Cancelled"), p.cancelled_at, done=True, note=p.cancellation_reason)
    elif p.status == Status.DESERTED:
        stages = [s for s in stages if s.state == "done"]
    # The first stage not yet done is the current one.
    for i, s in enumerate(stages):
        if s.state != "done":
            stages[i] = Stage(s.key, s.label, s.when, "current", s.note)
            break
    return stages


# --- Institutions, units and suppliers --------------------------------------------------------------


@dataclass(frozen=True)
class BuyerStats:
    total_awarded: Decimal
    procedure_count: int
    by_month: list[tuple[dt.date, Decimal]]
    by_type: list[tuple[str, int, Decimal]]
    top_suppliers: Sequence[Mapping[str, Any]]
    recent: list[Procedure]


def institution_get(*, pk: int) -> Institution:
    """Return an institution or raise NotFound."""
    institution = Institution.objects.filter(pk=pk).first()
    if institution is None:
        raise NotFound(_("Institution not found"))
    return institution


def unit_get(*, key: str) -> PurchasingUnit:
    """Return a purchasing unit by its key (any case, spaces ignored) or raise NotFound."""
    unit = PurchasingUnit.objects.select_related("institution").filter(key=key.strip().upper()).first()
    if unit is None:
        raise NotFound(_("Purchasing unit not found"))
    return unit


def _last_months(at: dt.datetime, count: int) -> list[dt.date]:
    local = at.astimezone(MEXICO)
    year, month = local.year, local.month
    out = []
    for _i in range(count):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def buyer_stats(*, scope: Q, at: dt.datetime, months: int = 12) -> BuyerStats:
    """Return the awarded amounts by month, the share by procedure type, the top suppliers and recent procedures.

    `scope` filters procedures (e.g. `Q(unit=unit)` or `Q(unit__institution=institution)`).
    """
    procedures = public_procedures().filter(scope)
    awards = _active_awards().filter(procedure__in=procedures.values("pk"))
    slots = _last_months(at, months)
    start = dt.datetime(slots[0].year, slots[0].month, 1, tzinfo=MEXICO)
    rows = (
        awards.filter(date__gte=start)
        .annotate(y=ExtractYear("date", tzinfo=MEXICO), m=ExtractMonth("date", tzinfo=MEXICO))
        .order_by()
        .values_list("y", "m")
        .annotate(total=Sum("value"))
    )
    monthly = {(y, m): total for y, m, total in rows}
    by_month = [(d, monthly.get((d.year, d.month)) or ZERO) for d in slots]
    type_rows = {
        t: (n, v or ZERO)
        for t, n, v in procedures.order_by()
        .values_list("procedure_type")
        .annotate(
            n=Count("id", distinct=True),
            v=Sum("awards__value", filter=Q(awards__status=AwardStatus.ACTIVE)),
        )
    }
    by_type = [(t, *type_rows.get(t, (0, ZERO))) for t in ProcedureType.values]
    top = list(
        awards.order_by()
        .values("supplier__rfc", "supplier__name")
        .annotate(total=Sum("value"), n=Count("id"))
        .order_by("-total", "supplier__rfc")[:10]
    )
    return BuyerStats(
        total_awarded=sum((v for _t, _n, v in by_type), ZERO),
        procedure_count=sum(n for _t, n, _v in by_type),
        by_month=by_month,
        by_type=by_type,
        top_suppliers=top,
        recent=list(procedures[:10]),
    )


@dataclass(frozen=True)
class SupplierFile:
    supplier: Supplier
    awards: list[Award]
    award_count: int
    total_awarded: Decimal
    total_contracted: Decimal
    buyers: Sequence[Mapping[str, Any]]
    sanctions: list[Sanction]


def supplier_file(*, rfc: str, limit: int = 50) -> SupplierFile:
    """Return a supplier's public file by RFC (any case, spaces or hyphens ignored) or raise NotFound."""
    supplier = Supplier.objects.filter(rfc=rfc_normalize(rfc)).first()
    if supplier is None:
        raise NotFound(_("Supplier not found"))
    awards = _active_awards().filter(supplier=supplier)
    totals = awards.aggregate(total=Sum("value"), n=Count("id"), contracted=Sum("contract__value"))
    rows = list(
        awards.select_related("procedure__unit__institution", "lot", "contract").order_by("-date", "-id")[:limit]
    )
    buyers = list(
        awards.order_by()
        .values("procedure__unit__institution_id", "procedure__unit__institution__name")
        .annotate(total=Sum("value"), n=Count("id"))
        .order_by("-total")[:20]
    )
    match = Q(supplier=supplier)
    if not rfc_is_generic(supplier.rfc):
        match |= Q(rfc=supplier.rfc)
    return SupplierFile(
        supplier=supplier,
        awards=rows,
        award_count=totals["n"] or 0,
        total_awarded=totals["total"] or ZERO,
        total_contracted=totals["contracted"] or ZERO,
        buyers=buyers,
        sanctions=list(Sanction.objects.filter(match).order_by("-starts_on", "-id")),
    )


@dataclass(frozen=True)
class Listed:
    """A procedure in a list, with the status a visitor sees now."""

    procedure: Procedure
    status: str
    is_open: bool

    @property
    def status_label(self) -> str:
        """Return the status in the user's language."""
        return str(Status(self.status).label)

    @property
    def is_closed(self) -> bool:
        """Return whether the procedure ended without a contract (cancelled or deserted)."""
        return self.status in (Status.CANCELLED, Status.DESERTED)


def listed(procedures: list[Procedure], *, at: dt.datetime) -> list[Listed]:
    """Return the procedures with their status as of `at` (a published one past its deadline is closed)."""
    return [Listed(p, p.effective_status(at), p.is_open_for_bids(at)) for p in procedures]
