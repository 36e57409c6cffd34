"""A simple local content-addressed blob store (SHA-256), written atomically and durably.

A later issue adds replication, scrubbing and capacity watching; the interface stays put/get.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from licita.core.errors import LicitaError, NotFound


class StorageUnavailable(LicitaError):
    """Raised when the document store cannot take a write."""

    code = "storage_unavailable"
    status = 503


def _root() -> Path:
    return Path(settings.LICITA_DOCUMENTS_DIR)


def blob_path(sha256: str) -> Path:
    """Return where the blob with this hash lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(_("Document not found"))
    return _root() / sha256[:2] / sha256[2:4] / sha256


def blob_put(data: bytes) -> str:
    """Store `data` durably (temp file, fsync, rename, fsync dir) and return its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = blob_path(digest)
    if target.exists() and target.stat().st_size == len(data):
        return digest
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise StorageUnavailable(
            _("The document store cannot take writes right now; nothing was saved. Try again later."),
            reason=exc.strerror or str(exc),
        ) from exc
    return digest


def blob_get(sha256: str) -> bytes:
    """Return the blob's bytes, checking its hash."""
    path = blob_path(sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(_("Document not found")) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StorageUnavailable(_("The stored document is damaged"), sha256=sha256)
    return data
