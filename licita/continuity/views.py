"""Pages of the continuity office: public outages, the buyer's contingency procedures, the auditor's overdue items.

The public pages are the outages and the accountability page of each (HTML, CSV, OCDS); the buyer workspace lists
the unit's contingency procedures, registers one from a form and imports a signed file; the auditor workspace lists
the items past their back-capture deadline and runs the overdue check.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from licita.accounts.models import PurchasingUnit
from licita.continuity import backcapture, selectors, services
from licita.continuity.forms import (
    BackcaptureFileForm,
    ContingencyFileForm,
    ContingencyRegisterForm,
    OutageCloseForm,
    OutageDeclareForm,
    service_error,
)
from licita.continuity.models import ContingencyProcedure, Outage, UploadStatus
from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.portal import charts
from licita.portal import selectors_buyer as buyer_sel
from licita.portal.selectors_supplier import AuditorScope, auditor_scope
from licita.portal.templatetags.portal import mx_compact
from licita.portal.views.buyer import buyer_required
from licita.publication.models import Record


class MatchForm(forms.Form):
    expected = forms.FileField(
        label=gettext_lazy("External list of expected procedures (CSV with the columns unit, ref and amount)")
    )


def outages(request: HttpRequest) -> HttpResponse:
    """List every outage with its period, cause and how many procedures were extended or carried out offline."""
    rows = list(selectors.outage_list())
    return render(request, "continuity/outages.html", {"nav": "outages", "outages": rows})


def _report(pk: int) -> selectors.Report:
    try:
        return selectors.report_build(outage=selectors.outage_get(pk=pk))
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def outage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the accountability page of one outage; a posted external list is matched against the records."""
    report = _report(pk)
    matches = None
    form = MatchForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        text = io.TextIOWrapper(form.cleaned_data["expected"].file, encoding="utf-8-sig", errors="replace")
        try:
            matches = selectors.external_match(outage=report.outage, lines=text)
        except LicitaError as exc:
            error = str(exc.message)
    chart = (
        charts.bar_chart_horizontal(
            [(g.name, g.amount) for g in report.institutions[:15]],
            title=_("Amount contracted while the platform was down, by institution"),
            fmt=mx_compact,
        )
        if report.institutions
        else None
    )
    return render(
        request,
        "continuity/outage_detail.html",
        {
            "nav": "outages",
            "report": report,
            "outage": report.outage,
            "chart": chart,
            "form": form,
            "matches": matches,
            "missing": [m for m in matches or [] if m.status != "complete"],
            "error": error,
        },
    )


def outage_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the outage's contingency procedures as CSV."""
    report = _report(pk)
    response = HttpResponse(selectors.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="interrupcion-{pk}.csv"'
    return response


def outage_ocds(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the compiled OCDS releases of the outage's back-captured procedures (a list of records)."""
    report = _report(pk)
    compiled = list(
        Record.objects.filter(procedure__contingency__outage=report.outage)
        .order_by("ocid")
        .values_list("ocid", "compiled")
    )
    body = {"records": [{"ocid": ocid, "compiledRelease": data} for ocid, data in compiled]}
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json; charset=utf-8")


@dataclass(frozen=True)
class ItemRow:
    """A contingency procedure as the workspaces show it: its upload status and how late it is."""

    item: ContingencyProcedure
    status: str
    deadline: dt.datetime | None
    days_late: int


def _rows(items: list[ContingencyProcedure], now: dt.datetime) -> list[ItemRow]:
    return [
        ItemRow(
            item=i,
            status=str(i.upload_status),
            deadline=i.outage.upload_deadline,
            days_late=selectors.days_late(i.outage.upload_deadline, i.completed_at, now),
        )
        for i in items
    ]


# --- The buyer's contingency procedures ----------------------------------------------------------------------


def _unit(request: HttpRequest, units: list[PurchasingUnit]) -> PurchasingUnit:
    wanted = (request.POST.get("unit") if request.method == "POST" else None) or request.GET.get("uc")
    return next((u for u in units if u.key == wanted), units[0])


def _units(request: HttpRequest) -> list[PurchasingUnit]:
    return buyer_sel.buyer_units(actor=request.user)  # type: ignore[arg-type]


@buyer_required
def buyer_contingency(request: HttpRequest) -> HttpResponse:
    """List the unit's contingency procedures per outage with their upload status, deadline and lateness."""
    units = _units(request)
    unit = _unit(request, units)
    rows = _rows(list(selectors.unit_contingency(unit=unit)), clock.now())
    context = {"nav": "buyer_contingency", "here": "list", "unit": unit, "units": units, "rows": rows}
    return render(request, "continuity/buyer_contingency.html", context)


@buyer_required
def buyer_contingency_register(request: HttpRequest) -> HttpResponse:
    """Register one procedure carried out in person during an outage; a refusal lands next to its field."""
    units = _units(request)
    unit = _unit(request, units)
    if request.method != "POST":
        form = ContingencyRegisterForm(units=units, initial={"unit": unit.key})
    else:
        form = ContingencyRegisterForm(request.POST, units=units)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.contingency_register(
                    actor=request.user,  # type: ignore[arg-type]
                    outage=data["outage"],
                    unit_key=data["unit"],
                    procedure=services.ContingencyInput(
                        ref=data["ref"],
                        title=data["title"],
                        procedure_type=data["procedure_type"],
                        contract_type=data["contract_type"],
                        legal_basis=data["legal_basis"],
                        supplier_rfc=data["supplier_rfc"],
                        amount=data["amount"],
                        carried_out_at=data["carried_out_at"],
                    ),
                )
            except LicitaError as exc:
                service_error(form, exc)
            else:
                messages.success(request, _("Procedure %(ref)s was registered.") % {"ref": item.ref})
                return redirect(reverse("buyer_contingency") + f"?uc={item.unit.key}")
    context = {"nav": "buyer_contingency", "here": "register", "unit": unit, "units": units, "form": form}
    return render(request, "continuity/buyer_contingency_register.html", context)


@buyer_required
def buyer_contingency_upload(request: HttpRequest) -> HttpResponse:
    """Upload a contingency file signed by the unit's official; every procedure in it is imported, or none."""
    units = _units(request)
    unit = _unit(request, units)
    form = ContingencyFileForm(request.POST, request.FILES) if request.method == "POST" else ContingencyFileForm()
    if request.method == "POST" and form.is_valid():
        try:
            items = services.contingency_import(actor=request.user, raw=form.cleaned_data["file"])  # type: ignore[arg-type]
        except LicitaError as exc:
            service_error(form, exc, default="file")
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d procedure was imported from the signed file.",
                    "%(n)d procedures were imported from the signed file.",
                    len(items),
                )
                % {"n": len(items)},
            )
            return redirect(reverse("buyer_contingency") + f"?uc={items[0].unit.key}")
    context = {"nav": "buyer_contingency", "here": "upload", "unit": unit, "units": units, "form": form}
    return render(request, "continuity/buyer_contingency_upload.html", context)


@buyer_required
def buyer_contingency_backcapture(request: HttpRequest) -> HttpResponse:
    """Back-capture the acts of one registered procedure from a file of acts and its actas: all, or none."""
    units = _units(request)
    unit = _unit(request, units)
    form = BackcaptureFileForm(request.POST, request.FILES) if request.method == "POST" else BackcaptureFileForm()
    if request.method == "POST" and form.is_valid():
        attachments: dict[str, bytes] = form.cleaned_data["attachments"]
        try:
            data = backcapture.attach_files(form.cleaned_data["file"], attachments.get)
            item, done = backcapture.contingency_backcapture_file(actor=request.user, data=data)  # type: ignore[arg-type]
        except LicitaError as exc:
            service_error(form, exc, default="file")
        else:
            messages.success(
                request,
                ngettext(
                    "%(ref)s: %(n)d act was back-captured; it is now %(status)s.",
                    "%(ref)s: %(n)d acts were back-captured; it is now %(status)s.",
                    len(done),
                )
                % {"ref": item.ref, "n": len(done), "status": UploadStatus(item.upload_status).label},
            )
            return redirect(reverse("buyer_contingency") + f"?uc={item.unit.key}")
    context = {"nav": "buyer_contingency", "here": "backcapture", "unit": unit, "units": units, "form": form}
    return render(request, "continuity/buyer_contingency_backcapture.html", context)


# --- The auditor's overdue items -----------------------------------------------------------------------------

OVERDUE_PAGE_SIZE = 50


def _scope(request: HttpRequest) -> AuditorScope:
    try:
        return auditor_scope(actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None


@login_required
def auditor_contingency(request: HttpRequest) -> HttpResponse:
    """List the contingency procedures of the scope past their deadline and not complete, or escalated."""
    scope = _scope(request)
    now = clock.now()
    page = Paginator(selectors.overdue_contingency(scope=scope, now=now), OVERDUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "auditor",
        "scope": scope,
        "page": page,
        "rows": _rows(list(page.object_list), now),
        "query": "",
    }
    return render(request, "continuity/auditor_contingency.html", context)


@require_POST
@login_required
def auditor_contingency_check(request: HttpRequest) -> HttpResponse:
    """Escalate now every contingency procedure not fully uploaded by its deadline."""
    _scope(request)
    count = services.contingency_overdue_check(actor=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        ngettext(
            "%(n)d procedure was escalated.",
            "%(n)d procedures were escalated.",
            count,
        )
        % {"n": count},
    )
    return redirect("auditor_contingency")


@login_required
def auditor_outages(request: HttpRequest) -> HttpResponse:
    """Declare an outage the platform could not see, and close the open ones (auditors)."""
    if not services.may_declare(request.user):  # type: ignore[arg-type]
        raise Http404
    declare = OutageDeclareForm(request.POST if "declare" in request.POST else None, prefix="declare")
    close = OutageCloseForm(request.POST if "close" in request.POST else None, prefix="close")
    if request.method == "POST" and "declare" in request.POST and declare.is_valid():
        data = declare.cleaned_data
        try:
            outage = services.outage_declare(
                actor=request.user,  # type: ignore[arg-type]
                start=data["start"],
                end=data["end"],
                affected=data["affected"],
                cause=data["cause"],
            )
        except LicitaError as exc:
            service_error(declare, exc, default="start")
        else:
            messages.success(request, _("Outage %(id)s was declared and published.") % {"id": outage.pk})
            return redirect(outage.get_absolute_url())
    if request.method == "POST" and "close" in request.POST and close.is_valid():
        found = Outage.objects.filter(pk=close.cleaned_data["outage"]).first()
        if found is None:
            raise Http404
        try:
            outage = services.outage_close(actor=request.user, outage=found, end=close.cleaned_data["end"])  # type: ignore[arg-type]
        except LicitaError as exc:
            service_error(close, exc, default="end")
        else:
            messages.success(
                request,
                ngettext(
                    "Outage %(id)s was closed; %(n)d procedure had its periods extended.",
                    "Outage %(id)s was closed; %(n)d procedures had their periods extended.",
                    outage.extended_count,
                )
                % {"id": outage.pk, "n": outage.extended_count},
            )
            return redirect(outage.get_absolute_url())
    try:
        scope: AuditorScope | None = auditor_scope(actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        scope = None  # a platform administrator who is no auditor
    context = {
        "nav": "auditor",
        "scope": scope,
        "declare": declare,
        "close": close,
        "open_outages": list(Outage.objects.filter(ended_at__isnull=True).order_by("-started_at")),
    }
    return render(request, "continuity/auditor_outages.html", context)


urlpatterns: list[URLPattern] = [
    path("interrupciones/", outages, name="outages"),
    path("interrupciones/<int:pk>/", outage_detail, name="outage_detail"),
    path("interrupciones/<int:pk>/procedimientos.csv", outage_csv, name="outage_csv"),
    path("interrupciones/<int:pk>/ocds.json", outage_ocds, name="outage_ocds"),
    path("comprador/contingencia/", buyer_contingency, name="buyer_contingency"),
    path("comprador/contingencia/registrar/", buyer_contingency_register, name="buyer_contingency_register"),
    path("comprador/contingencia/archivo/", buyer_contingency_upload, name="buyer_contingency_upload"),
    path("comprador/contingencia/captura/", buyer_contingency_backcapture, name="buyer_contingency_backcapture"),
    path("auditoria/contingencia/", auditor_contingency, name="auditor_contingency"),
    path("auditoria/interrupciones/", auditor_outages, name="auditor_outages"),
    path("auditoria/contingencia/revisar/", auditor_contingency_check, name="auditor_contingency_check"),
]
