"""The auditor workspace: procedures of the scope, opening committees, the custodian key and the activity log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from licita.bidding.services import custodian_key_register
from licita.core.errors import LicitaError, NotFound
from licita.portal import selectors_supplier as sel
from licita.portal.forms_supplier import (
    ActivityFilterForm,
    AuditorProcedureFilterForm,
    CustodianKeyForm,
    action_label,
    add_service_error,
)

PAGE_SIZE = 25
OPENINGS_SHOWN = 20


def _scope(request: HttpRequest) -> sel.AuditorScope:
    try:
        return sel.auditor_scope(actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None


def _without_page(query: QueryDict) -> str:
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()


def _custodian_key(request: HttpRequest) -> str | None:
    return sel.custodian_key_b64(actor=request.user)  # type: ignore[arg-type]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the procedures of the auditor's scope, the opening committees and the custodian key status."""
    scope = _scope(request)
    filters = AuditorProcedureFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    procedures = sel.auditor_procedures(
        actor=request.user,  # type: ignore[arg-type]
        scope=scope,
        status=criteria.get("status", ""),
        q=criteria.get("q", ""),
    )
    context = {
        "nav": "auditor",
        "scope": scope,
        "filters": filters,
        "page": Paginator(procedures, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": _without_page(request.GET),
        "openings": sel.auditor_openings(actor=request.user)[:OPENINGS_SHOWN],  # type: ignore[arg-type]
        "openings_shown": OPENINGS_SHOWN,
        "custodian_key": _custodian_key(request),
    }
    return render(request, "portal/auditor/home.html", context)


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """Show the audit trail of the auditor's scope, newest first, filtered by action and date."""
    scope = _scope(request)
    filters = ActivityFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    entries = sel.audit_entries(
        scope=scope,
        action=criteria.get("action", ""),
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"entry": e, "label": action_label(e.action)} for e in page.object_list]
    context = {
        "nav": "auditor",
        "scope": scope,
        "filters": filters,
        "page": page,
        "rows": rows,
        "query": _without_page(request.GET),
    }
    return render(request, "portal/auditor/activity.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def custodian_key(request: HttpRequest) -> HttpResponse:
    """Register or replace the X25519 public key to which the auditor's opening-key shares are sealed."""
    scope = _scope(request)
    form = CustodianKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            custodian_key_register(actor=request.user, public_key_b64=form.cleaned_data["public_key"])  # type: ignore[arg-type]
        except LicitaError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Your custodian key was registered."))
            return redirect("auditor_home")
    context = {"nav": "auditor", "scope": scope, "form": form, "custodian_key": _custodian_key(request)}
    return render(request, "portal/auditor/custodian_key.html", context)


urlpatterns: list[URLPattern] = [
    path("", home, name="auditor_home"),
    path("actividad/", activity, name="auditor_activity"),
    path("llave/", custodian_key, name="auditor_custodian_key"),
]
