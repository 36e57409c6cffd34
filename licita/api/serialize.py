"""Turn models into API dicts (reads only; nothing here decides anything)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from licita.bidding.models import Bid, BidStatus
from licita.procurement.models import Contract, Procedure

if TYPE_CHECKING:
    from licita.accounts.models import User


def procedure_summary(p: Procedure) -> dict[str, Any]:
    """Return the list view of a procedure."""
    return {
        "id": p.pk,
        "number": p.number,
        "expediente": p.expediente,
        "title": p.title,
        "status": p.status,
        "procedure_type": p.procedure_type,
        "law": p.law,
        "unit_key": p.unit.key,
        "institution": p.unit.institution.siglas,
        "estimated_value": p.estimated_value,
        "currency": p.currency,
        "published_at": p.published_at,
        "submission_deadline": p.submission_deadline,
    }


def procedure_detail(p: Procedure, *, bids_in_force: int | None) -> dict[str, Any]:
    """Return the full public view of a procedure."""
    key = getattr(p, "opening_key", None)
    return {
        **procedure_summary(p),
        **{
            f: getattr(p, f)
            for f in (
                "description",
                "regime",
                "character",
                "form",
                "contract_type",
                "legal_basis",
                "exception_fraction",
                "justification",
                "evaluation_method",
                "clarification_deadline",
                "award_deadline",
                "signature_deadline",
                "reduced_period_justification",
                "opened_at",
                "cancellation_reason",
                "provenance",
            )
        },
        "lots": [
            {
                "number": lot.number,
                "title": lot.title,
                "estimated_value": lot.estimated_value,
                "status": lot.status,
                "items": [
                    {"cucop": i.cucop, "description": i.description, "quantity": i.quantity, "unit": i.unit}
                    for i in lot.items.all()
                ],
            }
            for lot in p.lots.prefetch_related("items")
        ],
        "invited_suppliers": [i.supplier.rfc for i in p.invitations.select_related("supplier")],
        "documents": [
            {
                "kind": d.kind,
                "title": d.title,
                "filename": d.filename,
                "sha256": d.sha256,
                "size": d.size,
                "url": reverse("api:document_download", kwargs={"sha256": d.sha256}),
            }
            for d in p.documents.all()
        ],
        "awards": [
            {
                "id": a.pk,
                "lot": a.lot.number,
                "supplier_rfc": a.supplier.rfc,
                "supplier_name": a.supplier.name,
                "value": a.value,
                "currency": a.currency,
                "status": a.status,
                "date": a.date,
                "contract": getattr(getattr(a, "contract", None), "code", None),
            }
            for a in p.awards.select_related("lot", "supplier", "contract")
        ],
        "bids_in_force": bids_in_force,
        "opening_threshold": key.threshold if key else None,
        "opening_committee_size": key.share_count if key else None,
    }


def bid_out(bid: Bid, *, with_receipt: bool = False, actor: User | None = None) -> dict[str, Any]:
    """Return a bid's public envelope; prices only once it is opened."""
    opened = bid.status == BidStatus.OPENED
    own = actor is not None and bid.submitted_by_id == actor.pk
    return {
        "id": bid.pk,
        "procedure": bid.procedure.number,
        "supplier_rfc": bid.supplier.rfc,
        "supplier_name": bid.supplier.name,
        "version": bid.version,
        "status": bid.status,
        "committed_at": bid.committed_at,
        "sealed_sha256": bid.sealed_sha256,
        "receipt": bid.receipt if (with_receipt or own) and bid.receipt else None,
        "lots": [
            {
                "lot": bl.lot.number,
                "price": bl.price,
                "compliant": bl.compliant,
                "disqualification_reason": bl.disqualification_reason,
                "technical_points": bl.technical_points,
                "economic_points": bl.economic_points,
            }
            for bl in bid.lots.all()
        ]
        if opened
        else None,
    }


def contract_out(c: Contract) -> dict[str, Any]:
    """Return the public view of a contract."""
    return {
        "id": c.pk,
        "code": c.code,
        "procedure": c.procedure.number,
        "title": c.title,
        "supplier_rfc": c.supplier.rfc,
        "supplier_name": c.supplier.name,
        "value": c.value,
        "current_value": c.current_value(),
        "currency": c.currency,
        "date_signed": c.date_signed,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "status": c.status,
        "amendments": list(
            c.amendments.values("number", "description", "rationale", "value_change", "new_end_date", "date")
        ),
        "payments": list(c.payments.values("amount", "date", "description")),
        "milestones": list(c.milestones.values("id", "title", "due_date", "status")),
    }
