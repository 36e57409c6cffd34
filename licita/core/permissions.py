"""Who may do what: fetch-and-authorise helpers used by services and selectors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from licita.core.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from licita.accounts.models import Membership, PurchasingUnit, Supplier, User


def memberships(actor: User | None, roles: Iterable[str]) -> list[Membership]:
    """Return the actor's active memberships with one of `roles`."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return []
    from licita.accounts.models import Membership  # noqa: PLC0415

    return list(
        Membership.objects.filter(user=actor, role__in=list(roles), is_active=True).select_related(
            "unit__institution", "supplier", "institution"
        )
    )


def is_platform_admin(actor: User | None) -> bool:
    """Return whether the actor administers the platform."""
    return bool(memberships(actor, ["platform_admin"]))


def is_auditor_of(actor: User | None, unit: PurchasingUnit) -> bool:
    """Return whether the actor oversees `unit` (an auditor of its institution, or of every institution)."""
    return any(m.institution_id in (None, unit.institution_id) for m in memberships(actor, ["auditor"]))


def is_buyer_of(
    actor: User | None, unit: PurchasingUnit, roles: Iterable[str] = ("buyer_operator", "buyer_admin")
) -> bool:
    """Return whether the actor is a buyer of `unit` with one of `roles`."""
    return any(m.unit_id == unit.pk for m in memberships(actor, roles))


def require_buyer(
    actor: User | None,
    unit: PurchasingUnit,
    *,
    visible: bool,
    roles: Iterable[str] = ("buyer_operator", "buyer_admin"),
) -> None:
    """Refuse unless the actor is a buyer of `unit`; a hidden object looks missing, a visible one forbidden."""
    if is_buyer_of(actor, unit, roles):
        return
    if not visible:
        raise NotFound(_("Procedure not found"))
    raise PermissionDenied(
        _("Only the purchasing unit %(unit)s may do this") % {"unit": unit.key}, rule="unit_membership"
    )


def supplier_of(actor: User | None, rfc: str | None = None) -> Supplier:
    """Return the supplier the actor represents (the one with `rfc` if the actor represents several)."""
    reps = memberships(actor, ["supplier_rep"])
    if rfc:
        reps = [m for m in reps if m.supplier is not None and m.supplier.rfc == rfc.strip().upper()]
    if not reps:
        raise PermissionDenied(_("Only a supplier representative may do this"), rule="supplier_membership")
    if len(reps) > 1:
        raise PermissionDenied(
            _("You represent several suppliers: say which one with supplier_rfc"),
            field="supplier_rfc",
            rule="required",
        )
    supplier = reps[0].supplier
    assert supplier is not None
    return supplier
