"""The audit trail: every consequential act, with its actor, appended in the act's own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from licita.core import clock

if TYPE_CHECKING:
    from licita.accounts.models import User
    from licita.core.models import AuditEntry


def audit_append(
    *, actor: User | None, action: str, object_type: str, object_id: str, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one audit entry; call it inside the service's transaction."""
    from licita.core.models import AuditEntry  # noqa: PLC0415

    return AuditEntry.objects.create(
        at=clock.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
    )
