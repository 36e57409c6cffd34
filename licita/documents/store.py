"""The content-addressed blob store (SHA-256): a durable local copy, the source of truth, and a replica.

`blob_put` writes the local copy atomically and durably (temp file, write, fsync, rename, fsync of the folder)
before it returns, so the caller's database row, committed after it, never points at a blob that is not on
disk. It records the blob (a `Blob` row, in the caller's transaction) and, once that transaction has
committed, uploads it to the replica when one is configured (`replica.py`): a replica that is down or hangs
costs at most its timeout, and the blob stays marked as not replicated until the scrubber copies it.

`blob_get` reads the local copy and checks its hash; a missing or damaged local copy is fetched from the
replica, checked, and written back. A damaged copy is never deleted: it is moved aside to `quarantine/`.
"""

from __future__ import annotations

import collections
import datetime as dt
import errno
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from licita.core import clock
from licita.core.errors import LicitaError, NotFound
from licita.documents import replica
from licita.documents.models import Blob

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
LocalState = Literal["good", "missing", "damaged"]

#: What this process has done beyond plain reads and writes (for logs and metrics): "read_repaired" (a local
#: copy written back from the replica by a read), "replicated" and "replica_failed" (uploads after commit).
counters: collections.Counter[str] = collections.Counter()


class StorageUnavailable(LicitaError):
    """Raised when the document store cannot take a write or return a good copy."""

    code = "storage_unavailable"
    status = 503


def _root() -> Path:
    return Path(settings.LICITA_DOCUMENTS_DIR)


def blob_path(sha256: str) -> Path:
    """Return where the blob with this hash lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(_("Document not found"))
    return _root() / sha256[:2] / sha256[2:4] / sha256


def local_state(sha256: str) -> tuple[LocalState, int]:
    """Re-hash the local copy; return whether it is good, missing or damaged, and how many bytes were read."""
    h = hashlib.sha256()
    size = 0
    try:
        with blob_path(sha256).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return "missing", 0
    except OSError as exc:  # an unreadable copy (EIO) is as bad as a damaged one
        logger.warning("documents: cannot read the local copy of %s: %s", sha256, exc)
        return "damaged", size
    return ("good" if h.hexdigest() == sha256 else "damaged"), size


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _quarantine(target: Path, sha256: str) -> None:
    """Keep a damaged copy under quarantine/ (a hard link, or a copy), before a good one replaces it."""
    folder = _root() / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{sha256}.{clock.now().astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.{secrets.token_hex(4)}"
    try:
        os.link(target, kept)
    except FileNotFoundError:
        return
    except OSError:
        shutil.copyfile(target, kept)
    logger.warning("documents: the damaged local copy of %s was kept as %s", sha256, kept)


def write_local(sha256: str, data: bytes) -> bool:
    """Make the local copy of `data` (whose hash is `sha256`) good and durable; return whether anything was written.

    Raise StorageUnavailable if the file system refuses the write.
    """
    target = blob_path(sha256)
    state, _size = local_state(sha256)
    if state == "good":
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if state == "damaged":
                _quarantine(target, sha256)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
    except OSError as exc:
        from licita.ops import state as write_state  # noqa: PLC0415 - ops imports the documents app's models

        write_state.note_failure(write_state.DOCUMENTS, exc)  # disk full, read-only, EIO: the platform turns read-only
        raise StorageUnavailable(
            _("The document store cannot take writes right now (%(reason)s); nothing was saved. Try again later.")
            % {"reason": errno.errorcode.get(exc.errno or 0, "") or exc.strerror or str(exc)},
            reason=exc.strerror or str(exc),
        ) from exc
    return True


def replicate(sha256: str, data: bytes) -> bool:
    """Upload a blob to the replica unless it is known to be there; record success. Never raise for the replica.

    Return whether the replica now holds the blob. Skipped (False) while the breaker is open after a failure.
    """
    if not replica.configured():
        return False
    if Blob.objects.filter(sha256=sha256, replicated_at__isnull=False).exists():
        return True
    if replica.breaker_open():
        counters["replica_skipped"] += 1
        return False
    try:
        replica.put(sha256, data)
    except replica.ReplicaUnavailable as exc:
        replica.trip()
        counters["replica_failed"] += 1
        logger.warning(
            "documents: blob %s kept locally, not replicated (%s); the scrubber will copy it; uploads paused %.0f s",
            sha256,
            exc.detail.get("reason"),
            replica.BREAKER_SECONDS,
        )
        return False
    Blob.objects.filter(sha256=sha256).update(replicated_at=clock.now())
    counters["replicated"] += 1
    return True


def blob_put(data: bytes) -> str:
    """Store `data` durably (temp file, fsync, rename, fsync dir) and return its SHA-256.

    The replica gets its copy after the caller's transaction commits; if it cannot, the blob stays recorded as
    not replicated and the scrubber copies it later.
    """
    digest = hashlib.sha256(data).hexdigest()
    write_local(digest, data)
    Blob.objects.bulk_create([Blob(sha256=digest, size=len(data))], ignore_conflicts=True)
    if replica.configured():
        transaction.on_commit(lambda: replicate(digest, data), robust=True)
    return digest


def _from_replica(sha256: str) -> tuple[bytes | None, str]:
    """Return a good copy from the replica and why not if none: "none", "missing", "damaged" or "unavailable"."""
    if not replica.configured():
        return None, "none"
    try:
        data = replica.get(sha256)
    except replica.ReplicaUnavailable as exc:
        logger.warning("documents: replica unavailable while reading %s: %s", sha256, exc.detail.get("reason"))
        return None, "unavailable"
    if data is None:
        return None, "missing"
    if hashlib.sha256(data).hexdigest() != sha256:
        logger.error("documents: the replica's copy of %s is damaged too", sha256)
        return None, "damaged"
    return data, ""


def blob_get(sha256: str) -> bytes:
    """Return the blob's bytes, checking its hash; repair a missing or damaged local copy from the replica."""
    path = blob_path(sha256)
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        logger.warning("documents: cannot read the local copy of %s: %s", sha256, exc)
        data = b""
    if data is not None and hashlib.sha256(data).hexdigest() == sha256:
        return data
    problem = "missing" if data is None else "damaged"
    good, why = _from_replica(sha256)
    if good is None:
        if problem == "missing" and why in {"none", "missing"}:
            raise NotFound(_("Document not found"))
        raise StorageUnavailable(_("The stored document is damaged"), sha256=sha256, local=problem, replica=why)
    try:
        write_local(sha256, good)
    except StorageUnavailable as exc:
        logger.exception("documents: could not write back the local copy of %s: %s", sha256, exc.detail.get("reason"))
    else:
        counters["read_repaired"] += 1
        logger.warning("documents: the local copy of %s was %s; repaired from the replica", sha256, problem)
    return good
