"""The buyer workspace: a purchasing unit's procedures, from the draft to the last payment.

Views are thin: they parse a form, call one service, and show its refusal next to the field it names.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from licita.bidding import services as bidding
from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.documents.services import document_attach
from licita.portal import forms_buyer as f
from licita.portal import selectors_buyer as sel
from licita.procurement import rules
from licita.procurement import services as proc
from licita.procurement.models import (
    Award,
    Clarification,
    Contract,
    EvaluationMethod,
    Milestone,
    Procedure,
    ProcedureType,
    Status,
)

View = Callable[..., HttpResponse]


def buyer_required(view: View) -> View:
    """Require a signed-in buyer (operator or administrator); anyone else sees "not found"."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sel.buyer_units(actor=request.user):  # type: ignore[arg-type]
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper


def _procedure(request: HttpRequest, ref: str) -> Procedure:
    return sel.buyer_procedure_get(ref=ref, actor=request.user)  # type: ignore[arg-type]


def _back(procedure: Procedure, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("buyer_procedure", args=[procedure.number]) + (f"#{anchor}" if anchor else ""))


# --- Home ----------------------------------------------------------------------------------------


@buyer_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the unit's procedures by status and what needs attention."""
    units = sel.buyer_units(actor=request.user)  # type: ignore[arg-type]
    unit = next((u for u in units if u.key == request.GET.get("uc")), units[0])
    data = sel.buyer_home(unit=unit, group=request.GET.get("estado", "open"), at=clock.now())
    return render(request, "portal/buyer/home.html", {"nav": "buyer", "home": data, "units": units})


# --- New draft -----------------------------------------------------------------------------------


def _rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    """Return the rows typed in a formset that are neither empty nor marked for removal."""
    rows = []
    for form in formset.forms:
        if form.cleaned_data and not form.cleaned_data.get("DELETE"):
            rows.append(form.cleaned_data)
    return rows


def _grow(data: Any, prefix: str) -> Any:
    """Return the POST data with one more blank row in a formset (the no-JavaScript "add another")."""
    data = data.copy()
    total = data.get(f"{prefix}-TOTAL_FORMS", "0")
    data[f"{prefix}-TOTAL_FORMS"] = str(int(total) + 1 if total.isdigit() else 1)
    return data


@buyer_required
def procedure_new(request: HttpRequest) -> HttpResponse:
    """Compose a draft procedure with its lots and items, then create it in one step."""
    units = sel.buyer_units(actor=request.user)  # type: ignore[arg-type]
    unit = next((u for u in units if u.key == (request.POST or request.GET).get("uc")), units[0])
    if request.method != "POST":
        form = f.ProcedureForm()
        lots = f.LotFormSet(prefix="lots", initial=[{}])
        items = f.ItemFormSet(prefix="items", initial=[{"lot": 1}])
        return _new_page(request, unit, units, forms_=(form, lots, items))
    return _draft_submit(request, unit, units, None)


@buyer_required
def procedure_edit(request: HttpRequest, ref: str) -> HttpResponse:
    """Edit a saved draft: the same form as a new one, filled in with the draft's fields, lots and items."""
    procedure = _procedure(request, ref)
    if procedure.status != Status.DRAFT:
        messages.error(request, _("Only a draft can be edited"))
        return _back(procedure)
    units = [procedure.unit]
    if request.method == "POST":
        return _draft_submit(request, procedure.unit, units, procedure)
    lots_rows = list(procedure.lots.prefetch_related("items").order_by("number"))
    form = f.ProcedureForm(initial={name: getattr(procedure, name) for name in f.ProcedureForm.base_fields})
    lots = f.LotFormSet(
        prefix="lots", initial=[{"title": lot.title, "estimated_value": lot.estimated_value} for lot in lots_rows]
    )
    items = f.ItemFormSet(
        prefix="items",
        initial=[
            {"lot": lot.number, "cucop": i.cucop, "description": i.description, "quantity": i.quantity, "unit": i.unit}
            for lot in lots_rows
            for i in sorted(lot.items.all(), key=lambda i: i.pk)
        ],
    )
    return _new_page(request, procedure.unit, units, forms_=(form, lots, items), procedure=procedure)


def _draft_submit(request: HttpRequest, unit: Any, units: list[Any], procedure: Procedure | None) -> HttpResponse:
    """Grow the lot or item rows, or create (or update) the draft; refusals land next to their fields."""
    data = request.POST
    adding = "add_lot" in data or "add_item" in data
    if "add_lot" in data:
        data = _grow(data, "lots")
    if "add_item" in data:
        data = _grow(data, "items")
    form = f.ProcedureForm(data)
    lots = f.LotFormSet(data, prefix="lots")
    items = f.ItemFormSet(data, prefix="items")
    forms_ = (form, lots, items)
    if adding:
        form = f.ProcedureForm(initial={k: data.get(k) for k in f.ProcedureForm.base_fields})
        return _new_page(request, unit, units, forms_=(form, lots, items), show_errors=False, procedure=procedure)
    if not (form.is_valid() and lots.is_valid() and items.is_valid()):
        return _new_page(request, unit, units, forms_=forms_, procedure=procedure)
    lot_rows = _rows(lots)
    item_rows = _rows(items)
    lot_forms = [x for x in lots.forms if x.cleaned_data and not x.cleaned_data.get("DELETE")]
    item_forms = [x for x in items.forms if x.cleaned_data and not x.cleaned_data.get("DELETE")]
    if not lot_rows:
        form.add_error(None, _("A procedure needs at least one lot"))
        return _new_page(request, unit, units, forms_=forms_, procedure=procedure)
    for item_form, item in zip(item_forms, item_rows, strict=True):
        if item["lot"] > len(lot_rows):
            item_form.add_error("lot", _("There is no lot %(n)d") % {"n": item["lot"]})
    if any(x.errors for x in item_forms):
        return _new_page(request, unit, units, forms_=forms_, procedure=procedure)
    fields: dict[str, tuple[forms.Form, str]] = {}
    lot_inputs = []
    for i, (lot_form, lot) in enumerate(zip(lot_forms, lot_rows, strict=True), start=1):
        fields[f"lots[{i}].title"] = (lot_form, "title")
        fields[f"lots[{i}].estimated_value"] = (lot_form, "estimated_value")
        fields[f"lots[{i}].items"] = (lot_form, "title")
        own = [(x, it) for x, it in zip(item_forms, item_rows, strict=True) if it["lot"] == i]
        for j, (item_form, _it) in enumerate(own, start=1):
            for name in ("cucop", "description", "quantity", "unit"):
                fields[f"lots[{i}].items[{j}].{name}"] = (item_form, name)
        lot_inputs.append(
            proc.LotInput(
                title=lot["title"],
                estimated_value=lot["estimated_value"],
                items=[
                    proc.ItemInput(
                        cucop=it["cucop"], description=it["description"], quantity=it["quantity"], unit=it["unit"]
                    )
                    for _x, it in own
                ],
            )
        )
    actor: Any = request.user
    try:
        if procedure is None:
            saved = proc.procedure_create(actor=actor, unit_key=unit.key, lots=lot_inputs, **form.cleaned_data)
        else:
            saved = proc.procedure_update(actor=actor, procedure=procedure, lots=lot_inputs, **form.cleaned_data)
    except LicitaError as exc:
        target = fields.get(str(exc.detail.get("field", "")))
        if target is not None:
            target[0].add_error(target[1], str(exc.message))
        else:
            f.service_error(form, exc)
        return _new_page(request, unit, units, forms_=forms_, procedure=procedure)
    if procedure is None:
        messages.success(request, _("Draft %(number)s created.") % {"number": saved.number})
    else:
        messages.success(request, _("Draft %(number)s saved.") % {"number": saved.number})
    return _back(saved)


def _new_page(
    request: HttpRequest,
    unit: Any,
    units: list[Any],
    *,
    forms_: tuple[forms.Form, Any, Any],
    show_errors: bool = True,
    procedure: Procedure | None = None,
) -> HttpResponse:
    form, lots, items = forms_
    context = {"nav": "buyer", "unit": unit, "units": units, "form": form, "lots": lots, "items": items}
    context["show_errors"] = show_errors
    context["procedure"] = procedure
    return render(request, "portal/buyer/procedure_new.html", context)


# --- The procedure's management page -------------------------------------------------------------


def _page(request: HttpRequest, procedure: Procedure, **bound: Any) -> HttpResponse:
    """Render the management page; `bound` replaces the blank form of the action that was refused."""
    procedure.refresh_from_db()
    data = sel.workspace(procedure=procedure)
    status = sel.effective_status(procedure)
    is_admin = sel.is_unit_admin(actor=request.user, unit=procedure.unit)  # type: ignore[arg-type]
    context: dict[str, Any] = {
        "nav": "buyer",
        "procedure": procedure,
        "status": status,
        "is_admin": is_admin,
        "is_direct": procedure.procedure_type == ProcedureType.DIRECT_AWARD,
        "is_invitation": procedure.procedure_type == ProcedureType.INVITATION,
        "is_points": procedure.evaluation_method == EvaluationMethod.POINTS,
        **data,
    }
    if status == Status.DRAFT:
        context["document_form"] = bound.get("document_form") or f.DocumentForm()
        context["invite_form"] = bound.get("invite_form") or f.InviteForm()
        if procedure.procedure_type == ProcedureType.DIRECT_AWARD:
            context["direct_form"] = bound.get("direct_form") or f.DirectAwardForm(lots=data["lots"])
        else:
            context["publish_form"] = bound.get("publish_form") or f.PublishForm(
                candidates=sel.committee_candidates(procedure=procedure)
            )
            context["problems"] = bound.get("problems")
    else:
        context["document_form"] = bound.get("document_form") or f.DocumentForm()
    if status == Status.PUBLISHED:
        answer = bound.get("answer_form")
        context["answer_forms"] = [
            (c, answer if answer is not None and answer.prefix == f"a{c.pk}" else f.AnswerForm(prefix=f"a{c.pk}"))
            for c in data["clarifications"]
            if c.answered_at is None
        ]
        context["amend_form"] = bound.get("amend_form") or f.AmendForm()
    if status in (Status.PUBLISHED, Status.CLOSED):
        context["bids_in_force"] = sel.bids_in_force(procedure=procedure)
    if status == Status.OPENED:
        context["evaluation_form"] = bound.get("evaluation_form") or f.EvaluationForm(
            rows=data["bid_lots"], points=context["is_points"]
        )
    if status == Status.AWARDED:
        sign = bound.get("sign_form")
        context["sign_forms"] = [
            (a, sign if sign is not None and sign.prefix == f"s{a.pk}" else f.ContractSignForm(prefix=f"s{a.pk}"))
            for a in data["awards"]
            if a.status == "active" and not hasattr(a, "contract")
        ]
    if not procedure.contracts.exists() and status not in (Status.CANCELLED, Status.DESERTED, Status.COMPLETED):
        context["cancel_form"] = bound.get("cancel_form") or f.CancelForm()
    forms_by_contract = bound.get("contract_forms", {})
    context["contract_rows"] = [
        {
            "contract": c,
            "current_value": c.value + sum((a.value_change for a in c.amendments.all()), 0),
            "paid": sum((p.amount for p in c.payments.all()), 0),
            **(
                {
                    "amend_form": forms_by_contract.get(("amend", c.pk)) or f.ContractAmendForm(prefix=f"m{c.pk}"),
                    "payment_form": forms_by_contract.get(("pay", c.pk)) or f.PaymentForm(prefix=f"p{c.pk}"),
                    "milestone_form": forms_by_contract.get(("milestone", c.pk)) or f.MilestoneForm(prefix=f"h{c.pk}"),
                }
                if c.status == "active"
                else {}
            ),
        }
        for c in data["contracts"]
    ]
    return render(request, "portal/buyer/procedure.html", context)


@buyer_required
def procedure_page(request: HttpRequest, ref: str) -> HttpResponse:
    """Show a procedure with the actions its status allows."""
    return _page(request, _procedure(request, ref))


def _act(  # noqa: PLR0917 - the page, the form and what to call, then how to show the result
    request: HttpRequest,
    procedure: Procedure,
    form: forms.Form,
    slot: str,
    call: Callable[[], Any],
    success: str,
    *,
    fields: dict[str, str] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Run one service with a valid form; on refusal show the page again with the error next to its field."""
    if form.is_valid():
        try:
            call()
        except LicitaError as exc:
            f.service_error(form, exc, fields)
        else:
            messages.success(request, success)
            return _back(procedure, anchor)
    return _page(request, procedure, **{slot: form})


@require_POST
@buyer_required
def document_upload(request: HttpRequest, ref: str) -> HttpResponse:
    """Attach a document; the store keeps it by its SHA-256."""
    procedure = _procedure(request, ref)
    form = f.DocumentForm(request.POST, request.FILES)

    def call() -> None:
        upload = form.cleaned_data["file"]
        document_attach(
            actor=request.user,  # type: ignore[arg-type]
            procedure=procedure,
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            filename=upload.name,
            content_b64=base64.b64encode(upload.read()).decode(),
        )

    return _act(
        request,
        procedure,
        form,
        "document_form",
        call,
        _("Document attached."),
        fields={"content_b64": "file", "filename": "file"},
        anchor="documents",
    )


@require_POST
@buyer_required
def invite(request: HttpRequest, ref: str) -> HttpResponse:
    """Invite suppliers by RFC to a draft invitación."""
    procedure = _procedure(request, ref)
    form = f.InviteForm(request.POST)
    return _act(
        request,
        procedure,
        form,
        "invite_form",
        lambda: proc.procedure_invite(actor=request.user, procedure=procedure, rfcs=form.rfc_list()),  # type: ignore[arg-type]
        _("Suppliers invited."),
        anchor="invitations",
    )


@require_POST
@buyer_required
def publish(request: HttpRequest, ref: str) -> HttpResponse:
    """Check the convocatoria against the legal rules, or publish it (the administrator approves)."""
    procedure = _procedure(request, ref)
    form = f.PublishForm(request.POST, candidates=sel.committee_candidates(procedure=procedure))
    if not form.is_valid():
        return _page(request, procedure, publish_form=form)
    data = form.cleaned_data
    if "check" in request.POST:
        try:
            problems = rules.procedure_check(
                procedure,
                at=clock.now(),
                submission_deadline=data["submission_deadline"],
                clarification_deadline=data["clarification_deadline"],
                reduced_period_justification=data["reduced_period_justification"],
            )
        except LicitaError as exc:
            f.service_error(form, exc)
            problems = []
        return _page(request, procedure, publish_form=form, problems=problems)
    if data["submission_deadline"] is None:
        form.add_error("submission_deadline", _("This field is required."))
        return _page(request, procedure, publish_form=form)
    return _act(
        request,
        procedure,
        form,
        "publish_form",
        lambda: proc.procedure_publish(
            actor=request.user,  # type: ignore[arg-type]
            procedure=procedure,
            submission_deadline=data["submission_deadline"],
            clarification_deadline=data["clarification_deadline"],
            award_deadline=data["award_deadline"],
            reduced_period_justification=data["reduced_period_justification"],
            committee=data["committee"],
            threshold=data["threshold"] or 2,
        ),
        _("The convocatoria was published."),
        fields={"invitations": "__all__"},
    )


@require_POST
@buyer_required
def answer(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Answer a question publicly."""
    procedure = _procedure(request, ref)
    clarification = Clarification.objects.filter(pk=pk, procedure=procedure).first()
    if clarification is None:
        raise Http404
    form = f.AnswerForm(request.POST, prefix=f"a{pk}")
    return _act(
        request,
        procedure,
        form,
        "answer_form",
        lambda: proc.clarification_answer(
            actor=request.user,  # type: ignore[arg-type]
            clarification=clarification,
            answer=form.cleaned_data["answer"],
        ),
        _("The answer was published."),
        anchor="questions",
    )


@require_POST
@buyer_required
def amend(request: HttpRequest, ref: str) -> HttpResponse:
    """Amend the convocatoria or extend its deadline."""
    procedure = _procedure(request, ref)
    form = f.AmendForm(request.POST)
    return _act(
        request,
        procedure,
        form,
        "amend_form",
        lambda: proc.procedure_amend(actor=request.user, **form.cleaned_data, procedure=procedure),  # type: ignore[arg-type]
        _("The amendment was published."),
    )


@require_POST
@buyer_required
def cancel(request: HttpRequest, ref: str) -> HttpResponse:
    """Cancel the procedure with a written reason."""
    procedure = _procedure(request, ref)
    form = f.CancelForm(request.POST)
    return _act(
        request,
        procedure,
        form,
        "cancel_form",
        lambda: proc.procedure_cancel(actor=request.user, procedure=procedure, reason=form.cleaned_data["reason"]),  # type: ignore[arg-type]
        _("The procedure was cancelled."),
    )


@require_POST
@buyer_required
def evaluate(request: HttpRequest, ref: str) -> HttpResponse:
    """Record the evaluation of every opened bid and lot."""
    procedure = _procedure(request, ref)
    rows = sel.opened_bid_lots(procedure=procedure)
    form = f.EvaluationForm(request.POST, rows=rows, points=procedure.evaluation_method == EvaluationMethod.POINTS)

    def call() -> None:
        bidding.bids_evaluate(
            actor=request.user,  # type: ignore[arg-type]
            procedure=procedure,
            evaluations=[
                bidding.EvaluationInput(
                    supplier_rfc=r.bid.supplier.rfc,
                    lot=r.lot.number,
                    compliant=form.cleaned_data[f"c_{r.pk}"],
                    reason=form.cleaned_data[f"r_{r.pk}"],
                    technical_points=form.cleaned_data.get(f"t_{r.pk}"),
                )
                for r in rows
            ],
        )

    if form.is_valid():
        fields = form.error_fields()
        return _act(
            request, procedure, form, "evaluation_form", call, _("The evaluation was recorded."), fields=fields
        )
    return _page(request, procedure, evaluation_form=form)


@require_POST
@buyer_required
def fallo(request: HttpRequest, ref: str) -> HttpResponse:
    """Issue the fallo from the recorded evaluation."""
    procedure = _procedure(request, ref)
    try:
        proc.award_decide(actor=request.user, procedure=procedure)  # type: ignore[arg-type]
    except LicitaError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The fallo was issued."))
    return _back(procedure)


@require_POST
@buyer_required
def direct_award(request: HttpRequest, ref: str) -> HttpResponse:
    """Record a direct award to one supplier."""
    procedure = _procedure(request, ref)
    form = f.DirectAwardForm(request.POST, lots=list(procedure.lots.order_by("number")))

    def call() -> None:
        proc.award_direct(
            actor=request.user,  # type: ignore[arg-type]
            procedure=procedure,
            supplier_rfc=form.cleaned_data["supplier_rfc"],
            lots=[
                proc.DirectAwardLot(lot=n, value=form.cleaned_data[f"lot_{n}"])
                for n in form.lot_numbers
                if form.cleaned_data.get(f"lot_{n}") is not None
            ],
        )

    if form.is_valid():
        return _act(
            request,
            procedure,
            form,
            "direct_form",
            call,
            _("The direct award was recorded."),
            fields=form.error_fields(),
        )
    return _page(request, procedure, direct_form=form)


def _award(procedure: Procedure, pk: int) -> Award:
    award = Award.objects.filter(pk=pk, procedure=procedure).select_related("lot").first()
    if award is None:
        raise Http404
    return award


@require_POST
@buyer_required
def contract_sign(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record the signed contract of an award."""
    procedure = _procedure(request, ref)
    award = _award(procedure, pk)
    form = f.ContractSignForm(request.POST, prefix=f"s{pk}")
    return _act(
        request,
        procedure,
        form,
        "sign_form",
        lambda: proc.contract_sign(actor=request.user, award=award, **form.cleaned_data),  # type: ignore[arg-type]
        _("The contract was recorded."),
        anchor="contracts",
    )


def _contract(procedure: Procedure, pk: int) -> Contract:
    contract = Contract.objects.filter(pk=pk, procedure=procedure).first()
    if contract is None:
        raise Http404
    return contract


def _contract_act(
    request: HttpRequest, ref: str, pk: int, form_class: type[forms.Form], prefix: str
) -> tuple[Procedure, Contract, forms.Form]:
    procedure = _procedure(request, ref)
    return procedure, _contract(procedure, pk), form_class(request.POST, prefix=f"{prefix}{pk}")


def _contract_result(  # noqa: PLR0917 - as _act, for a contract's forms
    request: HttpRequest,
    procedure: Procedure,
    contract: Contract,
    kind: str,
    form: forms.Form,
    call: Callable[[], Any],
    success: str,
) -> HttpResponse:
    if form.is_valid():
        try:
            call()
        except LicitaError as exc:
            f.service_error(form, exc)
        else:
            messages.success(request, success)
            return _back(procedure, f"contract-{contract.pk}")
    return _page(request, procedure, contract_forms={(kind, contract.pk): form})


@require_POST
@buyer_required
def contract_amend(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record a convenio modificatorio within the legal cap."""
    procedure, contract, form = _contract_act(request, ref, pk, f.ContractAmendForm, "m")

    def call() -> None:
        data = form.cleaned_data
        proc.contract_amend(
            actor=request.user,  # type: ignore[arg-type]
            contract=contract,
            description=data["description"],
            rationale=data["rationale"],
            value_change=data["value_change"] or 0,
            new_end_date=data["new_end_date"],
        )

    return _contract_result(request, procedure, contract, "amend", form, call, _("The amendment was recorded."))


@require_POST
@buyer_required
def payment(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record a payment under a contract."""
    procedure, contract, form = _contract_act(request, ref, pk, f.PaymentForm, "p")
    return _contract_result(
        request,
        procedure,
        contract,
        "pay",
        form,
        lambda: proc.payment_record(actor=request.user, contract=contract, **form.cleaned_data),  # type: ignore[arg-type]
        _("The payment was recorded."),
    )


@require_POST
@buyer_required
def milestone(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record a delivery or milestone."""
    procedure, contract, form = _contract_act(request, ref, pk, f.MilestoneForm, "h")
    return _contract_result(
        request,
        procedure,
        contract,
        "milestone",
        form,
        lambda: proc.milestone_record(actor=request.user, contract=contract, **form.cleaned_data),  # type: ignore[arg-type]
        _("The milestone was recorded."),
    )


@require_POST
@buyer_required
def milestone_met(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Record whether a scheduled milestone was met."""
    procedure = _procedure(request, ref)
    row = Milestone.objects.filter(pk=pk, contract__procedure=procedure).first()
    if row is None:
        raise Http404
    try:
        proc.milestone_mark_met(actor=request.user, milestone=row, met=request.POST.get("met") == "1")  # type: ignore[arg-type]
    except LicitaError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The milestone was updated."))
    return _back(procedure, f"contract-{row.contract_id}")


@require_POST
@buyer_required
def contract_complete(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    """Mark a contract completed."""
    procedure = _procedure(request, ref)
    contract = _contract(procedure, pk)
    try:
        proc.contract_complete(actor=request.user, contract=contract)  # type: ignore[arg-type]
    except LicitaError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The contract was completed."))
    return _back(procedure, f"contract-{contract.pk}")


# --- The opening ceremony ------------------------------------------------------------------------


def _opening_page(
    request: HttpRequest,
    procedure: Procedure,
    *,
    is_buyer: bool,
    form: f.OpeningForm | None = None,
    claim: dict[str, Any] | None = None,
) -> HttpResponse:
    envelopes = sel.committee(procedure=procedure)
    mine = next((e for e in envelopes if e.custodian_id == request.user.pk), None)
    context = {
        "nav": "buyer" if is_buyer else "auditor",
        "procedure": procedure,
        "is_buyer": is_buyer,
        "status": sel.effective_status(procedure),
        "envelopes": envelopes,
        "threshold": envelopes[0].opening_key.threshold if envelopes else None,
        "mine": mine,
        "claim": claim,
        "claim_b64": base64.b64encode(json.dumps(claim, indent=2).encode()).decode() if claim else "",
        "bids_in_force": sel.bids_in_force(procedure=procedure),
        "form": form or f.OpeningForm(envelopes=envelopes),
    }
    return render(request, "portal/buyer/opening.html", context)


@login_required
def opening(request: HttpRequest, ref: str) -> HttpResponse:
    """Hold the opening act: custodians receive their sealed shares, then the unit's buyers unseal the bids."""
    try:
        procedure, is_buyer = sel.opening_procedure_get(ref=ref, actor=request.user)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if request.method != "POST":
        return _opening_page(request, procedure, is_buyer=is_buyer)
    if "claim" in request.POST:
        try:
            claim = bidding.share_claim(actor=request.user, procedure=procedure)  # type: ignore[arg-type]
        except LicitaError as exc:
            messages.error(request, str(exc.message))
            return redirect("procedure_opening", ref=procedure.number)
        return _opening_page(request, procedure, is_buyer=is_buyer, claim=claim)
    form = f.OpeningForm(request.POST, envelopes=sel.committee(procedure=procedure))
    if form.is_valid():
        try:
            bidding.bids_open(actor=request.user, procedure=procedure, shares=form.shares())  # type: ignore[arg-type]
        except LicitaError as exc:
            if not is_buyer:  # the service refuses anyone but the unit's buyers; this page has no form to show it on
                messages.error(request, str(exc.message))
                return redirect("procedure_opening", ref=procedure.number)
            names = form.share_fields()
            position = exc.detail.get("position")
            name = names[position - 1] if isinstance(position, int) and 0 < position <= len(names) else None
            form.add_error(name, str(exc.message))
        else:
            messages.success(request, _("The bids were opened."))
            return _back(procedure, "bids")
    return _opening_page(request, procedure, is_buyer=is_buyer, form=form)


urlpatterns: list[URLPattern] = [
    path("", home, name="buyer_home"),
    path("procedimientos/nuevo/", procedure_new, name="buyer_procedure_new"),
    path("procedimientos/<str:ref>/", procedure_page, name="buyer_procedure"),
    path("procedimientos/<str:ref>/editar/", procedure_edit, name="buyer_procedure_edit"),
    path("procedimientos/<str:ref>/apertura/", opening, name="procedure_opening"),
    path("procedimientos/<str:ref>/documentos/", document_upload, name="buyer_document_upload"),
    path("procedimientos/<str:ref>/invitaciones/", invite, name="buyer_invite"),
    path("procedimientos/<str:ref>/publicar/", publish, name="buyer_publish"),
    path("procedimientos/<str:ref>/preguntas/<int:pk>/", answer, name="buyer_answer"),
    path("procedimientos/<str:ref>/modificar/", amend, name="buyer_amend"),
    path("procedimientos/<str:ref>/cancelar/", cancel, name="buyer_cancel"),
    path("procedimientos/<str:ref>/evaluacion/", evaluate, name="buyer_evaluate"),
    path("procedimientos/<str:ref>/fallo/", fallo, name="buyer_fallo"),
    path("procedimientos/<str:ref>/adjudicacion-directa/", direct_award, name="buyer_direct_award"),
    path("procedimientos/<str:ref>/adjudicaciones/<int:pk>/contrato/", contract_sign, name="buyer_contract_sign"),
    path("procedimientos/<str:ref>/contratos/<int:pk>/convenio/", contract_amend, name="buyer_contract_amend"),
    path("procedimientos/<str:ref>/contratos/<int:pk>/pago/", payment, name="buyer_payment"),
    path("procedimientos/<str:ref>/contratos/<int:pk>/hito/", milestone, name="buyer_milestone"),
    path("procedimientos/<str:ref>/hitos/<int:pk>/", milestone_met, name="buyer_milestone_met"),
    path("procedimientos/<str:ref>/contratos/<int:pk>/concluir/", contract_complete, name="buyer_contract_complete"),
]
