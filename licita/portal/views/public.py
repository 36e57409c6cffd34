"""Public pages: no login needed. Each view parses, calls the public selectors and renders."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licita.accounts.models import Institution
from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.ledger.verifying import ledger_summary, procedure_check, receipt_check
from licita.portal import charts
from licita.portal import selectors_public as sel
from licita.portal.templatetags.portal import mx_compact, mx_int, mx_money
from licita.procurement.models import ContractType, ProcedureType, Status
from licita.publication.build import ocid_for
from licita.publication.bulk import dumps_list

PAGE_SIZE = 20
UNIT_KEY = re.compile(r"^[0-9A-Z]{9}$")


def _any(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=gettext_lazy("Bid receipt (the JSON you were given)"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        max_length=64 * 1024,
    )


class SearchForm(forms.Form):
    """The search page's filters: every field optional, every bad value a message next to its field."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200, strip=True)
    procedure_type = forms.ChoiceField(
        label=gettext_lazy("Procedure type"), required=False, choices=_any(gettext_lazy("Any")) + ProcedureType.choices
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_any(gettext_lazy("Any")) + [(v, lbl) for v, lbl in Status.choices if v != Status.DRAFT],
    )
    institution = forms.TypedChoiceField(
        label=gettext_lazy("Buyer institution"), required=False, coerce=int, empty_value=None
    )
    unit = forms.CharField(
        label=gettext_lazy("Purchasing unit key (CLAVEUC)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("9 letters or digits, e.g. 009J3B001"),
    )
    contract_type = forms.ChoiceField(
        label=gettext_lazy("Contract type"), required=False, choices=_any(gettext_lazy("Any")) + ContractType.choices
    )
    published_from = forms.DateField(
        label=gettext_lazy("Published from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    published_to = forms.DateField(
        label=gettext_lazy("Published to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    amount_min = forms.DecimalField(
        label=gettext_lazy("Estimated value from (MXN)"), required=False, min_value=0, max_digits=17, decimal_places=2
    )
    amount_max = forms.DecimalField(
        label=gettext_lazy("Estimated value up to (MXN)"), required=False, min_value=0, max_digits=17, decimal_places=2
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[
            ("newest", gettext_lazy("Newest first")),
            ("oldest", gettext_lazy("Oldest first")),
            ("amount_desc", gettext_lazy("Highest amount first")),
            ("amount_asc", gettext_lazy("Lowest amount first")),
            ("deadline", gettext_lazy("Nearest deadline first")),
        ],
    )
    page = forms.IntegerField(label=gettext_lazy("Page"), required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        institutions = Institution.objects.order_by("name").values_list("pk", "siglas", "name")
        self.fields["institution"].choices = _any(_("Any")) + [(pk, f"{s} — {n}") for pk, s, n in institutions]  # type: ignore[attr-defined]

    def clean_unit(self) -> str:
        """Return the unit key upper-cased, or refuse one that is not 9 letters or digits."""
        key = re.sub(r"\s+", "", self.cleaned_data["unit"] or "").upper()
        if key and not UNIT_KEY.match(key):
            raise ValidationError(_("A purchasing unit key has 9 letters or digits, e.g. 009J3B001."), code="format")
        return key

    def clean(self) -> dict[str, Any]:
        """Check that ranges are in order."""
        data = super().clean() or {}
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The maximum amount must not be less than the minimum."))
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", _("The end date must not be before the start date."))
        return data

    def filters(self) -> sel.SearchFilters:
        """Return the cleaned filters (call after is_valid())."""
        d = self.cleaned_data
        return sel.SearchFilters(
            q=d["q"],
            procedure_type=d["procedure_type"],
            status=d["status"],
            institution=d["institution"],
            unit=d["unit"],
            contract_type=d["contract_type"],
            published_from=d["published_from"],
            published_to=d["published_to"],
            amount_min=d["amount_min"],
            amount_max=d["amount_max"],
            sort=d["sort"] or "newest",
        )


def _month(m: int) -> str:
    return str(MONTHS_3[m]).capitalize()


def _type_label(value: str) -> str:
    return str(ProcedureType(value).label)


def _chart(svg: SafeString, caption: str, rows: list[tuple[str, str]], head: tuple[str, str]) -> dict[str, Any]:
    """Return what the chart include needs: the SVG, its caption and the same data as table rows."""
    return {"svg": svg, "caption": caption, "rows": rows, "head": head}


def _money_bars(rows: list[tuple[str, Any]], title: str, *, vertical: bool) -> dict[str, Any]:
    draw = charts.bar_chart_vertical if vertical else charts.bar_chart_horizontal
    return _chart(
        draw(rows, title=title, fmt=mx_compact),
        title,
        [(label, mx_money(value)) for label, value in rows],
        (_("Period") if vertical else _("Name"), _("Amount")),
    )


def home(request: HttpRequest) -> HttpResponse:
    """Show what Licita is, the live figures and charts, and the latest procedures."""
    figures = sel.home_figures(at=clock.now())
    by_type = [(_type_label(t), n) for t, n in figures.by_type]
    title_types = _("Procedures by type")
    context = {
        "figures": figures,
        "by_type": by_type,
        "month_chart": _money_bars(
            [(_month(m), v) for m, v in figures.awarded_by_month],
            _("Amount awarded by month, %(year)d") % {"year": figures.year},
            vertical=True,
        ),
        "type_chart": _chart(
            charts.bar_chart_horizontal(by_type, title=title_types, fmt=mx_int),
            title_types,
            [(label, mx_int(n)) for label, n in by_type],
            (_("Procedure type"), _("Procedures")),
        ),
        "recent": sel.listed(sel.recent_procedures(), at=clock.now()),
        "now": clock.now(),
    }
    return render(request, "portal/public/home.html", context)


#: The most matches a search counts (and pages through): 50 pages of 20.
COUNT_CAP = 1000


def search(request: HttpRequest) -> HttpResponse:
    """Search procedures by text and filters; also list the buyers and suppliers whose names match."""
    form = SearchForm(request.GET)
    context: dict[str, Any] = {"form": form, "nav": "search", "now": clock.now()}
    if form.is_valid():
        qs = sel.procedure_search(filters=form.filters(), at=context["now"])
        # Counted up to a cap: a common word matches tens of thousands of procedures, and counting them all
        # costs more than the page itself. Past the cap the page says "more than" and asks for filters.
        total = qs[: COUNT_CAP + 1].count()
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = form.cleaned_data["page"] or 1
        if page > pages:
            form.add_error(
                "page", _("Page %(page)d does not exist: there are %(pages)d.") % {"page": page, "pages": pages}
            )
        else:
            offset = (page - 1) * PAGE_SIZE
            query = request.GET.copy()
            query.pop("page", None)
            context |= {
                "results": sel.listed(list(qs[offset : offset + PAGE_SIZE]), at=context["now"]),
                "total": total,
                "capped": capped,
                "page": page,
                "pages": pages,
                "first": offset + 1,
                "last": min(offset + PAGE_SIZE, total),
                "query": query.urlencode(),
            }
            q = form.cleaned_data["q"]
            if q:
                context["institutions"], context["units"] = sel.buyers_matching(q)
                context["suppliers"] = sel.suppliers_matching(q)
    status = 200 if form.is_valid() else 400
    return render(request, "portal/public/search.html", context, status=status)


def procedure_detail(request: HttpRequest, ref: str) -> HttpResponse:
    """Show a procedure's public file: facts, timeline, lots, documents, questions, opening, award, contracts."""
    now = clock.now()
    try:
        file = sel.procedure_file(ref=ref, at=now)
    except NotFound:
        raise Http404(ref) from None
    ocid = ocid_for(file.procedure)
    return render(
        request,
        "portal/public/procedure.html",
        {"file": file, "p": file.procedure, "row": sel.listed([file.procedure], at=now)[0], "ocid": ocid},
    )


def _buyer_context(stats: sel.BuyerStats) -> dict[str, Any]:
    share = [
        (_type_label(t), n, v, (v * 100 / stats.total_awarded) if stats.total_awarded else 0)
        for t, n, v in stats.by_type
    ]
    share_title = _("Amount awarded by procedure type")
    top_title = _("Top suppliers by amount awarded")
    return {
        "stats": stats,
        "month_chart": _money_bars(
            [(f"{_month(d.month)} {d:%y}", v) for d, v in stats.by_month],
            _("Amount awarded by month, last 12 months"),
            vertical=True,
        ),
        "type_chart": _chart(
            charts.bar_chart_horizontal(
                [(label, v) for label, _n, v, _p in share],
                title=share_title,
                fmt=mx_compact,
            ),
            share_title,
            [(label, f"{mx_money(v)} ({pct:.1f} %)") for label, _n, v, pct in share],
            (_("Procedure type"), _("Amount")),
        ),
        "top_chart": _money_bars(
            [(row["supplier__name"], row["total"]) for row in stats.top_suppliers], top_title, vertical=False
        ),
        "share": share,
    }


def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a buyer institution: its units, spending over time, share by type, top suppliers, recent procedures."""
    try:
        institution = sel.institution_get(pk=pk)
    except NotFound:
        raise Http404(pk) from None
    stats = sel.buyer_stats(scope=Q(unit__institution=institution), at=clock.now())
    context = {"institution": institution, "units": list(institution.units.order_by("key"))} | _buyer_context(stats)
    context["recent"] = sel.listed(stats.recent, at=clock.now())
    return render(request, "portal/public/institution.html", context)


def unit_detail(request: HttpRequest, key: str) -> HttpResponse:
    """Show a purchasing unit: spending over time, share by type, top suppliers, recent procedures."""
    try:
        unit = sel.unit_get(key=key)
    except NotFound:
        raise Http404(key) from None
    stats = sel.buyer_stats(scope=Q(unit=unit), at=clock.now())
    context = {"unit": unit, "recent": sel.listed(stats.recent, at=clock.now())} | _buyer_context(stats)
    return render(request, "portal/public/unit.html", context)


def supplier_detail(request: HttpRequest, rfc: str) -> HttpResponse:
    """Show a supplier: awards and contracts won, totals, buyers, sanctions."""
    try:
        file = sel.supplier_file(rfc=rfc)
    except NotFound:
        raise Http404(rfc) from None
    buyers_title = _("Amount awarded by buyer institution")
    context = {
        "file": file,
        "s": file.supplier,
        "today": clock.now().date(),
        "buyers_chart": _money_bars(
            [(row["procedure__unit__institution__name"], row["total"]) for row in file.buyers],
            buyers_title,
            vertical=False,
        ),
    }
    return render(request, "portal/public/supplier.html", context)


def ledger_page(request: HttpRequest) -> HttpResponse:
    """Show the latest checkpoint, how to verify the ledger, and a form to prove a bid receipt."""
    context: dict[str, Any] = {"nav": "ledger", **ledger_summary()}
    status = 200
    if request.method == "POST":
        form = ReceiptForm(request.POST)
        if form.is_valid():
            try:
                context["receipt_result"] = receipt_check(raw=form.cleaned_data["receipt"])
            except LicitaError as error:
                form.add_error("receipt", error.message)
        if not form.is_valid():
            status = 400
    else:
        form = ReceiptForm()
    context["form"] = form
    return render(request, "portal/public/ledger.html", context, status=status)


def ledger_procedure(request: HttpRequest, ref: str) -> HttpResponse:
    """Prove every ledger entry of one procedure against the latest checkpoint."""
    try:
        file = sel.procedure_file(ref=ref, at=clock.now())
        result = procedure_check(ocid=ocid_for(file.procedure))
    except NotFound:
        raise Http404(ref) from None
    return render(
        request,
        "portal/public/ledger_procedure.html",
        {"nav": "ledger", "p": file.procedure, "result": result, **ledger_summary()},
    )


def data_page(request: HttpRequest) -> HttpResponse:
    """List the bulk open-data files and the API."""
    return render(request, "portal/public/data.html", {"dumps": dumps_list(), "nav": "data"})


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("buscar/", search, name="search"),
    path("procedimientos/<str:ref>/", procedure_detail, name="procedure_detail"),
    path("instituciones/<int:pk>/", institution_detail, name="institution_detail"),
    path("uc/<str:key>/", unit_detail, name="unit_detail"),
    path("proveedores/<str:rfc>/", supplier_detail, name="supplier_detail"),
    path("datos/", data_page, name="data"),
    path("bitacora/", ledger_page, name="ledger"),
    path("bitacora/procedimientos/<str:ref>/", ledger_procedure, name="ledger_procedure"),
]
