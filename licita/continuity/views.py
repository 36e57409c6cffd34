"""Public pages of the continuity office: the outages, and the accountability page of each (HTML, CSV, OCDS)."""

from __future__ import annotations

import io
import json

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licita.continuity import selectors
from licita.core.errors import LicitaError, NotFound
from licita.portal import charts
from licita.portal.templatetags.portal import mx_compact
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


urlpatterns: list[URLPattern] = [
    path("interrupciones/", outages, name="outages"),
    path("interrupciones/<int:pk>/", outage_detail, name="outage_detail"),
    path("interrupciones/<int:pk>/procedimientos.csv", outage_csv, name="outage_csv"),
    path("interrupciones/<int:pk>/ocds.json", outage_ocds, name="outage_ocds"),
]
