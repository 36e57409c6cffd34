"""Read-only mode: whether the platform can take writes now, why not, and since when.

The state lives in a small JSON file in a runtime folder on a RAM file system (`/dev/shm` by default,
`LICITA_RUNTIME_DIR`), so that every web and worker process sees it, and so that it can be written when
the database and the document volume cannot. A process that meets a write fault (disk full, read-only
file system, I/O error, a database that refuses writes, free space under the floor) marks the component
unwritable; from then on every process refuses writes at once with a clear message and keeps serving
reads. Any process probes again at most every `LICITA_READONLY_PROBE_SECONDS`: when both the database
and the document store take a durable write again and free space is above the floor, the state clears
by itself and the incident (start, end, components, reasons) is recorded in the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction

from licita.core import clock

logger = logging.getLogger(__name__)

DATABASE = "database"
DOCUMENTS = "documents"
COMPONENTS = (DATABASE, DOCUMENTS)

#: errno values that mean "this volume cannot take writes now" (not a bug of ours).
WRITE_FAULTS = {errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EPERM, errno.EACCES}

_lock = threading.Lock()
_cache: tuple[float, State | None] = (0.0, None)
_last_probe = 0.0


@dataclasses.dataclass
class State:
    """The platform cannot take writes: since when, and why (component → reason)."""

    since: str
    reasons: dict[str, str]

    @property
    def since_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.since)

    @property
    def reason(self) -> str:
        return "; ".join(f"{component}: {text}" for component, text in sorted(self.reasons.items()))


def runtime_dir() -> Path:
    """Return the shared runtime folder (made on first use)."""
    configured = getattr(settings, "LICITA_RUNTIME_DIR", "")
    if configured:
        path = Path(configured)
    else:
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())  # noqa: S108
        tag = hashlib.sha256(str(Path(settings.VAR_DIR).resolve()).encode()).hexdigest()[:10]
        path = base / f"licita-{tag}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _state_file() -> Path:
    return runtime_dir() / "write-state.json"


def _read() -> State | None:
    try:
        raw = json.loads(_state_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        logger.exception("unreadable write-state file")
        return None
    if not raw:
        return None
    return State(since=raw["since"], reasons=dict(raw["reasons"]))


def _write(state: State | None) -> None:
    global _cache  # noqa: PLW0603
    path = _state_file()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".write-state-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(dataclasses.asdict(state) if state else {}, fh)
    Path(tmp).replace(path)
    _cache = (time.monotonic(), state)


def current(*, fresh: bool = False) -> State | None:
    """Return the read-only state, or None when writes are taken (read from the shared file, cached 1 s)."""
    global _cache  # noqa: PLW0603
    at, cached = _cache
    if not fresh and time.monotonic() - at < 1.0:
        return cached
    state = _read()
    _cache = (time.monotonic(), state)
    return state


def mark_unwritable(component: str, reason: str) -> State:
    """Put the platform in read-only mode because `component` cannot take writes (`reason` says why)."""
    global _last_probe  # noqa: PLW0603
    with _lock:
        _last_probe = time.monotonic()  # a write just failed: that was the probe
        state = current(fresh=True)
        started = state is None
        if state is None:
            state = State(since=clock.now().astimezone(dt.UTC).isoformat(), reasons={})
            logger.error("read-only mode: %s cannot take writes: %s", component, reason)
        if state.reasons.get(component) != reason:
            state.reasons[component] = reason
            _write(state)
    # --- continuity (issue 7): the outage opens when an incident starts ---
    if started:
        from licita.continuity.hooks import read_only_started  # noqa: PLC0415

        read_only_started(state)
    # --- end continuity ---
    return state


def is_write_fault(exc: BaseException) -> str | None:
    """Return a short reason if `exc` means a volume or the database cannot take writes; else None."""
    if isinstance(exc, OSError) and exc.errno in WRITE_FAULTS:
        return f"{errno.errorcode.get(exc.errno or 0, exc.errno)}: {exc.strerror or exc}"
    if isinstance(exc, DatabaseError):
        text = str(exc).lower()
        sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
        if sqlstate in {"53100", "53200", "25006", "58030", "57P01", "57P02", "57P03"} or any(
            marker in text
            for marker in (
                "disk is full",
                "disk full",
                "no space left",
                "readonly database",
                "read-only",
                "read only",
                "disk i/o error",
                "could not write",
                "could not extend file",
            )
        ):
            return str(exc).strip().splitlines()[0][:300]
    return None


def note_failure(component: str, exc: BaseException) -> bool:
    """Mark `component` unwritable if `exc` is a write fault; return whether it was one."""
    reason = is_write_fault(exc)
    if reason is None:
        return False
    mark_unwritable(component, reason)
    return True


# --------------------------------------------------------------------------- probing


def _probe_documents() -> str | None:
    """Write, fsync and remove a small file in the document store; return the failure, if any."""
    root = Path(settings.LICITA_DOCUMENTS_DIR)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".probe-")
        try:
            os.write(fd, b"licita write probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        return is_write_fault(exc) or str(exc)
    return None


def _probe_database() -> str | None:
    """Commit one small write (the heartbeat row); return the failure, if any."""
    from licita.ops.models import Heartbeat  # noqa: PLC0415

    try:
        with transaction.atomic():
            Heartbeat.objects.update_or_create(pk=1, defaults={"at": clock.now()})
    except DatabaseError as exc:
        return is_write_fault(exc) or str(exc).strip()[:300]
    return None


def _floor_reasons() -> dict[str, str]:
    from licita.ops.capacity import below_floor  # noqa: PLC0415

    return below_floor()


def probe(*, force: bool = False) -> State | None:
    """Check again whether writes are possible, at most every LICITA_READONLY_PROBE_SECONDS; return the state.

    Clears the state (and records the incident) when every component takes writes; marks components found
    unwritable (free space under the floor included) whether or not the platform was read-only before.
    """
    global _last_probe  # noqa: PLW0603
    interval = float(getattr(settings, "LICITA_READONLY_PROBE_SECONDS", 5.0))
    state = current(fresh=True)
    now = time.monotonic()
    if not force and now - _last_probe < interval:
        return state
    _last_probe = now
    reasons = _floor_reasons()
    documents = _probe_documents()
    if documents:
        reasons[DOCUMENTS] = documents
    if DATABASE not in reasons:
        database = _probe_database()
        if database:
            reasons[DATABASE] = database
    started = False
    with _lock:
        state = current(fresh=True)
        if reasons:
            if state is None:
                started = True
                state = State(since=clock.now().astimezone(dt.UTC).isoformat(), reasons={})
                logger.error("read-only mode: %s", reasons)
            if state.reasons != reasons:
                state.reasons = reasons
                _write(state)
        elif state is not None:
            _resolve(state)
            _write(None)
            logger.warning("writes resumed (read-only since %s: %s)", state.since, state.reason)
            state = None
    # --- continuity (issue 7): the outage opens when an incident starts ---
    if started and state is not None:
        from licita.continuity.hooks import read_only_started  # noqa: PLC0415

        read_only_started(state)
    # --- end continuity ---
    return state


def check_floor() -> State | None:
    """Before a write: refuse it if a volume is under the free-space floor (two statvfs calls)."""
    reasons = _floor_reasons()
    for component, reason in reasons.items():
        mark_unwritable(component, reason)
    return current(fresh=True) if reasons else current()


def _resolve(state: State) -> None:
    """Record the finished incident in the database (best effort: it is logged in any case)."""
    from licita.ops.models import Incident  # noqa: PLC0415

    with contextlib.suppress(DatabaseError):
        Incident.objects.create(
            kind=Incident.Kind.READ_ONLY,
            started_at=state.since_at,
            ended_at=clock.now(),
            components=sorted(state.reasons),
            reason=state.reason[:2000],
        )
    # --- continuity (issue 7): the outage closes when writes resume ---
    from licita.continuity.hooks import read_only_ended  # noqa: PLC0415

    read_only_ended(state, at=clock.now())
    # --- end continuity ---


def reset_for_tests() -> None:
    """Forget the cached state and the last probe time (tests)."""
    global _cache, _last_probe  # noqa: PLW0603
    _cache = (0.0, None)
    _last_probe = 0.0
