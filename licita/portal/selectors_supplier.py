"""Reads of the supplier and auditor workspaces, scoped to the actor; missing and forbidden look alike."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from licita.accounts.models import CustodianKey, Membership, PurchasingUnit, Role, Supplier
from licita.bidding import crypto
from licita.bidding.models import Bid, ShareEnvelope
from licita.bidding.services import platform_signing_key
from licita.core import clock
from licita.core.errors import NotFound
from licita.core.models import AuditEntry
from licita.procurement.models import Clarification, Contract, Invitation, Procedure, ProcedureType, Status
from licita.procurement.selectors import procedure_list

if TYPE_CHECKING:
    from licita.accounts.models import User

#: A receipt file is about a kilobyte; anything far larger is not one.
RECEIPT_MAX_BYTES = 64 * 1024


# --- Supplier ------------------------------------------------------------------------------------


def supplier_for_actor(*, actor: User | None) -> Supplier:
    """Return the supplier the actor represents (the first by name if several), or raise NotFound."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise NotFound(_("Page not found"))
    membership = (
        Membership.objects.filter(user=actor, role=Role.SUPPLIER_REP, is_active=True, supplier__isnull=False)
        .select_related("supplier")
        .order_by("supplier__name", "pk")
        .first()
    )
    if membership is None or membership.supplier is None:
        raise NotFound(_("Page not found"))
    return membership.supplier


def opportunities(
    *, actor: User | None, supplier: Supplier, q: str = "", procedure_type: str = ""
) -> QuerySet[Procedure]:
    """Return the procedures taking bids now that the supplier may bid on (invitations only if invited)."""
    qs = procedure_list(actor=actor, status=Status.PUBLISHED, procedure_type=procedure_type or None, q=q or None)
    return (
        qs.filter(submission_deadline__gt=clock.now())
        .filter(
            Q(procedure_type=ProcedureType.PUBLIC_TENDER)
            | Q(
                Exists(Invitation.objects.filter(procedure=OuterRef("pk"), supplier=supplier)),
                procedure_type=ProcedureType.INVITATION,
            )
        )
        .order_by("submission_deadline", "pk")
    )


def supplier_bids(*, supplier: Supplier) -> QuerySet[Bid]:
    """Return every bid of the supplier (all versions), newest first."""
    return Bid.objects.filter(supplier=supplier).select_related("procedure").order_by("-committed_at", "-pk")


def supplier_contracts(*, supplier: Supplier) -> QuerySet[Contract]:
    """Return the supplier's contracts, newest first."""
    return Contract.objects.filter(supplier=supplier).select_related("procedure").order_by("-date_signed", "-pk")


def supplier_questions(*, supplier: Supplier) -> QuerySet[Clarification]:
    """Return the questions the supplier asked, newest first."""
    return Clarification.objects.filter(supplier=supplier).select_related("procedure").order_by("-created_at", "-pk")


def bid_get_for_supplier(*, pk: int, actor: User | None) -> Bid:
    """Return one of the actor's supplier's bids, or raise NotFound (another supplier's bid looks missing)."""
    supplier = supplier_for_actor(actor=actor)
    bid = Bid.objects.filter(pk=pk, supplier=supplier).select_related("procedure", "supplier").first()
    if bid is None:
        raise NotFound(_("Bid not found"))
    return bid


def procedure_bids_of_supplier(*, procedure: Procedure, supplier: Supplier) -> list[Bid]:
    """Return the supplier's bids on one procedure, newest version first."""
    return list(Bid.objects.filter(procedure=procedure, supplier=supplier).order_by("-version"))


@dataclass(frozen=True)
class ReceiptCheck:
    """The verdict on an uploaded receipt: valid or not, why, and what it says."""

    valid: bool
    reason: str
    payload: dict[str, Any] = field(default_factory=dict)


def receipt_check(data: bytes) -> ReceiptCheck:
    """Say whether `data` is a bid receipt signed by this platform and unchanged, and why not if it is not."""
    if len(data) > RECEIPT_MAX_BYTES:
        return ReceiptCheck(valid=False, reason=_("The file is too large to be a bid receipt."))
    try:
        receipt = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ReceiptCheck(
            valid=False, reason=_("The file is not JSON: upload the receipt file exactly as it was downloaded.")
        )
    keys = {"payload", "signature", "algorithm", "public_key"}
    if not isinstance(receipt, dict) or not keys <= receipt.keys() or not isinstance(receipt["payload"], dict):
        return ReceiptCheck(
            valid=False, reason=_("The file is not a Licita bid receipt: it lacks the payload or the signature.")
        )
    payload = {str(k): v for k, v in receipt["payload"].items()}
    platform_key = crypto.public_key_b64(platform_signing_key())
    if receipt["algorithm"] != crypto.RECEIPT_ALGORITHM or receipt["public_key"] != platform_key:
        return ReceiptCheck(
            valid=False, reason=_("The receipt was not signed with this platform's key."), payload=payload
        )
    if not crypto.receipt_verify(receipt=receipt, public_key_b64=platform_key):
        return ReceiptCheck(
            valid=False,
            reason=_("The signature does not match the content: the receipt was altered after it was issued."),
            payload=payload,
        )
    return ReceiptCheck(
        valid=True, reason=_("The signature is the platform's and the content is unchanged."), payload=payload
    )


# --- Auditor -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditorScope:
    """What an auditor oversees: every institution (`institution_ids` None) or some of them."""

    institution_ids: frozenset[int] | None
    institutions: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        """Return whether the scope covers every institution."""
        return self.institution_ids is None


def auditor_scope(*, actor: User | None) -> AuditorScope:
    """Return the actor's oversight scope, or raise NotFound if the actor is neither auditor nor platform admin."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise NotFound(_("Page not found"))
    rows = list(
        Membership.objects.filter(user=actor, role__in=[Role.AUDITOR, Role.PLATFORM_ADMIN], is_active=True)
        .select_related("institution")
        .order_by("pk")
    )
    if not rows:
        raise NotFound(_("Page not found"))
    if any(m.role == Role.PLATFORM_ADMIN or m.institution_id is None for m in rows):
        return AuditorScope(institution_ids=None)
    return AuditorScope(
        institution_ids=frozenset(m.institution_id for m in rows if m.institution_id is not None),
        institutions=tuple(str(m.institution) for m in rows if m.institution is not None),
    )


def auditor_procedures(
    *, actor: User | None, scope: AuditorScope, status: str = "", q: str = ""
) -> QuerySet[Procedure]:
    """Return the procedures of the auditor's scope (drafts included, as the visibility rules allow)."""
    qs = procedure_list(actor=actor, status=status or None, q=q or None)
    if scope.institution_ids is not None:
        qs = qs.filter(unit__institution_id__in=scope.institution_ids)
    return qs


def auditor_openings(*, actor: User | None) -> QuerySet[ShareEnvelope]:
    """Return the opening committees the actor sits on, the procedures still to be opened first."""
    return (
        ShareEnvelope.objects.filter(custodian=actor)
        .select_related("opening_key__procedure__unit__institution")
        .order_by("opening_key__used_at", "-opening_key__procedure__submission_deadline", "-pk")
    )


def audit_entries(
    *,
    scope: AuditorScope,
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """Return the audit trail of the scope, newest first, filtered by action and by date (Mexico City days)."""
    qs = AuditEntry.objects.select_related("actor")
    if scope.institution_ids is not None:
        ids = scope.institution_ids
        procedures = Procedure.objects.filter(unit__institution_id__in=ids).annotate(
            ref=Cast("pk", output_field=CharField())
        )
        units = PurchasingUnit.objects.filter(institution_id__in=ids)
        qs = qs.filter(
            Q(object_type="procedure", object_id__in=procedures.values("ref"))
            | Q(object_type="unit", object_id__in=units.values("key"))
            | Q(object_type="institution", object_id__in=[str(i) for i in ids])
        )
    if action:
        qs = qs.filter(action=action)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs.order_by("-at", "-pk")


def custodian_key_b64(*, actor: User | None) -> str | None:
    """Return the base64 of the actor's registered custodian public key, or None."""
    key = CustodianKey.objects.filter(user=actor).only("public_key").first()
    return base64.b64encode(bytes(key.public_key)).decode("ascii") if key else None
