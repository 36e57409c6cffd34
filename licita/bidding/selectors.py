"""Reads of bids, answering only what the actor may see (nothing of a bid's content before the opening)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from licita.bidding.models import Bid, BidLot, BidStatus
from licita.core.permissions import is_auditor_of, is_buyer_of, memberships
from licita.procurement.models import EvaluationMethod, Lot, Procedure, Status

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from licita.accounts.models import User


def lot_ranking(*, lot: Lot, method: str) -> list[BidLot]:
    """Return the compliant opened bids for a lot, best first (lowest price, or most points)."""
    rows = list(
        BidLot.objects.filter(lot=lot, compliant=True, bid__status=BidStatus.OPENED).select_related("bid__supplier")
    )
    if method == EvaluationMethod.POINTS:
        rows = [r for r in rows if r.total_points() is not None]
        rows.sort(key=lambda r: (-(r.total_points() or 0), r.price, r.bid.committed_at))
    else:
        rows.sort(key=lambda r: (r.price, r.bid.committed_at))
    return rows


def bids_for_actor(*, procedure: Procedure, actor: User | None) -> QuerySet[Bid]:
    """Return the bids the actor may list: own bids always; everyone's once opened."""
    qs = Bid.objects.filter(procedure=procedure).select_related("supplier").order_by("committed_at")
    if procedure.status not in (Status.DRAFT, Status.PUBLISHED, Status.CLOSED) and procedure.opened_at is not None:
        return qs.filter(status=BidStatus.OPENED).prefetch_related("lots__lot", "documents")
    own = [m.supplier_id for m in memberships(actor, ["supplier_rep"]) if m.supplier_id is not None]
    return qs.filter(supplier_id__in=own)


def bid_count_before_opening(*, procedure: Procedure, actor: User | None) -> int | None:
    """Return how many bids are in force, for the unit's buyers and auditors; None for others."""
    if is_buyer_of(actor, procedure.unit) or is_auditor_of(actor, procedure.unit):
        return Bid.objects.filter(procedure=procedure, status=BidStatus.SUBMITTED).count()
    return None
