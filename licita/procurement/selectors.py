"""Reads of procedures, answering "not found" alike for missing and hidden objects."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from licita.core.errors import NotFound
from licita.core.permissions import memberships
from licita.procurement.models import Award, Clarification, Contract, Procedure, Status

if TYPE_CHECKING:
    from licita.accounts.models import User


def _visible_q(actor: User | None) -> Q:
    """Return the filter of procedures the actor may see: everything public, plus own drafts."""
    q = ~Q(status=Status.DRAFT) | Q(announced_at__isnull=False)
    if memberships(actor, ["platform_admin"]):
        return Q()
    for m in memberships(actor, ["buyer_operator", "buyer_admin", "auditor"]):
        if m.role == "auditor":
            q |= Q() if m.institution_id is None else Q(unit__institution_id=m.institution_id)
        else:
            q |= Q(unit_id=m.unit_id)
    return q


def procedure_list(
    *,
    actor: User | None,
    status: str | None = None,
    procedure_type: str | None = None,
    unit_key: str | None = None,
    institution: str | None = None,
    supplier_rfc: str | None = None,
    q: str | None = None,
    published_from: dt.date | None = None,
    published_to: dt.date | None = None,
) -> QuerySet[Procedure]:
    """Return the procedures the actor may see, filtered."""
    qs = Procedure.objects.filter(_visible_q(actor)).select_related("unit__institution")
    if status:
        qs = qs.filter(status=status)
    if procedure_type:
        qs = qs.filter(procedure_type=procedure_type)
    if unit_key:
        qs = qs.filter(unit__key=unit_key.strip().upper())
    if institution:
        qs = qs.filter(
            Q(unit__institution__siglas__iexact=institution) | Q(unit__institution__name__icontains=institution)
        )
    if supplier_rfc:
        qs = qs.filter(awards__supplier__rfc=supplier_rfc.strip().upper()).distinct()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(description__icontains=q))
    if published_from:
        qs = qs.filter(published_at__date__gte=published_from)
    if published_to:
        qs = qs.filter(published_at__date__lte=published_to)
    return qs.order_by("-created_at", "-id")


def procedure_get_for_actor(*, ref: str, actor: User | None) -> Procedure:
    """Return a visible procedure by id, number or expediente, or raise NotFound."""
    qs = Procedure.objects.filter(_visible_q(actor)).select_related("unit__institution")
    lookup = Q(number=ref) | Q(expediente=ref)
    if ref.isdigit():
        lookup |= Q(pk=int(ref))
    procedure = qs.filter(lookup).first()
    if procedure is None:
        raise NotFound(_("Procedure not found"))
    return procedure


def clarifications_public(*, procedure: Procedure) -> QuerySet[Clarification]:
    """Return the procedure's questions and answers (public once the procedure is)."""
    return procedure.clarifications.select_related("supplier").order_by("created_at")


def award_get_for_actor(*, pk: int, actor: User | None) -> Award:
    """Return a visible award or raise NotFound."""
    award = Award.objects.filter(pk=pk, procedure__in=Procedure.objects.filter(_visible_q(actor))).first()
    if award is None:
        raise NotFound(_("Award not found"))
    return award


def contract_get_for_actor(*, ref: str, actor: User | None) -> Contract:
    """Return a visible contract by id or code, or raise NotFound."""
    lookup = Q(code=ref) | (Q(pk=int(ref)) if ref.isdigit() else Q(pk=None))
    contract = (
        Contract.objects.filter(lookup, procedure__in=Procedure.objects.filter(_visible_q(actor)))
        .select_related("supplier", "procedure")
        .first()
    )
    if contract is None:
        raise NotFound(_("Contract not found"))
    return contract
