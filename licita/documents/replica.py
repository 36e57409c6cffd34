"""The replica backend: a copy of every blob in an S3-compatible object store (SeaweedFS in tests, any S3 in production).

The local store and the SHA-256 in the database are the source of truth; the replica is where a damaged or lost
local copy is repaired from. Every call is bounded: short connect and read timeouts (LICITA_S3_TIMEOUT), a single
attempt, and after a failed upload a pause (BREAKER_SECONDS) during which uploads are not tried at all, so a
replica that is down or hangs costs one timeout, not one per upload. Blobs not uploaded then are left to the
scrubber. Objects are keyed `sha256/<hex>` and uploaded with their SHA-256 checksum, which S3 stores verify.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from licita.core.errors import LicitaError

logger = logging.getLogger(__name__)

#: Seconds during which uploads are skipped after one failed (reads and the scrubber still try).
BREAKER_SECONDS = 30.0
CHUNK = 1 << 20

_lock = threading.Lock()
_clients: dict[tuple[str, ...], Any] = {}
_down_until = 0.0


class ReplicaUnavailable(LicitaError):
    """Raised when the replica cannot be reached, times out or answers with an error."""

    code = "replica_unavailable"
    status = 503


def configured() -> bool:
    """Return whether a replica is configured (LICITA_S3_ENDPOINT is not empty)."""
    return bool(settings.LICITA_S3_ENDPOINT)


def key(sha256: str) -> str:
    """Return the object key of a blob."""
    return f"sha256/{sha256}"


def describe() -> str:
    """Return where the replica is, for logs and reports (no credentials)."""
    return f"{settings.LICITA_S3_ENDPOINT}/{settings.LICITA_S3_BUCKET}" if configured() else "none"


def client() -> Any:
    """Return a boto3 S3 client for the configured store (one per configuration, shared by threads)."""
    timeout = float(settings.LICITA_S3_TIMEOUT)
    config_key = (
        settings.LICITA_S3_ENDPOINT,
        settings.LICITA_S3_ACCESS_KEY,
        settings.LICITA_S3_SECRET_KEY,
        settings.LICITA_S3_REGION,
        str(timeout),
    )
    with _lock:
        found = _clients.get(config_key)
        if found is None:
            import boto3  # noqa: PLC0415 - only processes that talk to a replica pay for importing it
            from botocore import UNSIGNED  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415

            signed = bool(settings.LICITA_S3_ACCESS_KEY and settings.LICITA_S3_SECRET_KEY)
            found = boto3.session.Session().client(
                "s3",
                endpoint_url=settings.LICITA_S3_ENDPOINT,
                # Without keys, anonymous requests: never boto3's credential chain, which would look for keys in
                # the environment, in ~/.aws and at a cloud's instance-metadata address.
                aws_access_key_id=settings.LICITA_S3_ACCESS_KEY if signed else None,
                aws_secret_access_key=settings.LICITA_S3_SECRET_KEY if signed else None,
                region_name=settings.LICITA_S3_REGION,
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"total_max_attempts": 1},  # no retries: the scrubber is the retry
                    s3={"addressing_style": "path"},
                    max_pool_connections=10,
                    signature_version=None if signed else UNSIGNED,
                ),
            )
            _clients[config_key] = found
        return found


def reset() -> None:
    """Forget the clients and close the breaker (after the configuration changed; tests)."""
    global _down_until  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _down_until = 0.0


def breaker_open() -> bool:
    """Return whether uploads are paused after a recent failure."""
    return time.monotonic() < _down_until


def trip() -> None:
    """Pause uploads for BREAKER_SECONDS."""
    global _down_until  # noqa: PLW0603
    _down_until = time.monotonic() + BREAKER_SECONDS


def _errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    return (BotoCoreError, ClientError, OSError, ValueError)  # ValueError: a malformed endpoint URL


def _unavailable(exc: BaseException, action: str) -> ReplicaUnavailable:
    return ReplicaUnavailable(
        _("The document replica is unavailable"), action=action, reason=f"{type(exc).__name__}: {exc}"
    )


def _missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}


def put(sha256: str, data: bytes) -> None:
    """Upload a blob; the store checks it against its SHA-256 before keeping it."""
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
    try:
        client().put_object(Bucket=settings.LICITA_S3_BUCKET, Key=key(sha256), Body=data, ChecksumSHA256=checksum)
    except _errors() as exc:
        raise _unavailable(exc, "put") from exc


def get(sha256: str) -> bytes | None:
    """Return the replica's copy of a blob as stored (the caller checks its hash), or None if it has none."""
    try:
        body = client().get_object(Bucket=settings.LICITA_S3_BUCKET, Key=key(sha256))["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()
    except _errors() as exc:
        if _missing(exc):
            return None
        raise _unavailable(exc, "get") from exc


def digest(sha256: str) -> tuple[str, int] | None:
    """Download the replica's copy and return its actual SHA-256 and size, or None if it has none."""
    h = hashlib.sha256()
    size = 0
    try:
        body = client().get_object(Bucket=settings.LICITA_S3_BUCKET, Key=key(sha256))["Body"]
        try:
            for chunk in body.iter_chunks(CHUNK):
                h.update(chunk)
                size += len(chunk)
        finally:
            body.close()
    except _errors() as exc:
        if _missing(exc):
            return None
        raise _unavailable(exc, "get") from exc
    return h.hexdigest(), size
