"""The top-level `contingency` object of a back-captured procedure's releases (licita_mexico extension)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from licita.core import clock

if TYPE_CHECKING:
    from licita.procurement.models import Procedure


def contingency_fields(procedure: Procedure) -> dict[str, Any] | None:
    """Return the outage a contingency procedure belongs to, when it happened, its deadline and lateness."""
    if procedure.provenance != "contingency":
        return None
    from licita.continuity.models import ContingencyProcedure  # noqa: PLC0415
    from licita.continuity.selectors import days_late  # noqa: PLC0415
    from licita.publication.build import iso_datetime  # noqa: PLC0415

    item = ContingencyProcedure.objects.select_related("outage").filter(procedure=procedure).first()
    if item is None:
        return None
    outage = item.outage
    return {
        "outage": str(outage.pk),
        "outageStartDate": iso_datetime(outage.started_at),
        "outageEndDate": iso_datetime(outage.ended_at),
        "reference": item.ref,
        "carriedOutDate": iso_datetime(item.carried_out_at),
        "uploadDeadline": iso_datetime(outage.upload_deadline),
        "daysLate": days_late(outage.upload_deadline, item.completed_at, clock.now()),
    }
