"""The supplier workspace: registration, opportunities, questions, sealed bids and their signed receipts."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from licita.accounts.models import Supplier
from licita.accounts.services import supplier_signup
from licita.bidding import services as bidding
from licita.bidding.models import BidStatus
from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.portal import selectors_supplier as sel
from licita.portal.forms_supplier import (
    BidForm,
    OpportunityFilterForm,
    QuestionForm,
    ReceiptVerifyForm,
    SupplierRegisterForm,
    add_service_error,
)
from licita.procurement import services as proc
from licita.procurement.models import Procedure, ProcedureType, Status
from licita.procurement.selectors import clarifications_public, procedure_get_for_actor

#: How many rows each list of the home page shows (the newest).
HOME_ROWS = 20


def _supplier(request: HttpRequest) -> Supplier:
    try:
        return sel.supplier_for_actor(actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register a supplier with its RFC, with a user that becomes its representative, and sign in."""
    if request.user.is_authenticated:
        return render(request, "portal/supplier/register.html", {"form": None})
    form = SupplierRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, supplier = supplier_signup(
                rfc=data["rfc"],
                name=data["name"],
                size=data["size"],
                email=data["email"],
                username=data["username"],
                password=data["password1"],
            )
        except LicitaError as exc:
            add_service_error(form, exc, {"password": "password1"})
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("%(name)s is registered. You can now bid on open procedures.") % {"name": supplier.name}
            )
            return redirect("supplier_home")
    return render(request, "portal/supplier/register.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the open opportunities, and the supplier's bids, contracts and questions."""
    supplier = _supplier(request)
    filters = OpportunityFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    open_now = sel.opportunities(
        actor=request.user,  # type: ignore[arg-type]
        supplier=supplier,
        q=criteria.get("q", ""),
        procedure_type=criteria.get("procedure_type", ""),
    )
    page = Paginator(open_now, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "supplier",
        "supplier": supplier,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "bids": sel.supplier_bids(supplier=supplier)[:HOME_ROWS],
        "contracts": sel.supplier_contracts(supplier=supplier)[:HOME_ROWS],
        "questions": sel.supplier_questions(supplier=supplier)[:HOME_ROWS],
        "rows": HOME_ROWS,
    }
    return render(request, "portal/supplier/home.html", context)


def _procedure_context(request: HttpRequest, procedure: Procedure, supplier: Supplier, **forms: Any) -> dict[str, Any]:
    now = clock.now()
    lots = list(procedure.lots.all())
    invited = (
        procedure.procedure_type != ProcedureType.INVITATION
        or procedure.invitations.filter(supplier=supplier).exists()
    )
    takes_bids = procedure.procedure_type != ProcedureType.DIRECT_AWARD and invited
    bids = sel.procedure_bids_of_supplier(procedure=procedure, supplier=supplier)
    in_force = next((b for b in bids if b.status == BidStatus.SUBMITTED), None)
    open_for_bids = takes_bids and procedure.is_open_for_bids(now)
    return {
        "nav": "supplier",
        "supplier": supplier,
        "procedure": procedure,
        "status": Status(procedure.effective_status(now)).label,
        "lots": lots,
        "invited": invited,
        "takes_bids": takes_bids,
        "open_for_bids": open_for_bids,
        "open_for_questions": invited and procedure.is_open_for_questions(now),
        "bids": bids,
        "in_force": in_force,
        "clarifications": clarifications_public(procedure=procedure),
        "question_form": forms.get("question_form") or QuestionForm(),
        "bid_form": forms.get("bid_form") or BidForm(lots=lots, currency=procedure.currency),
        "verify_form": forms.get("verify_form") or ReceiptVerifyForm(),
        "verdict": forms.get("verdict"),
        "refusal": forms.get("refusal"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def procedure_page(request: HttpRequest, ref: str) -> HttpResponse:
    """Show a procedure to a supplier: ask a question, bid, replace or withdraw, get and verify the receipt."""
    supplier = _supplier(request)
    try:
        procedure = procedure_get_for_actor(ref=ref, actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    if request.method == "GET":
        return render(request, "portal/supplier/procedure.html", _procedure_context(request, procedure, supplier))
    action = request.POST.get("action", "")
    actor: Any = request.user
    extra: dict[str, Any] = {}
    if action == "ask":
        form = QuestionForm(request.POST)
        extra["question_form"] = form
        if form.is_valid():
            try:
                proc.clarification_ask(
                    actor=actor, procedure=procedure, question=form.cleaned_data["question"], supplier_rfc=supplier.rfc
                )
            except LicitaError as exc:
                if exc.detail.get("field") == "question":
                    add_service_error(form, exc)
                else:
                    extra["refusal"] = str(exc.message)
            else:
                messages.success(request, _("Your question was sent. The answer will be published here."))
                return redirect("supplier_procedure", ref=ref)
    elif action == "bid":
        bid_form = BidForm(request.POST, request.FILES, lots=list(procedure.lots.all()), currency=procedure.currency)
        extra["bid_form"] = bid_form
        if bid_form.is_valid():
            try:
                bid = bidding.bid_submit(
                    actor=actor,
                    procedure=procedure,
                    lots=[bidding.BidLotInput(lot=n, price=p) for n, p in bid_form.prices().items()],
                    documents=bid_form.documents(),
                    supplier_rfc=supplier.rfc,
                )
            except LicitaError as exc:
                name = bid_form.field_for(str(exc.detail.get("field") or ""))
                if name:
                    bid_form.add_error(name, str(exc.message))
                else:
                    extra["refusal"] = str(exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Your bid was received and sealed (version %(version)s). Download the signed receipt and keep it."
                    )
                    % {"version": bid.version},
                )
                return redirect("supplier_procedure", ref=ref)
    elif action == "withdraw":
        try:
            bid = sel.bid_get_for_supplier(pk=int(request.POST.get("bid", "0") or 0), actor=actor)
            if bid.procedure_id != procedure.pk:
                raise NotFound(_("Bid not found"))
            bidding.bid_withdraw(actor=actor, bid=bid)
        except ValueError:
            extra["refusal"] = _("The bid to withdraw was not given.")
        except LicitaError as exc:
            extra["refusal"] = str(exc.message)
        else:
            messages.success(request, _("Your bid was withdrawn. You can submit a new one before the deadline."))
            return redirect("supplier_procedure", ref=ref)
    elif action == "verify":
        verify_form = ReceiptVerifyForm(request.POST, request.FILES)
        extra["verify_form"] = verify_form
        if verify_form.is_valid():
            upload = verify_form.cleaned_data["receipt"]
            extra["verdict"] = sel.receipt_check(upload.read(sel.RECEIPT_MAX_BYTES + 1))
    else:
        extra["refusal"] = _("Unknown action.")
    context = _procedure_context(request, procedure, supplier, **extra)
    return render(request, "portal/supplier/procedure.html", context)


@login_required
def bid_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one of the supplier's bid receipts as the signed JSON file."""
    try:
        bid = sel.bid_get_for_supplier(pk=pk, actor=request.user)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    body = json.dumps(bid.receipt, indent=2, ensure_ascii=False, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"acuse-{bid.procedure.number}-v{bid.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns: list[URLPattern] = [
    path("registro/", register, name="supplier_register"),
    path("", home, name="supplier_home"),
    path("procedimientos/<str:ref>/", procedure_page, name="supplier_procedure"),
    path("ofertas/<int:pk>/acuse/", bid_receipt, name="supplier_bid_receipt"),
]
