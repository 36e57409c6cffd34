"""The one clock of the platform.

All code asks `now()`. Tests move time explicitly with `frozen(at)` / `set_now(at)`.
`db_now()` reads the database's own clock, used for deadlines checked at commit time.

A recorded procedure (back-captured after an outage, imported) has two clocks: when each act happened and
when the platform learned of it. `act_time()` is the first: `now()`, except inside `recorded_act(at)`, where
the services date the act itself (the fallo, the award, the release's `date`, a document) at `at`, while
everything about the upload (the release's `publishedDate`, ledger leaves, audit entries) stays at `now()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.utils import timezone

_override: dt.datetime | None = None
_act: ContextVar[dt.datetime | None] = ContextVar("licita_act_time", default=None)


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


def act_time() -> dt.datetime:
    """Return when the act being recorded happened: `now()`, or the time given to `recorded_act`."""
    return _act.get() or now()


@contextmanager
def recorded_act(at: dt.datetime) -> Iterator[None]:
    """Date the acts recorded inside the block at `at` (an aware time, not in the future): see the module."""
    if timezone.is_naive(at):
        msg = "the act's time must be aware"
        raise ValueError(msg)
    if at > now():
        msg = "an act cannot be recorded in the future"
        raise ValueError(msg)
    token = _act.set(at)
    try:
        yield
    finally:
        _act.reset(token)
