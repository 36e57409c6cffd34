"""Reads of the buyer workspace, scoped to the purchasing units the actor buys for (others look missing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from licita.accounts.models import BUYER_ROLES, Membership, PurchasingUnit, Role, User
from licita.bidding.models import BidLot, BidStatus, ShareEnvelope
from licita.core import clock
from licita.core.errors import NotFound
from licita.core.permissions import is_buyer_of, memberships
from licita.procurement import selectors
from licita.procurement.models import (
    Award,
    AwardStatus,
    Clarification,
    Contract,
    Lot,
    Procedure,
    Status,
)

if TYPE_CHECKING:
    import datetime as dt

#: The groups of the workspace's home page, in the order of a procedure's life.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("draft", (Status.DRAFT,)),
    ("open", (Status.PUBLISHED, Status.CLOSED)),
    ("evaluation", (Status.OPENED, Status.EVALUATED)),
    ("awarded", (Status.AWARDED,)),
    ("contracted", (Status.CONTRACTED, Status.COMPLETED)),
    ("ended", (Status.CANCELLED, Status.DESERTED)),
)
HOME_LIMIT = 50


def buyer_units(*, actor: User | None) -> list[PurchasingUnit]:
    """Return the units the actor buys for."""
    seen: dict[int, PurchasingUnit] = {}
    for m in memberships(actor, BUYER_ROLES):
        if m.unit is not None:
            seen.setdefault(m.unit.pk, m.unit)
    return sorted(seen.values(), key=lambda u: u.key)


def is_unit_admin(*, actor: User | None, unit: PurchasingUnit) -> bool:
    """Return whether the actor administers the unit (approves publication)."""
    return is_buyer_of(actor, unit, roles=[Role.BUYER_ADMIN])


def buyer_procedure_get(*, ref: str, actor: User | None) -> Procedure:
    """Return a procedure of one of the actor's units, or raise NotFound (missing and forbidden alike)."""
    procedure = selectors.procedure_get_for_actor(ref=ref, actor=actor)
    if not is_buyer_of(actor, procedure.unit):
        raise NotFound(_("Procedure not found"))
    return procedure


def opening_procedure_get(*, ref: str, actor: User | None) -> tuple[Procedure, bool]:
    """Return a procedure whose opening the actor attends and whether the actor buys for its unit.

    Buyers of the unit run the opening; any custodian on its committee (an auditor too) may load the page to receive
    their sealed share. Anyone else gets NotFound, as for a missing procedure.
    """
    procedure = selectors.procedure_get_for_actor(ref=ref, actor=actor)
    if is_buyer_of(actor, procedure.unit):
        return procedure, True
    if actor is not None and ShareEnvelope.objects.filter(opening_key__procedure=procedure, custodian=actor).exists():
        return procedure, False
    raise NotFound(_("Procedure not found"))


@dataclass
class Home:
    unit: PurchasingUnit
    counts: dict[str, int]
    procedures: Sequence[Procedure]
    unanswered: Sequence[Procedure]
    openings_due: list[Procedure]
    to_sign: list[Award]
    group: str
    groups: list[tuple[str, int]] = field(default_factory=list)


def buyer_home(*, unit: PurchasingUnit, group: str, at: dt.datetime) -> Home:
    """Return the unit's procedures of one group, the counts per group and what needs attention."""
    by_status = dict(
        Procedure.objects.filter(unit=unit).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    counts = {name: sum(by_status.get(s, 0) for s in statuses) for name, statuses in GROUPS}
    statuses = dict(GROUPS).get(group, dict(GROUPS)["open"])
    procedures = list(
        Procedure.objects.filter(unit=unit, status__in=statuses)
        .annotate(unanswered=Count("clarifications", filter=Q(clarifications__answered_at__isnull=True)))
        .order_by("-updated_at", "-id")[:HOME_LIMIT]
    )
    unanswered = list(
        Procedure.objects.filter(unit=unit, status=Status.PUBLISHED, submission_deadline__gt=at)
        .annotate(unanswered=Count("clarifications", filter=Q(clarifications__answered_at__isnull=True)))
        .filter(unanswered__gt=0)
        .order_by("submission_deadline")[:HOME_LIMIT]
    )
    openings_due = list(
        Procedure.objects.filter(
            Q(status=Status.CLOSED) | Q(status=Status.PUBLISHED, submission_deadline__lte=at), unit=unit
        ).order_by("submission_deadline")[:HOME_LIMIT]
    )
    to_sign = list(
        Award.objects.filter(procedure__unit=unit, status=AwardStatus.ACTIVE, contract__isnull=True)
        .select_related("procedure", "lot", "supplier")
        .order_by("date")[:HOME_LIMIT]
    )
    return Home(
        unit=unit,
        counts=counts,
        procedures=procedures,
        unanswered=unanswered,
        openings_due=openings_due,
        to_sign=to_sign,
        group=group if group in counts else "open",
        groups=[(name, counts[name]) for name, _s in GROUPS],
    )


def committee_candidates(*, procedure: Procedure) -> list[User]:
    """Return who may hold a share of the opening key: the unit's buyers and its auditors, with a custodian key."""
    unit = procedure.unit
    members = Membership.objects.filter(is_active=True).filter(
        Q(role__in=BUYER_ROLES, unit=unit)
        | Q(role=Role.AUDITOR, institution__isnull=True)
        | Q(role=Role.AUDITOR, institution_id=unit.institution_id)
    )
    return list(
        User.objects.filter(is_active=True, custodian_key__isnull=False, memberships__in=members)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def committee(*, procedure: Procedure) -> list[ShareEnvelope]:
    """Return the opening committee: one envelope per custodian (the share itself is never read here)."""
    return list(
        ShareEnvelope.objects.filter(opening_key__procedure=procedure)
        .select_related("custodian", "opening_key")
        .defer("sealed_share")
        .order_by("custodian__last_name", "custodian__username")
    )


def opened_bid_lots(*, procedure: Procedure) -> list[BidLot]:
    """Return the opened bids' prices per lot (empty before the opening)."""
    if procedure.opened_at is None:
        return []
    return list(
        BidLot.objects.filter(bid__procedure=procedure, bid__status=BidStatus.OPENED)
        .select_related("bid__supplier", "lot")
        .order_by("lot__number", "price", "bid__committed_at")
    )


def workspace(*, procedure: Procedure) -> dict[str, Any]:
    """Return everything the management page shows, in a fixed number of queries."""
    return {
        "lots": list(Lot.objects.filter(procedure=procedure).prefetch_related("items").order_by("number")),
        "documents": list(procedure.documents.order_by("created_at")),
        "invitations": list(procedure.invitations.select_related("supplier").order_by("supplier__rfc")),
        "clarifications": list(
            Clarification.objects.filter(procedure=procedure).select_related("supplier").order_by("created_at")
        ),
        "amendments": list(procedure.amendments.order_by("created_at")),
        "awards": list(
            Award.objects.filter(procedure=procedure)
            .select_related("lot", "supplier", "contract")
            .order_by("lot__number")
        ),
        "contracts": list(
            Contract.objects.filter(procedure=procedure)
            .select_related("supplier")
            .prefetch_related("amendments", "payments", "milestones")
            .order_by("code")
        ),
        "bid_lots": opened_bid_lots(procedure=procedure),
    }


def bids_in_force(*, procedure: Procedure) -> int:
    """Return how many sealed bids are in force (the count, never their content)."""
    return procedure.bids.filter(status=BidStatus.SUBMITTED).count()


def effective_status(procedure: Procedure) -> str:
    """Return the status with the deadline applied (submission closes at the deadline)."""
    return procedure.effective_status(clock.now())
