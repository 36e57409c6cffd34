"""Free space of the database and document volumes: measured, sampled, forecast, and the write floor.

The worker samples both volumes (at most every LICITA_CAPACITY_SAMPLE_SECONDS) and fits a straight line
to the last week's samples: the slope is the consumption rate, and where the line crosses the floor
(LICITA_MIN_FREE_BYTES) is the day the platform would have to turn read-only. A forecast within
LICITA_CAPACITY_WARN_DAYS warns the operator (log and mail to ADMINS) and shows on the status page.
Under the floor, `below_floor` makes the write guard refuse new writes (reads go on).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.core.mail import mail_admins
from django.db import DatabaseError, connection

from licita.core import clock

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=7)
_warned: dict[str, dt.datetime] = {}  #: when each volume was last warned about (once a day each)


@dataclasses.dataclass(frozen=True)
class Volume:
    name: str  #: "database" or "documents" (the write guard's components)
    path: str
    free_bytes: int
    total_bytes: int


@dataclasses.dataclass(frozen=True)
class Forecast:
    volume: str
    free_bytes: int
    total_bytes: int
    bytes_per_day: float | None  #: consumption rate (positive: filling up); None without enough samples
    days_left: float | None  #: days until free space reaches the floor at that rate; None if not filling
    warn: bool


def _database_path() -> Path | None:
    configured = getattr(settings, "LICITA_DATABASE_VOLUME", "")
    if configured:
        return Path(configured)
    db = settings.DATABASES["default"]
    if str(db["ENGINE"]).endswith("sqlite3"):
        name = str(db["NAME"])
        return None if name.startswith(":memory:") or "mode=memory" in name else Path(name).parent
    return _postgresql_data_directory(connection.settings_dict.get("HOST"), connection.settings_dict.get("PORT"))


@functools.lru_cache(maxsize=4)
def _postgresql_data_directory(host: object, port: object) -> Path | None:
    """Return the server's data directory if it is on this machine (asked once per server and process)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            row = cursor.fetchone()
    except DatabaseError:
        return None  # not allowed to read it: set LICITA_DATABASE_VOLUME
    path = Path(row[0]) if row else None
    return path if path is not None and path.exists() else None


def volumes() -> list[Volume]:
    """Measure the volumes that hold the database and the documents (those that can be seen from here)."""
    found: list[Volume] = []
    for name, path in (("database", _database_path()), ("documents", Path(settings.LICITA_DOCUMENTS_DIR))):
        if path is None:
            continue
        probe = path
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            usage = shutil.disk_usage(probe)
        except OSError:
            continue
        found.append(Volume(name=name, path=str(path), free_bytes=usage.free, total_bytes=usage.total))
    return found


def floor_bytes() -> int:
    """Return the free space under which writes are refused."""
    return int(settings.LICITA_MIN_FREE_BYTES)


def below_floor() -> dict[str, str]:
    """Return the components whose volume is under the floor, each with the reason to show."""
    floor = floor_bytes()
    return {
        v.name: f"low disk space: {v.free_bytes // 2**20} MiB free, under the floor of {floor // 2**20} MiB"
        for v in volumes()
        if v.free_bytes < floor
    }


def sample(*, force: bool = False) -> int:
    """Store one sample per volume unless the last is recent; return how many were stored."""
    from licita.ops.models import CapacitySample  # noqa: PLC0415

    now = clock.now()
    last = CapacitySample.objects.order_by("-at").values_list("at", flat=True).first()
    if not force and last is not None and (now - last).total_seconds() < settings.LICITA_CAPACITY_SAMPLE_SECONDS:
        return 0
    rows = [
        CapacitySample(at=now, volume=v.name, path=v.path[:500], free_bytes=v.free_bytes, total_bytes=v.total_bytes)
        for v in volumes()
    ]
    CapacitySample.objects.bulk_create(rows)
    return len(rows)


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y) points; None if x does not vary."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def forecasts() -> list[Forecast]:
    """Return, per volume, its free space now, its consumption rate over the last week and the days left."""
    from licita.ops.models import CapacitySample  # noqa: PLC0415

    now = clock.now()
    floor = floor_bytes()
    warn_days = float(settings.LICITA_CAPACITY_WARN_DAYS)
    result = []
    for v in volumes():
        rows = list(
            CapacitySample.objects.filter(volume=v.name, at__gte=now - WINDOW)
            .order_by("at")
            .values_list("at", "free_bytes")
        )
        points = [((at - now).total_seconds() / 86400, float(free)) for at, free in rows]
        points.append((0.0, float(v.free_bytes)))
        span = points[-1][0] - points[0][0]
        slope = _slope(points) if span >= 1 / 24 else None  # at least an hour of samples
        rate = -slope if slope is not None else None
        days = (v.free_bytes - floor) / rate if rate is not None and rate > 0 else None
        if days is not None:
            days = max(days, 0.0)
        result.append(
            Forecast(
                volume=v.name,
                free_bytes=v.free_bytes,
                total_bytes=v.total_bytes,
                bytes_per_day=rate,
                days_left=days,
                warn=v.free_bytes < floor or (days is not None and days < warn_days),
            )
        )
    return result


def warn_operator() -> list[Forecast]:
    """Log (and mail to ADMINS) the volumes forecast to reach the floor within the warning horizon."""
    warned = [f for f in forecasts() if f.warn]
    now = clock.now()
    for f in warned:
        if f.volume in _warned and now - _warned[f.volume] < dt.timedelta(days=1):
            continue
        _warned[f.volume] = now
        days = "now" if f.days_left is None else f"in {f.days_left:.1f} days"
        message = (
            f"Licita: the {f.volume} volume has {f.free_bytes // 2**20} MiB free and reaches the floor "
            f"({floor_bytes() // 2**20} MiB) {days}; writes will be refused then. Add space."
        )
        logger.warning(message)
        mail_admins(f"Licita: {f.volume} volume filling up", message, fail_silently=True)
    return warned
