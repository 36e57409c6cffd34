"""The one clock of the platform.

All code asks `now()`. Tests move time explicitly with `frozen(at)` / `set_now(at)`.
`db_now()` reads the database's own clock, used for deadlines checked at commit time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

_override: dt.datetime | None = None


def now() -> dt.datetime:
    """Return the current aware time (the test override when one is set)."""
    if _override is not None:
        return _override
    return timezone.now()


def db_now() -> dt.datetime:
    """Return the database server's current clock (statement time, not transaction start)."""
    if _override is not None:
        return _override
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            value = cursor.fetchone()[0]
        return value.astimezone(dt.UTC)
    # SQLite runs in this process: its clock is this machine's clock.
    return timezone.now()


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at `value` (None releases it)."""
    global _override  # noqa: PLW0603
    if value is not None and timezone.is_naive(value):
        msg = "the clock only takes aware datetimes"
        raise ValueError(msg)
    _override = value


@contextmanager
def frozen(value: dt.datetime) -> Iterator[None]:
    """Freeze the clock at `value` inside the block."""
    previous = _override
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
