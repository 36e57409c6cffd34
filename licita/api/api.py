"""The JSON API (django-ninja): thin endpoints that parse, call one service or selector, and render."""

import base64
import logging
from typing import Any

from django.contrib.auth import authenticate
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination, paginate

from licita.accounts.models import Institution, PurchasingUnit, Sanction, Supplier
from licita.accounts.services import supplier_register
from licita.api import schemas as s
from licita.api import serialize
from licita.api.auth import AUTH, optional_actor, token_create, token_revoke
from licita.api.continuity import router as continuity_router
from licita.api.ledger import router as ledger_router
from licita.api.ocds import router as ocds_router
from licita.bidding import crypto
from licita.bidding import services as bidding
from licita.bidding.models import Bid
from licita.bidding.selectors import bid_count_before_opening, bids_for_actor
from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.documents.download import download_response
from licita.documents.models import Document
from licita.documents.services import document_attach
from licita.documents.store import blob_get
from licita.ops import state as write_state
from licita.ops.middleware import refusal as read_only_refusal
from licita.procurement import selectors
from licita.procurement import services as proc
from licita.procurement.models import Clarification, Milestone, Procedure

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Licita API",
    version="1",
    urls_namespace="api",
    description="Licita: contrataciones públicas abiertas. Every error is {code, message, detail}.",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, detail: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "detail": detail or {}}, status=status)


@api.exception_handler(LicitaError)
def _licita_error(request: HttpRequest, exc: LicitaError) -> HttpResponse:
    return _error(request, exc.status, exc.code, str(exc.message), exc.detail)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "payload", "query")),
            "rule": e.get("type", ""),
            "message": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": ""}
    return _error(
        request,
        422,
        "invalid",
        _("Invalid value for %(field)s: %(message)s")
        % {"field": first["field"] or "body", "message": first["message"]},
        {"field": first["field"], "errors": errors},
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("Authentication required: send a bearer token or sign in"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return _error(request, 400, "malformed", _("The request body is not valid JSON"))
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found"))


@api.exception_handler(OperationalError)
def _database_unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    if write_state.note_failure(write_state.DATABASE, exc):
        current = write_state.current(fresh=True)
        if current is not None:
            return read_only_refusal(request, current)
    return _error(
        request,
        503,
        "unavailable",
        _("The platform is busy or its database is unavailable; nothing was saved. Try again."),
    )


@api.exception_handler(IntegrityError)
def _integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    logger.warning("integrity error on %s %s: %s", request.method, request.path, exc)
    return _error(
        request, 409, "conflict", _("The change clashes with data saved at the same time; nothing was saved.")
    )


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    return _error(request, 422, "invalid", _("A value is out of range or too long; nothing was saved."))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", _("Unexpected error; nothing was saved. It has been logged."))


ERRORS = {
    400: s.ErrorOut,
    401: s.ErrorOut,
    403: s.ErrorOut,
    404: s.ErrorOut,
    409: s.ErrorOut,
    422: s.ErrorOut,
    503: s.ErrorOut,
}


def _actor(request: HttpRequest) -> Any:
    """Return the authenticated caller of an endpoint declared with `auth=AUTH`."""
    return getattr(request, "auth", None)


def _procedure(ref: str, request: HttpRequest) -> Procedure:
    actor = _actor(request)
    if actor is None:
        actor = optional_actor(request)
    return selectors.procedure_get_for_actor(ref=ref, actor=actor)


def _detail(p: Procedure, request: HttpRequest) -> dict[str, Any]:
    p.refresh_from_db()
    return serialize.procedure_detail(
        p, bids_in_force=bid_count_before_opening(procedure=p, actor=optional_actor(request))
    )


# --- Accounts ------------------------------------------------------------------------------------

accounts = Router(tags=["accounts"])


@accounts.post("/auth/tokens", response={201: s.TokenOut, **ERRORS}, auth=None)
def create_token(request: HttpRequest, payload: s.TokenIn) -> Status[Any]:
    """Exchange a username and password for a personal API token (shown once)."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise AuthenticationError(401, "bad credentials")
    row, secret = token_create(user=user, name=payload.name)
    return Status(201, {"token": secret, "name": row.name, "prefix": row.prefix})


@accounts.delete("/auth/tokens/{prefix}", response={204: None, **ERRORS}, auth=AUTH)
def revoke_token(request: HttpRequest, prefix: str) -> Status[None]:
    """Revoke one of your API tokens by its prefix (the first 12 characters)."""
    if not token_revoke(user=_actor(request), prefix=prefix):
        raise NotFound(_("Token not found"), field="prefix")
    return Status(204, None)


@accounts.get("/me", response={200: s.MeOut, **ERRORS}, auth=AUTH)
def me(request: HttpRequest) -> dict[str, Any]:
    """Return the caller and their roles."""
    user = _actor(request)
    key = getattr(user, "custodian_key", None)
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.get_full_name(),
        "memberships": [
            {
                "role": m.role,
                "unit": m.unit.key if m.unit else None,
                "supplier_rfc": m.supplier.rfc if m.supplier else None,
                "institution": m.institution.siglas if m.institution else None,
            }
            for m in user.memberships.filter(is_active=True).select_related("unit", "supplier", "institution")
        ],
        "custodian_key": base64.b64encode(bytes(key.public_key)).decode() if key else None,
    }


@accounts.put("/me/custodian-key", response={200: s.CustodianKeyIn, **ERRORS}, auth=AUTH)
def register_custodian_key(request: HttpRequest, payload: s.CustodianKeyIn) -> dict[str, str]:
    """Register the X25519 public key to which your opening-key shares will be sealed."""
    bidding.custodian_key_register(actor=_actor(request), public_key_b64=payload.public_key)
    return {"public_key": payload.public_key}


@accounts.get("/institutions", response=list[s.InstitutionOut])
@paginate(PageNumberPagination, page_size=50)
def institutions(request: HttpRequest) -> Any:
    """List buyer institutions."""
    return Institution.objects.order_by("name")


@accounts.get("/units", response=list[s.UnitOut])
@paginate(PageNumberPagination, page_size=50)
def units(request: HttpRequest, institution: str | None = None) -> Any:
    """List purchasing units."""
    qs = PurchasingUnit.objects.select_related("institution").order_by("key")
    if institution:
        qs = qs.filter(institution__siglas__iexact=institution)
    return qs


@accounts.get("/suppliers", response=list[s.SupplierOut])
@paginate(PageNumberPagination, page_size=50)
def suppliers(request: HttpRequest, q: str | None = None) -> Any:
    """List registered suppliers (search by name or RFC)."""
    qs = Supplier.objects.order_by("name")
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(rfc__icontains=q.upper())
    return qs


@accounts.post("/suppliers", response={201: s.SupplierOut, **ERRORS}, auth=AUTH)
def register_supplier(request: HttpRequest, payload: s.SupplierIn) -> Status[Any]:
    """Register a supplier by RFC; the caller becomes its representative."""
    supplier = supplier_register(
        actor=_actor(request),
        rfc=payload.rfc,
        name=payload.name,
        size=payload.size,
        email=payload.email,
    )
    return Status(201, supplier)


@accounts.get("/sanctions", response=list[s.SanctionOut])
@paginate(PageNumberPagination, page_size=50)
def sanctions(request: HttpRequest, q: str | None = None, in_force: bool | None = None) -> Any:
    """Search the directory of sanctioned suppliers."""
    qs = Sanction.objects.order_by("-starts_on", "id")
    if q:
        qs = qs.filter(supplier_name__icontains=q)
    today = clock.now().date()
    if in_force is not None:
        running = {"starts_on__lte": today, "ends_on__gte": today}
        qs = qs.filter(**running) if in_force else qs.exclude(**running)
    return qs


# --- Procedures ----------------------------------------------------------------------------------

procedures = Router(tags=["procedures"])


@procedures.get("/procedures", response=list[s.ProcedureSummaryOut])
@paginate(PageNumberPagination, page_size=25)
def procedure_list(request: HttpRequest, filters: Query[s.ProcedureFilters]) -> Any:
    """List the procedures the caller may see (all published ones; drafts of the caller's units)."""
    qs = selectors.procedure_list(
        actor=optional_actor(request),
        status=filters.status,
        procedure_type=filters.procedure_type,
        unit_key=filters.unit,
        institution=filters.institution,
        supplier_rfc=filters.supplier,
        q=filters.q,
        published_from=filters.published_from,
        published_to=filters.published_to,
    )
    return qs


def _lots(data: dict[str, Any]) -> list[proc.LotInput]:
    """Take the lots and their items out of a procedure payload, as the services receive them."""
    return [
        proc.LotInput(
            title=lot["title"],
            estimated_value=lot["estimated_value"],
            items=[proc.ItemInput(**item) for item in lot["items"]],
        )
        for lot in data.pop("lots")
    ]


@procedures.post("/procedures", response={201: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_create(request: HttpRequest, payload: s.ProcedureIn) -> Status[Any]:
    """Create a draft procedure with its lots and items."""
    data = payload.dict()
    lots = _lots(data)
    p = proc.procedure_create(actor=_actor(request), lots=lots, **data)
    return Status(201, _detail(p, request))


@procedures.put("/procedures/{ref}", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_update(request: HttpRequest, ref: str, payload: s.ProcedureUpdateIn) -> dict[str, Any]:
    """Replace a draft's fields, lots and items (only a draft can be edited)."""
    p = _procedure(ref, request)
    data = payload.dict()
    lots = _lots(data)
    p = proc.procedure_update(actor=_actor(request), procedure=p, lots=lots, **data)
    return _detail(p, request)


@procedures.get("/procedures/{ref}", response={200: s.ProcedureOut, **ERRORS})
def procedure_get(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Return a procedure by id, number or expediente."""
    return _detail(_procedure(ref, request), request)


@procedures.post("/procedures/{ref}/invitations", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_invite(request: HttpRequest, ref: str, payload: s.InviteIn) -> dict[str, Any]:
    """Invite registered suppliers to a draft invitación."""
    p = _procedure(ref, request)
    proc.procedure_invite(actor=_actor(request), procedure=p, rfcs=payload.rfcs)
    return _detail(p, request)


@procedures.post("/procedures/{ref}/announce", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_announce(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Make a draft public as planned (OCDS planning release) before its convocatoria."""
    p = _procedure(ref, request)
    proc.procedure_announce(actor=_actor(request), procedure=p)
    return _detail(p, request)


@procedures.post("/procedures/{ref}/publish", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_publish(request: HttpRequest, ref: str, payload: s.PublishIn) -> dict[str, Any]:
    """Publish the convocatoria; the opening key's shares are sealed to the committee's custodian keys."""
    from licita.accounts.models import User  # noqa: PLC0415

    p = _procedure(ref, request)
    users = dict(User.objects.filter(username__in=payload.committee).values_list("username", "pk"))
    missing = [u for u in payload.committee if u not in users]
    if missing:
        raise NotFound(_("Unknown committee members: %(u)s") % {"u": ", ".join(missing)}, field="committee")
    proc.procedure_publish(
        actor=_actor(request),
        procedure=p,
        submission_deadline=payload.submission_deadline,
        clarification_deadline=payload.clarification_deadline,
        award_deadline=payload.award_deadline,
        reduced_period_justification=payload.reduced_period_justification,
        committee=[users[u] for u in payload.committee],
        threshold=payload.threshold,
    )
    return _detail(p, request)


@procedures.post("/procedures/{ref}/documents", response={201: s.DocumentOut, **ERRORS}, auth=AUTH)
def procedure_document(request: HttpRequest, ref: str, payload: s.DocumentIn) -> Status[Any]:
    """Attach a document (base64 content) to a procedure."""
    d = document_attach(actor=_actor(request), procedure=_procedure(ref, request), **payload.dict())
    return Status(
        201,
        {
            "kind": d.kind,
            "title": d.title,
            "filename": d.filename,
            "sha256": d.sha256,
            "size": d.size,
            "url": f"/api/documents/{d.sha256}",
        },
    )


@procedures.get("/documents/{sha256}", url_name="document_download", response={200: None, **ERRORS})
def document_download(request: HttpRequest, sha256: str) -> HttpResponse:
    """Download a published procedure document by its SHA-256."""
    actor = optional_actor(request)
    doc = next(
        (
            d
            for d in Document.objects.filter(sha256=sha256).select_related("procedure")
            if selectors.procedure_list(actor=actor).filter(pk=d.procedure_id).exists()
        ),
        None,
    )
    if doc is None:
        raise NotFound(_("Document not found"))
    return download_response(blob_get(sha256), content_type=doc.content_type, filename=doc.filename)


@procedures.get("/procedures/{ref}/clarifications", response={200: list[s.ClarificationOut], **ERRORS})
def clarification_list(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    """List the public questions and answers of a procedure."""
    return [
        {
            "id": c.pk,
            "question": c.question,
            "supplier": c.supplier.name,
            "asked_at": c.created_at,
            "answer": c.answer,
            "answered_at": c.answered_at,
        }
        for c in selectors.clarifications_public(procedure=_procedure(ref, request))
    ]


@procedures.post("/procedures/{ref}/clarifications", response={201: s.ClarificationOut, **ERRORS}, auth=AUTH)
def clarification_ask(request: HttpRequest, ref: str, payload: s.QuestionIn) -> Status[Any]:
    """Ask a question for the junta de aclaraciones (supplier representatives)."""
    c = proc.clarification_ask(
        actor=_actor(request),
        procedure=_procedure(ref, request),
        question=payload.question,
        supplier_rfc=payload.supplier_rfc,
    )
    return Status(
        201,
        {
            "id": c.pk,
            "question": c.question,
            "supplier": c.supplier.name,
            "asked_at": c.created_at,
            "answer": "",
            "answered_at": None,
        },
    )


@procedures.post("/clarifications/{pk}/answer", response={200: s.ClarificationOut, **ERRORS}, auth=AUTH)
def clarification_answer(request: HttpRequest, pk: int, payload: s.AnswerIn) -> dict[str, Any]:
    """Answer a question publicly (the unit's buyers)."""
    c = Clarification.objects.filter(pk=pk).select_related("procedure").first()
    if c is None:
        raise NotFound(_("Question not found"))
    _procedure(str(c.procedure_id), request)
    c = proc.clarification_answer(actor=_actor(request), clarification=c, answer=payload.answer)
    return {
        "id": c.pk,
        "question": c.question,
        "supplier": c.supplier.name,
        "asked_at": c.created_at,
        "answer": c.answer,
        "answered_at": c.answered_at,
    }


@procedures.post("/procedures/{ref}/amendments", response={201: s.TenderAmendmentOut, **ERRORS}, auth=AUTH)
def procedure_amend(request: HttpRequest, ref: str, payload: s.AmendIn) -> Status[Any]:
    """Amend the convocatoria, optionally extending the submission deadline."""
    a = proc.procedure_amend(
        actor=_actor(request),
        procedure=_procedure(ref, request),
        description=payload.description,
        submission_deadline=payload.submission_deadline,
    )
    return Status(
        201,
        {
            "id": a.pk,
            "description": a.description,
            "previous_deadline": a.previous_deadline,
            "new_deadline": a.new_deadline,
            "date": a.created_at,
        },
    )


@procedures.post("/procedures/{ref}/cancel", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def procedure_cancel(request: HttpRequest, ref: str, payload: s.CancelIn) -> dict[str, Any]:
    """Cancel a procedure with a written reason (before any contract)."""
    p = _procedure(ref, request)
    proc.procedure_cancel(actor=_actor(request), procedure=p, reason=payload.reason)
    return _detail(p, request)


# --- Bids ----------------------------------------------------------------------------------------

bids = Router(tags=["bids"])


@bids.get("/procedures/{ref}/bids", response={200: list[s.BidOut], **ERRORS})
def bid_list(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    """List bids: your own before the opening (no content); everyone's with prices after it."""
    actor = optional_actor(request)
    p = _procedure(ref, request)
    return [serialize.bid_out(b, actor=actor) for b in bids_for_actor(procedure=p, actor=actor)]


@bids.post("/procedures/{ref}/bids", response={201: s.BidOut, **ERRORS}, auth=AUTH)
def bid_submit(request: HttpRequest, ref: str, payload: s.BidIn) -> Status[Any]:
    """Submit (or replace) a sealed bid; the answer carries the platform-signed receipt."""
    bid = bidding.bid_submit(
        actor=_actor(request),
        procedure=_procedure(ref, request),
        lots=[bidding.BidLotInput(lot=x.lot, price=x.price) for x in payload.lots],
        documents=[bidding.BidDocumentInput(**d.dict()) for d in payload.documents],
        supplier_rfc=payload.supplier_rfc,
    )
    return Status(201, serialize.bid_out(bid, with_receipt=True))


@bids.post("/bids/{pk}/withdraw", response={200: s.BidOut, **ERRORS}, auth=AUTH)
def bid_withdraw(request: HttpRequest, pk: int) -> dict[str, Any]:
    """Withdraw your bid before the deadline."""
    bid = Bid.objects.filter(pk=pk).select_related("procedure", "supplier").first()
    if bid is None:
        raise NotFound(_("Bid not found"))
    return serialize.bid_out(bidding.bid_withdraw(actor=_actor(request), bid=bid), actor=_actor(request))


@bids.post("/procedures/{ref}/opening-key/share", response={200: s.ShareOut, **ERRORS}, auth=AUTH)
def share_claim(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Receive your sealed opening-key share, once; decrypt it with your custodian private key."""
    return bidding.share_claim(actor=_actor(request), procedure=_procedure(ref, request))


@bids.post("/procedures/{ref}/open", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def bids_open(request: HttpRequest, ref: str, payload: s.OpenIn) -> dict[str, Any]:
    """Open the bids after the deadline with k of the committee's shares."""
    p = _procedure(ref, request)
    bidding.bids_open(actor=_actor(request), procedure=p, shares=payload.shares)
    return _detail(p, request)


@bids.post("/procedures/{ref}/evaluation", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def bids_evaluate(request: HttpRequest, ref: str, payload: s.EvaluationIn) -> dict[str, Any]:
    """Record the evaluation of every opened bid and lot."""
    p = _procedure(ref, request)
    bidding.bids_evaluate(
        actor=_actor(request),
        procedure=p,
        evaluations=[bidding.EvaluationInput(**e.dict()) for e in payload.evaluations],
    )
    return _detail(p, request)


@bids.get("/platform/keys", response=s.PlatformKeysOut)
def platform_keys(request: HttpRequest) -> dict[str, str]:
    """Return the public key that verifies bid receipts offline."""
    return {"receipt_signing_key": crypto.public_key_b64(bidding.platform_signing_key()), "algorithm": "Ed25519"}


@bids.post("/receipts/verify", response=s.ReceiptVerifyOut)
def receipt_verify(request: HttpRequest, payload: s.ReceiptVerifyIn) -> dict[str, Any]:
    """Check a bid receipt's signature against the platform key."""
    key = crypto.public_key_b64(bidding.platform_signing_key())
    return {"valid": crypto.receipt_verify(receipt=payload.receipt, public_key_b64=key), "public_key": key}


# --- Awards and contracts --------------------------------------------------------------------

contracts = Router(tags=["awards and contracts"])


@contracts.post("/procedures/{ref}/fallo", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def award_decide(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Issue the fallo from the evaluation (each lot to its best compliant bid, or desierta)."""
    p = _procedure(ref, request)
    proc.award_decide(actor=_actor(request), procedure=p)
    return _detail(p, request)


@contracts.post("/procedures/{ref}/direct-award", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def award_direct(request: HttpRequest, ref: str, payload: s.DirectAwardIn) -> dict[str, Any]:
    """Record a direct award within its legal basis."""
    p = _procedure(ref, request)
    proc.award_direct(
        actor=_actor(request),
        procedure=p,
        supplier_rfc=payload.supplier_rfc,
        lots=[proc.DirectAwardLot(lot=x.lot, value=x.value) for x in payload.lots],
    )
    return _detail(p, request)


@contracts.post("/awards/{pk}/correct", response={200: s.ProcedureOut, **ERRORS}, auth=AUTH)
def award_correct(request: HttpRequest, pk: int, payload: s.AwardCorrectIn) -> dict[str, Any]:
    """Correct an arithmetic error in an award's amount before its contract is signed."""
    award = selectors.award_get_for_actor(pk=pk, actor=_actor(request))
    proc.award_correct(actor=_actor(request), award=award, value=payload.value, rationale=payload.rationale)
    return _detail(award.procedure, request)


@contracts.post("/awards/{pk}/contract", response={201: s.ContractOut, **ERRORS}, auth=AUTH)
def contract_sign(request: HttpRequest, pk: int, payload: s.ContractIn) -> Status[Any]:
    """Record the signed contract of an award."""
    award = selectors.award_get_for_actor(pk=pk, actor=_actor(request))
    c = proc.contract_sign(actor=_actor(request), award=award, **payload.dict())
    return Status(201, serialize.contract_out(c))


@contracts.get("/contracts/{ref}", response={200: s.ContractOut, **ERRORS})
def contract_get(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Return a contract with its amendments, payments and milestones."""
    return serialize.contract_out(selectors.contract_get_for_actor(ref=ref, actor=optional_actor(request)))


@contracts.post("/contracts/{ref}/amendments", response={201: s.ContractOut, **ERRORS}, auth=AUTH)
def contract_amend(request: HttpRequest, ref: str, payload: s.ContractAmendIn) -> Status[Any]:
    """Record a convenio modificatorio within the legal cap."""
    c = selectors.contract_get_for_actor(ref=ref, actor=_actor(request))
    proc.contract_amend(actor=_actor(request), contract=c, **payload.dict())
    c.refresh_from_db()
    return Status(201, serialize.contract_out(c))


@contracts.post("/contracts/{ref}/payments", response={201: s.ContractOut, **ERRORS}, auth=AUTH)
def payment_record(request: HttpRequest, ref: str, payload: s.PaymentIn) -> Status[Any]:
    """Record a payment under a contract."""
    c = selectors.contract_get_for_actor(ref=ref, actor=_actor(request))
    proc.payment_record(actor=_actor(request), contract=c, **payload.dict())
    return Status(201, serialize.contract_out(c))


@contracts.post("/contracts/{ref}/milestones", response={201: s.ContractOut, **ERRORS}, auth=AUTH)
def milestone_record(request: HttpRequest, ref: str, payload: s.MilestoneIn) -> Status[Any]:
    """Record a delivery or milestone."""
    c = selectors.contract_get_for_actor(ref=ref, actor=_actor(request))
    proc.milestone_record(actor=_actor(request), contract=c, **payload.dict())
    return Status(201, serialize.contract_out(c))


@contracts.post("/milestones/{pk}/met", response={200: s.ContractOut, **ERRORS}, auth=AUTH)
def milestone_met(request: HttpRequest, pk: int, payload: s.MilestoneMetIn) -> dict[str, Any]:
    """Record whether a scheduled milestone was met."""
    milestone = Milestone.objects.filter(pk=pk).select_related("contract").first()
    if milestone is None:
        raise NotFound(_("Milestone not found"))
    contract = selectors.contract_get_for_actor(ref=str(milestone.contract_id), actor=_actor(request))
    proc.milestone_mark_met(actor=_actor(request), milestone=milestone, met=payload.met)
    return serialize.contract_out(contract)


@contracts.post("/contracts/{ref}/complete", response={200: s.ContractOut, **ERRORS}, auth=AUTH)
def contract_complete(request: HttpRequest, ref: str) -> dict[str, Any]:
    """Mark a contract completed."""
    c = selectors.contract_get_for_actor(ref=ref, actor=_actor(request))
    c = proc.contract_complete(actor=_actor(request), contract=c)
    return serialize.contract_out(c)


api.add_router("/", accounts)
api.add_router("/", procedures)
api.add_router("/", bids)
api.add_router("/", contracts)
api.add_router("/", ocds_router)
api.add_router("/", ledger_router)
api.add_router("/", continuity_router)
