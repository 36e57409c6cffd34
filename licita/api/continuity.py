"""Continuity endpoints: outages, contingency procedures, their back-capture and escalated items.

A unit registers its contingency procedures from a form or a signed file, then back-captures their acts.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from pydantic import StrictInt

from licita.accounts.models import PurchasingUnit
from licita.api.auth import AUTH
from licita.api.schemas import ErrorOut
from licita.continuity import backcapture, selectors, services
from licita.continuity.forms import CONTINGENCY_FILE_MAX_BYTES
from licita.continuity.models import ContingencyProcedure, Outage
from licita.continuity.selectors import overdue_contingency, unit_contingency
from licita.core import clock
from licita.core.errors import NotFound, PermissionDenied, ValidationError
from licita.core.permissions import is_auditor_of, is_buyer_of, is_platform_admin
from licita.portal.selectors_supplier import auditor_scope

router = Router(tags=["continuity"])

ERRORS: dict[int, type[Schema]] = dict.fromkeys((400, 401, 403, 404, 409, 422, 503), ErrorOut)


class OutageOut(Schema):
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    affected: str
    cause: str
    origin: str
    upload_deadline: dt.datetime | None
    extended_count: int
    url: str

    @staticmethod
    def resolve_url(obj: Outage) -> str:
        """Return the outage's public accountability page."""
        return obj.get_absolute_url()


class ContingencyIn(Schema):
    outage: StrictInt = Field(description="The outage's id (a JSON integer).")
    unit: str
    ref: str
    title: str
    procedure_type: str
    contract_type: str
    legal_basis: str
    supplier_rfc: str
    amount: Decimal
    carried_out_at: dt.datetime
    currency: str = "MXN"


class ContingencyOut(Schema):
    id: int
    outage: int
    institution: str
    unit: str
    ref: str
    title: str
    procedure_type: str
    contract_type: str
    legal_basis: str
    supplier_rfc: str
    amount: Decimal
    currency: str
    carried_out_at: dt.datetime
    source: str
    registered_at: dt.datetime
    status: str
    upload_deadline: dt.datetime | None
    days_late: int
    escalated_at: dt.datetime | None
    procedure_number: str | None
    accountability_url: str

    @staticmethod
    def resolve_outage(obj: ContingencyProcedure) -> int:
        """Return the outage's id."""
        return obj.outage_id

    @staticmethod
    def resolve_institution(obj: ContingencyProcedure) -> str:
        """Return the unit's institution (siglas)."""
        return obj.unit.institution.siglas

    @staticmethod
    def resolve_unit(obj: ContingencyProcedure) -> str:
        """Return the unit's key."""
        return obj.unit.key

    @staticmethod
    def resolve_status(obj: ContingencyProcedure) -> str:
        """Return how much has been back-captured: missing, partial or complete."""
        return str(obj.upload_status)

    @staticmethod
    def resolve_upload_deadline(obj: ContingencyProcedure) -> dt.datetime | None:
        """Return the outage's back-capture deadline."""
        return obj.outage.upload_deadline

    @staticmethod
    def resolve_days_late(obj: ContingencyProcedure) -> int:
        """Return whole days past the deadline, at completion or now."""
        return selectors.days_late(obj.outage.upload_deadline, obj.completed_at, clock.now())

    @staticmethod
    def resolve_procedure_number(obj: ContingencyProcedure) -> str | None:
        """Return the back-captured procedure's number, once there is one."""
        return obj.procedure.number if obj.procedure is not None else None

    @staticmethod
    def resolve_accountability_url(obj: ContingencyProcedure) -> str:
        """Return the outage's public accountability page."""
        return obj.outage.get_absolute_url()


class ImportOut(Schema):
    imported: int
    file_sha256: str
    procedures: list[ContingencyOut]


class OverdueCheckOut(Schema):
    escalated: int


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _readable_unit(actor: Any, key: str) -> PurchasingUnit:
    """Return a unit whose contingency procedures the actor may read (its buyers, its auditors); else not found."""
    unit = PurchasingUnit.objects.select_related("institution").filter(key=(key or "").strip().upper()).first()
    if unit is None or not (is_buyer_of(actor, unit) or is_auditor_of(actor, unit) or is_platform_admin(actor)):
        raise NotFound(_("Purchasing unit not found"), field="unit")
    return unit


def _too_large() -> ValidationError:
    return ValidationError(
        _("The file is larger than %(max)d bytes") % {"max": CONTINGENCY_FILE_MAX_BYTES}, field="file", rule="max_size"
    )


def _require_auditor(actor: Any) -> Any:
    try:
        return auditor_scope(actor=actor)
    except NotFound:
        raise PermissionDenied(_("Only an auditor may do this"), rule="auditor") from None


@router.get("/outages", response=list[OutageOut])
@paginate(PageNumberPagination, page_size=50)
def outage_list(request: HttpRequest) -> Any:
    """List every outage, newest first, with its back-capture deadline (all are public)."""
    return selectors.outage_list()


class OutageIn(Schema):
    start: dt.datetime
    end: dt.datetime | None = Field(None, description="Leave out while the outage lasts; close it later.")
    affected: str = Field(description="What was affected (3 to 500 characters).")
    cause: str = Field(description="The cause, as far as it is known (3 to 5,000 characters).")


class OutageCloseIn(Schema):
    end: dt.datetime


@router.post("/outages", response={201: OutageOut, **ERRORS}, auth=AUTH)
def outage_declare(request: HttpRequest, payload: OutageIn) -> Status[Any]:
    """Declare an outage the platform could not see (auditors): a signed public record, in the ledger."""
    outage = services.outage_declare(
        actor=_actor(request), start=payload.start, end=payload.end, affected=payload.affected, cause=payload.cause
    )
    return Status(201, outage)


@router.post("/outages/{outage_id}/close", response={200: OutageOut, **ERRORS}, auth=AUTH)
def outage_close(request: HttpRequest, outage_id: int, payload: OutageCloseIn) -> Any:
    """Close an open outage (auditors): the periods it overlapped are extended and the extension published."""
    return services.outage_close(actor=_actor(request), outage=selectors.outage_get(pk=outage_id), end=payload.end)


@router.post("/contingency/procedures", response={201: ContingencyOut, **ERRORS}, auth=AUTH)
def contingency_register(request: HttpRequest, payload: ContingencyIn) -> Status[Any]:
    """Register one procedure the unit carried out in person during an outage (its buyers)."""
    data = payload.dict()
    outage = selectors.outage_get(pk=data.pop("outage"))
    unit = data.pop("unit")
    item = services.contingency_register(
        actor=_actor(request), outage=outage, unit_key=unit, procedure=services.ContingencyInput(**data)
    )
    return Status(201, item)


@router.post(
    "/contingency/files",
    response={201: ImportOut, **ERRORS},
    auth=AUTH,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The signed file exported by `licita contingency export`, as it is (format "
            f"{services.FILE_FORMAT}).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def contingency_upload(request: HttpRequest) -> Status[Any]:
    """Import a signed contingency file (the raw JSON body): every procedure in it is registered, or none."""
    declared = str(request.META.get("CONTENT_LENGTH") or "0")
    if declared.isdigit() and int(declared) > CONTINGENCY_FILE_MAX_BYTES:
        raise _too_large()  # refused before the body is read
    raw = request.body
    if len(raw) > CONTINGENCY_FILE_MAX_BYTES:
        raise _too_large()
    items = services.contingency_import(actor=_actor(request), raw=raw)
    return Status(
        201, {"imported": len(items), "file_sha256": items[0].file_sha256 if items else "", "procedures": items}
    )


class BackcaptureOut(Schema):
    steps: list[str] = Field(description="What each step recorded, in order.")
    procedure: ContingencyOut


@router.post(
    "/contingency/backcapture",
    response={201: BackcaptureOut, **ERRORS},
    auth=AUTH,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The acts of one registered contingency procedure, run in order, all or none: "
            '`{"outage": N, "unit": KEY, "ref": REF, "steps": [{"act": "convocatoria" | "bids" | "fallo" | '
            '"award" | "contract" | "document", "date": ISO 8601, ...}]}`; a document step carries its PDF '
            "as `content_b64` (see `licita contingency backcapture --help`).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def contingency_backcapture(request: HttpRequest) -> Status[Any]:
    """Back-capture the acts of a registered contingency procedure, each dated when it happened."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_("The body is not valid JSON"), field="body", rule="json") from None
    item, done = backcapture.contingency_backcapture_file(actor=_actor(request), data=data)
    item = ContingencyProcedure.objects.select_related("outage", "unit__institution", "procedure").get(pk=item.pk)
    return Status(201, {"steps": done, "procedure": item})


@router.get("/contingency/procedures", response={200: list[ContingencyOut], **ERRORS}, auth=AUTH)
@paginate(PageNumberPagination, page_size=50)
def contingency_list(request: HttpRequest, unit: str, outage: int | None = None) -> Any:
    """List a unit's contingency procedures (its buyers and auditors), with upload status and days late."""
    return unit_contingency(unit=_readable_unit(_actor(request), unit), outage=outage)


@router.get("/contingency/escalated", response={200: list[ContingencyOut], **ERRORS}, auth=AUTH)
@paginate(PageNumberPagination, page_size=50)
def contingency_escalated(request: HttpRequest) -> Any:
    """List the auditor's items past their back-capture deadline and not complete, or escalated."""
    return overdue_contingency(scope=_require_auditor(_actor(request)), now=clock.now())


@router.post("/contingency/overdue-check", response={200: OverdueCheckOut, **ERRORS}, auth=AUTH)
def contingency_overdue_check(request: HttpRequest) -> dict[str, int]:
    """Escalate now every contingency procedure not fully uploaded by its deadline (auditors)."""
    _require_auditor(_actor(request))
    return {"escalated": services.contingency_overdue_check(actor=_actor(request))}
