"""Build an OCDS 1.1.5 release from a procedure's current state (reads only).

Each release is a full snapshot of what is public at that moment, tagged with the act that caused
it. Bid prices appear only once the bids are opened. Every status maps to an OCDS codelist here,
in one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings

from licita.bidding.models import Bid, BidStatus
from licita.continuity.ocds import contingency_fields  # continuity (issue 7)
from licita.procurement.models import (
    AwardStatus,
    ContractStatus,
    LegalBasis,
    LotStatus,
    Procedure,
    ProcedureType,
    Status,
)

TENDER_STATUS = {
    Status.DRAFT: "planned",
    Status.PUBLISHED: "active",
    Status.CLOSED: "active",
    Status.OPENED: "active",
    Status.EVALUATED: "active",
    Status.AWARDED: "complete",
    Status.CONTRACTED: "complete",
    Status.COMPLETED: "complete",
    Status.DESERTED: "unsuccessful",
    Status.CANCELLED: "cancelled",
}
CATEGORY = {
    "adquisiciones": "goods",
    "arrendamientos": "goods",
    "servicios": "services",
    "obra_publica": "works",
    "servicios_obra": "services",
}
SUBMISSION = {
    "electronica": ["electronicSubmission"],
    "mixta": ["electronicSubmission", "written"],
    "presencial": ["written"],
}
METHOD_DETAILS = {
    ProcedureType.PUBLIC_TENDER: "Licitación pública",
    ProcedureType.INVITATION: "Invitación a cuando menos tres personas",
    ProcedureType.DIRECT_AWARD: "Adjudicación directa",
}
LOT_STATUS = {
    LotStatus.ACTIVE: "active",
    LotStatus.AWARDED: "complete",
    LotStatus.UNSUCCESSFUL: "unsuccessful",
    LotStatus.CANCELLED: "cancelled",
}
CONTRACT_STATUS = {ContractStatus.ACTIVE: "active", ContractStatus.COMPLETED: "terminated"}


def ocid_for(procedure: Procedure) -> str:
    """Return the procedure's ocid: the configured prefix and the expediente code."""
    return f"{settings.LICITA_OCID_PREFIX}-{procedure.expediente}"


def iso_datetime(value: dt.datetime | dt.date | None) -> str | None:
    """Return a date as OCDS writes it: ISO 8601 in UTC with a `Z` (a date alone is its midnight)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": float(amount), "currency": currency}


def _party_supplier(supplier: Any) -> dict[str, Any]:
    return {"id": f"MX-RFC-{supplier.rfc}", "name": supplier.name}


def _method(procedure: Procedure) -> str:
    if procedure.procedure_type == ProcedureType.PUBLIC_TENDER:
        return "open"
    if procedure.procedure_type == ProcedureType.INVITATION:
        return "selective"
    return "limited" if procedure.legal_basis == LegalBasis.EXCEPTION else "direct"


def _clean(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects, recursively."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in (None, "", [], {})]
    return value


def build_release(
    procedure: Procedure, *, release_id: str, tags: list[str], date: dt.datetime, published: dt.datetime
) -> dict[str, Any]:
    """Return the release for `procedure` as it stands now, tagged `tags`, for an act dated `date`."""
    unit = procedure.unit
    institution = unit.institution
    currency = procedure.currency
    buyer_id = f"MX-INSTITUCION-{institution.siglas}"
    uc_id = f"MX-CLAVEUC-{unit.key}"
    parties: dict[str, dict[str, Any]] = {
        buyer_id: {
            "id": buyer_id,
            "name": institution.name,
            "additionalIdentifiers": [
                {"scheme": "MX-RAMO", "id": institution.ramo},
                {"scheme": "MX-SIGLAS", "id": institution.siglas},
            ],
            "roles": ["buyer"],
        },
        uc_id: {
            "id": uc_id,
            "name": f"{institution.siglas}-{unit.name} #{unit.key}",
            "identifier": {"scheme": "MX-CLAVEUC", "id": unit.key, "legalName": unit.name},
            "roles": ["procuringEntity"],
            "contactPoint": {"name": unit.responsible},
        },
    }

    def supplier_party(supplier: Any, role: str) -> dict[str, str]:
        ref = _party_supplier(supplier)
        party = parties.setdefault(
            ref["id"],
            {
                "id": ref["id"],
                "name": supplier.name,
                "identifier": {"scheme": "MX-RFC", "id": supplier.rfc, "legalName": supplier.name},
                "roles": [],
            },
        )
        if role not in party["roles"]:
            party["roles"].append(role)
        return ref

    lots = list(procedure.lots.prefetch_related("items").order_by("number"))
    items = [
        {
            "id": f"{lot.number}-{i}",
            "description": item.description,
            "classification": {"scheme": "CUCOP", "id": item.cucop},
            "quantity": float(item.quantity),
            "unit": {"name": item.unit},
            "relatedLot": str(lot.number),
        }
        for lot in lots
        for i, item in enumerate(lot.items.all(), start=1)
    ]
    tender: dict[str, Any] = {
        "id": procedure.number,
        "title": procedure.title,
        "description": procedure.description,
        "status": TENDER_STATUS[Status(procedure.status)],
        "procuringEntity": {"id": uc_id, "name": parties[uc_id]["name"]},
        "items": items,
        "lots": [
            {
                "id": str(lot.number),
                "title": lot.title,
                "value": _money(lot.estimated_value, currency),
                "status": LOT_STATUS[LotStatus(lot.status)],
            }
            for lot in lots
        ],
        "value": _money(procedure.estimated_value, currency),
        "procurementMethod": _method(procedure),
        "procurementMethodDetails": METHOD_DETAILS[ProcedureType(procedure.procedure_type)],
        "procurementMethodRationale": procedure.justification,
        "mainProcurementCategory": CATEGORY[procedure.contract_type],
        "awardCriteria": "ratedCriteria" if procedure.evaluation_method == "puntos" else "priceOnly",
        "submissionMethod": SUBMISSION[procedure.form],
        "mexico": {
            "law": procedure.law,
            "regime": procedure.regime,
            "procedureType": procedure.procedure_type,
            "character": procedure.character,
            "form": procedure.form,
            "contractType": procedure.contract_type,
            "legalBasis": procedure.legal_basis,
            "exceptionFraction": procedure.exception_fraction,
            "justification": procedure.justification,
            "reducedPeriodJustification": procedure.reduced_period_justification,
            "evaluationMethod": procedure.evaluation_method,
            "expediente": procedure.expediente,
            "provenance": procedure.provenance,
        },
    }
    if procedure.submission_deadline is not None:
        tender["tenderPeriod"] = {
            "startDate": iso_datetime(procedure.published_at),
            "endDate": iso_datetime(procedure.submission_deadline),
        }
        tender["enquiryPeriod"] = {
            "startDate": iso_datetime(procedure.published_at),
            "endDate": iso_datetime(procedure.clarification_deadline),
        }
    if procedure.award_deadline is not None:
        tender["awardPeriod"] = {
            "startDate": iso_datetime(procedure.submission_deadline),
            "endDate": iso_datetime(procedure.award_deadline),
        }
    if procedure.signature_deadline is not None:
        tender["mexico"]["signatureDeadline"] = iso_datetime(procedure.signature_deadline)
    if procedure.procedure_type == ProcedureType.INVITATION:
        for invitation in procedure.invitations.select_related("supplier"):
            supplier_party(invitation.supplier, "tenderer" if procedure.opened_at else "notifiedSupplier")
    clarifications = list(procedure.clarifications.filter(answered_at__isnull=False).order_by("created_at"))
    tender["hasEnquiries"] = bool(clarifications) or None
    tender["enquiries"] = [
        {
            "id": str(c.pk),
            "date": iso_datetime(c.created_at),
            "description": c.question,
            "answer": c.answer,
            "dateAnswered": iso_datetime(c.answered_at),
        }
        for c in clarifications
    ]
    tender["amendments"] = [
        {
            "id": f"TA-{a.pk}",
            "date": iso_datetime(a.created_at),
            "description": a.description,
            "rationale": a.description,
        }
        for a in procedure.amendments.order_by("created_at")
    ]
    tender["documents"] = [
        {
            "id": d.sha256[:16] + f"-{d.pk}",
            "documentType": d.kind,
            "title": d.title,
            "url": f"{settings.LICITA_PUBLIC_URL}/api/documents/{d.sha256}",
            "datePublished": iso_datetime(d.created_at),
            "format": d.content_type,
        }
        for d in procedure.documents.filter(contract__isnull=True)
    ]
    release: dict[str, Any] = {
        "ocid": ocid_for(procedure),
        "id": release_id,
        "date": iso_datetime(date),
        "publishedDate": iso_datetime(published),
        "tag": tags,
        "initiationType": "tender",
        "language": "es",
        "buyer": {"id": buyer_id, "name": institution.name},
        "planning": {
            "budget": {
                "amount": _money(procedure.estimated_value, currency),
                "description": f"Ejercicio fiscal {procedure.fiscal_year}",
            }
        },
        "tender": tender,
        # --- continuity (issue 7): the outage of a back-captured procedure, and its lateness ---
        "contingency": contingency_fields(procedure),
    }

    if procedure.opened_at is not None:
        details = []
        tenderers = []
        for bid in (
            Bid.objects.filter(procedure=procedure, status=BidStatus.OPENED)
            .select_related("supplier")
            .prefetch_related("lots__lot")
        ):
            ref = supplier_party(bid.supplier, "tenderer")
            tenderers.append(ref)
            for bl in bid.lots.all():
                status = "pending" if bl.compliant is None else ("valid" if bl.compliant else "disqualified")
                details.append(
                    {
                        "id": f"{bid.pk}-{bl.lot.number}",
                        "date": iso_datetime(bid.committed_at),
                        "status": status,
                        "tenderers": [ref],
                        "value": _money(bl.price, currency),
                        "relatedLots": [str(bl.lot.number)],
                    }
                )
        tender["tenderers"] = tenderers
        tender["numberOfTenderers"] = len(tenderers)
        release["bids"] = {"details": details}

    awards = []
    contracts = []
    for award in procedure.awards.select_related("lot", "supplier").order_by("lot__number"):
        ref = supplier_party(award.supplier, "supplier")
        awards.append(
            {
                "id": f"{procedure.number}-A{award.lot.number}",
                "title": award.lot.title,
                "status": "cancelled" if award.status == AwardStatus.CANCELLED else "active",
                "date": iso_datetime(award.date),
                "value": _money(award.value, award.currency),
                "suppliers": [ref],
                "relatedLots": [str(award.lot.number)],
                "description": award.rationale,
            }
        )
    for lot in lots:
        if lot.status == LotStatus.UNSUCCESSFUL:
            awards.append(
                {
                    "id": f"{procedure.number}-A{lot.number}",
                    "title": lot.title,
                    "status": "unsuccessful",
                    "date": iso_datetime(procedure.awarded_at),
                    "relatedLots": [str(lot.number)],
                }
            )
    for contract in (
        procedure.contracts.select_related("award__lot", "supplier")
        .prefetch_related("amendments", "payments", "milestones")
        .order_by("code")
    ):
        payee = _party_supplier(contract.supplier)
        contracts.append(
            {
                "id": contract.code,
                "awardID": f"{procedure.number}-A{contract.award.lot.number}",
                "title": contract.title,
                "status": CONTRACT_STATUS[ContractStatus(contract.status)],
                "period": {"startDate": iso_datetime(contract.start_date), "endDate": iso_datetime(contract.end_date)},
                "value": _money(contract.current_value(), contract.currency),
                "dateSigned": iso_datetime(contract.date_signed),
                "amendments": [
                    {
                        "id": f"CM-{a.number}",
                        "date": iso_datetime(a.date),
                        "description": a.description,
                        "rationale": a.rationale,
                    }
                    for a in contract.amendments.all()
                ],
                "milestones": [
                    {
                        "id": str(m.pk),
                        "title": m.title,
                        "dueDate": iso_datetime(m.due_date),
                        "status": m.status,
                        "dateMet": iso_datetime(m.date_met),
                    }
                    for m in contract.milestones.all()
                ],
                "implementation": {
                    "transactions": [
                        {
                            "id": str(p.pk),
                            "date": iso_datetime(p.date),
                            "value": _money(p.amount, contract.currency),
                            "payer": {"id": buyer_id, "name": institution.name},
                            "payee": payee,
                            "uri": None,
                        }
                        for p in contract.payments.all()
                    ]
                },
            }
        )
        if contract.payments.exists():
            parties[buyer_id]["roles"] = sorted({*parties[buyer_id]["roles"], "payer"})
            party = parties[payee["id"]]
            if "payee" not in party["roles"]:
                party["roles"].append("payee")
    release["awards"] = awards
    release["contracts"] = contracts
    release["parties"] = list(parties.values())
    return _clean(release)
