"""The scrubber: re-hash every stored blob, locally and on the replica, and repair each bad copy from a good one.

Every blob the database refers to (`REFERENCES`; each gets a `Blob` row) is read back whole and hashed. A
missing or damaged local copy is rewritten from a good replica copy (the damaged one is kept in quarantine/);
a missing or damaged replica copy is uploaded again from a good local copy; a blob never replicated is
copied. A blob with no good copy anywhere is reported as unrecoverable with its hash, and nothing is
written for it. Nothing is ever deleted. The worker runs `scrub_if_due` (at most once per
LICITA_SCRUB_INTERVAL_HOURS); `licita scrub` runs it by hand. Each run is kept as a `ScrubRun` row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterator

from django.apps import apps
from django.conf import settings
from django.db import transaction

from licita.core import clock
from licita.core.errors import LicitaError
from licita.documents import replica, store
from licita.documents.models import Blob, ScrubRun

logger = logging.getLogger(__name__)

#: Every column that holds the SHA-256 of a stored blob: (app label, model, hash field, size field).
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("documents", "Document", "sha256", "size"),
    ("bidding", "Bid", "sealed_sha256", "sealed_size"),
    ("bidding", "BidDocument", "sha256", "size"),
)
#: Blobs read from the database at a time (keyset pagination: no cursor stays open during the run).
BATCH = 500
#: How often progress is reported, at most (seconds).
PROGRESS_EVERY = 5.0


@dataclasses.dataclass
class ScrubReport:
    """What a scrub found and did."""

    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    total: int = 0
    checked: int = 0
    bytes: int = 0
    replica_checked: int = 0
    replica_bytes: int = 0
    repaired_local: int = 0
    repaired_replica: int = 0
    replicated: int = 0
    unrecoverable: list[str] = dataclasses.field(default_factory=list)
    replica: str = "none"
    replica_error: str = ""
    seconds: float = 0.0

    @property
    def mb_per_s(self) -> float:
        """Return the rate at which local copies were re-hashed (MB/s)."""
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    def summary(self, limit: int | None = 100) -> str:
        """Return the report as a few lines for people, listing at most `limit` unrecoverable hashes (None: all)."""
        lines = [
            f"checked {self.checked:,} blob(s), {self.bytes:,} bytes, in {self.seconds:.1f} s ({self.mb_per_s:.1f} MB/s)",
            f"replica {self.replica}: {self.replica_checked:,} copies checked, {self.replica_bytes:,} bytes",
            f"repaired local copies: {self.repaired_local}",
            f"repaired replica copies: {self.repaired_replica}",
            f"replicated for the first time: {self.replicated}",
            f"unrecoverable: {len(self.unrecoverable)}",
        ]
        shown = self.unrecoverable if limit is None else self.unrecoverable[:limit]
        lines += [f"  unrecoverable {sha}" for sha in shown]
        if len(shown) < len(self.unrecoverable):
            lines.append(f"  … and {len(self.unrecoverable) - len(shown):,} more (`licita scrub` lists them all)")
        if self.replica_error:
            lines.append(f"replica unavailable: {self.replica_error}")
        return "\n".join(lines)


Progress = Callable[[ScrubReport], None]


def register_referenced() -> int:
    """Add a `Blob` row for every referenced blob that has none (blobs stored before rows were kept); return how many."""
    added = 0
    for app, model, field, size_field in REFERENCES:
        missing = (
            apps.get_model(app, model)
            .objects.exclude(**{f"{field}__in": Blob.objects.values("sha256")})
            .order_by()
            .values_list(field, size_field)
            .distinct()
        )
        rows = [Blob(sha256=sha, size=size) for sha, size in missing.iterator(chunk_size=2000)]
        added += len(rows)
        Blob.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return added


def _batches() -> Iterator[list[Blob]]:
    """Yield every blob row in hash order, a batch at a time."""
    last = ""
    while batch := list(Blob.objects.filter(sha256__gt=last).order_by("sha256")[:BATCH]):
        yield batch
        last = batch[-1].sha256


class _Replica:
    """The replica as one scrub sees it: given up on for the rest of the run after one failure."""

    def __init__(self, report: ScrubReport) -> None:
        self.report = report
        self.usable = replica.configured()
        report.replica = replica.describe()

    def fail(self, exc: replica.ReplicaUnavailable) -> None:
        self.usable = False
        self.report.replica_error = str(exc.detail.get("reason") or exc)
        logger.warning("scrub: replica %s unavailable, not checked further: %s", self.report.replica, exc.detail)

    def state(self, sha256: str) -> str:
        """Return "good", "missing", "damaged" or "unknown" (the replica could not be asked)."""
        if not self.usable:
            return "unknown"
        try:
            found = replica.digest(sha256)
        except replica.ReplicaUnavailable as exc:
            self.fail(exc)
            return "unknown"
        if found is None:
            return "missing"
        self.report.replica_checked += 1
        self.report.replica_bytes += found[1]
        return "good" if found[0] == sha256 else "damaged"


def _scrub_one(blob: Blob, rep: _Replica, report: ScrubReport) -> None:
    """Check and repair one blob's copies; update the row (saved by the caller, a batch at a time)."""
    sha256 = blob.sha256
    local, size = store.local_state(sha256)
    report.checked += 1
    report.bytes += size
    remote = rep.state(sha256)
    if local != "good":
        data = _good_replica_copy(sha256, rep) if remote == "good" else None
        if data is None:
            logger.error("scrub: blob %s has no good copy (local %s, replica %s)", sha256, local, remote)
            report.unrecoverable.append(sha256)
            return
        store.write_local(sha256, data)
        report.repaired_local += 1
        logger.warning("scrub: the local copy of %s was %s; repaired from the replica", sha256, local)
    now = clock.now()
    if remote in {"missing", "damaged"} and rep.usable:
        try:
            replica.put(sha256, store.blob_path(sha256).read_bytes())
        except replica.ReplicaUnavailable as exc:
            rep.fail(exc)
        else:
            if remote == "damaged" or blob.replicated_at is not None:
                report.repaired_replica += 1
                logger.warning("scrub: the replica's copy of %s was %s; uploaded again", sha256, remote)
            else:
                report.replicated += 1
            blob.replicated_at = now
    elif remote == "good" and blob.replicated_at is None:
        blob.replicated_at = now  # uploaded, but its success was not recorded (a crash after the upload)
    blob.checked_at = now


def _good_replica_copy(sha256: str, rep: _Replica) -> bytes | None:
    try:
        data = replica.get(sha256)
    except replica.ReplicaUnavailable as exc:
        rep.fail(exc)
        return None
    return data if data is not None and hashlib.sha256(data).hexdigest() == sha256 else None


def scrub(progress: Progress | None = None) -> ScrubReport:
    """Re-hash every blob locally and on the replica, repair what can be repaired, and record the report."""
    report = ScrubReport(started_at=clock.now())
    run = ScrubRun.objects.create(started_at=report.started_at)
    rep = _Replica(report)
    register_referenced()
    report.total = Blob.objects.count()
    t0 = last = time.monotonic()
    for batch in _batches():
        for blob in batch:
            try:
                _scrub_one(blob, rep, report)
            except (LicitaError, OSError):  # a copy that cannot be written back, a malformed hash
                logger.exception("scrub: cannot check or repair blob %s", blob.sha256)
                report.unrecoverable.append(blob.sha256)
            if progress is not None and time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                report.seconds = last - t0
                progress(report)
        with transaction.atomic():  # one commit per batch, not one per blob
            Blob.objects.bulk_update(batch, ["replicated_at", "checked_at"])
    report.seconds = time.monotonic() - t0
    report.finished_at = clock.now()
    for field in (
        "finished_at",
        "checked",
        "bytes",
        "replica_checked",
        "replica_bytes",
        "repaired_local",
        "repaired_replica",
        "replicated",
        "replica_error",
    ):
        setattr(run, field, getattr(report, field))
    run.unrecoverable_count = len(report.unrecoverable)
    run.unrecoverable = report.unrecoverable[: ScrubRun.UNRECOVERABLE_KEPT]
    run.save()
    if progress is not None:
        progress(report)
    log = logger.error if report.unrecoverable else logger.info
    log("scrub: %s", report.summary().replace("\n", "; "))
    return report


def scrub_due(now: dt.datetime | None = None) -> bool:
    """Return whether no scrub started within the last LICITA_SCRUB_INTERVAL_HOURS."""
    now = now or clock.now()
    since = now - dt.timedelta(hours=float(settings.LICITA_SCRUB_INTERVAL_HOURS))
    return not ScrubRun.objects.filter(started_at__gt=since).exists()


def scrub_if_due(progress: Progress | None = None) -> ScrubReport | None:
    """Scrub if no scrub started within the interval (the worker calls this every tick)."""
    if not scrub_due():
        return None
    return scrub(progress)


def latest() -> ScrubRun | None:
    """Return the last scrub run (for the status page)."""
    return ScrubRun.objects.order_by("-started_at").first()
