"""What the read-only monitor (licita/ops/state.py) calls when an incident starts and ends.

Best effort, like the monitor's own incident record: the database may not take writes while the incident
lasts, so the outage is opened at the start only when it can be, and otherwise when writes resume, with
the incident's true start.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import DatabaseError

from licita.core.errors import LicitaError

if TYPE_CHECKING:
    from licita.ops.state import State

logger = logging.getLogger(__name__)


def read_only_started(state: State) -> None:
    """Open the monitor's outage if the database still takes writes (a documents or space fault)."""
    from licita.continuity.services import outage_monitor_open  # noqa: PLC0415
    from licita.ops.state import DATABASE  # noqa: PLC0415

    if DATABASE in state.reasons:
        return
    try:
        outage_monitor_open(since=state.since_at, reason=state.reason)
    except (DatabaseError, LicitaError):
        logger.warning("outage not opened yet (it will be when writes resume)", exc_info=True)


def read_only_ended(state: State, *, at: dt.datetime) -> None:
    """Close the monitor's outage (opening it first with its true start if it could not be opened before)."""
    from licita.continuity.services import outage_monitor_close  # noqa: PLC0415

    try:
        outage_monitor_close(since=state.since_at, end=at, reason=state.reason)
    except (DatabaseError, LicitaError):
        logger.exception("outage of the read-only period since %s not recorded", state.since)
