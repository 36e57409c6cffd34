"""Replication to a real S3 store (SeaweedFS on loopback): uploads, a replica that hangs or is down, read repair."""

from __future__ import annotations

import base64
import hashlib
import os
import time

import pytest

from licita.documents import replica as backend
from licita.documents import store
from licita.documents.models import Blob
from licita.documents.scrub import scrub
from licita.documents.services import document_attach
from licita.documents.store import blob_get, blob_path, blob_put
from tests import factories

from .conftest import HANG_TIMEOUT

pytestmark = pytest.mark.django_db


def _pdf(tag: str = "") -> bytes:
    return b"%PDF-1.4\n% " + tag.encode() + os.urandom(2048) + b"\n%%EOF\n"


def _remote(seaweed, sha256: str) -> bytes:
    return seaweed.client().get_object(Bucket=seaweed.bucket, Key=backend.key(sha256))["Body"].read()


def _remote_exists(seaweed, sha256: str) -> bool:
    try:
        seaweed.client().head_object(Bucket=seaweed.bucket, Key=backend.key(sha256))
    except Exception:
        return False
    return True


def _put(data: bytes, capture) -> str:
    with capture(execute=True):
        return blob_put(data)


def test_upload_puts_the_same_bytes_on_local_disk_and_in_the_bucket(replica, django_capture_on_commit_callbacks):
    data = _pdf("upload")

    digest = _put(data, django_capture_on_commit_callbacks)

    assert hashlib.sha256(blob_path(digest).read_bytes()).hexdigest() == digest
    assert hashlib.sha256(_remote(replica, digest)).hexdigest() == digest
    assert Blob.objects.get(sha256=digest).replicated_at is not None


def test_upload_waits_for_the_commit_before_replicating(replica, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        digest = blob_put(_pdf("rolled back"))

    assert len(callbacks) == 1  # run only if the caller's transaction commits
    assert not _remote_exists(replica, digest)


def test_document_attach_with_a_frozen_replica_succeeds_locally_within_the_timeout(
    replica, short_timeout, frozen_clock, django_capture_on_commit_callbacks
):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    data = _pdf("frozen")
    backend.client().list_buckets()  # the process's client exists already, as it does after the first upload
    replica.freeze()
    try:
        with django_capture_on_commit_callbacks() as after_commit:
            document = document_attach(
                actor=office.operator,
                procedure=procedure,
                kind="tenderNotice",
                title="Convocatoria",
                filename="convocatoria.pdf",
                content_b64=base64.b64encode(data).decode(),
            )
        started = time.monotonic()
        for callback in after_commit:  # what runs once the transaction has committed: the upload
            callback()
        waited = time.monotonic() - started
    finally:
        replica.thaw()

    # Measured: about 2 s, that is 1 s for "100 Continue" (botocore's own wait) and the read timeout; not the
    # default 60 s read timeout and retries. The margin is for a loaded CI machine.
    assert waited < 2 * HANG_TIMEOUT + 1.5
    assert blob_path(document.sha256).read_bytes() == data
    assert Blob.objects.get(sha256=document.sha256).replicated_at is None
    short_timeout()  # the store is healthy again
    report = scrub()
    # The timed-out request may still reach the thawed server and store the object, which the scrub then finds
    # good (and records); otherwise the scrub uploads it. Either way the replica ends up with a good copy.
    assert report.replicated == 1 or report.replica_checked == 1
    assert report.unrecoverable == []
    assert hashlib.sha256(_remote(replica, document.sha256)).hexdigest() == document.sha256
    assert Blob.objects.get(sha256=document.sha256).replicated_at is not None


def test_uploads_skip_the_replica_for_a_while_after_it_failed(
    replica, short_timeout, django_capture_on_commit_callbacks
):
    replica.freeze()
    try:
        _put(_pdf("first"), django_capture_on_commit_callbacks)
        started = time.monotonic()
        second = _put(_pdf("second"), django_capture_on_commit_callbacks)
        elapsed = time.monotonic() - started
    finally:
        replica.thaw()

    assert elapsed < HANG_TIMEOUT / 2  # the breaker is open: no second timeout
    assert backend.breaker_open()
    assert Blob.objects.get(sha256=second).replicated_at is None


def test_upload_with_the_replica_stopped_succeeds_locally_and_is_replicated_after_restart(
    replica, short_timeout, django_capture_on_commit_callbacks
):
    data = _pdf("stopped")
    replica.stop()

    started = time.monotonic()
    digest = _put(data, django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started
    replica.start()
    short_timeout()
    report = scrub()

    assert elapsed < HANG_TIMEOUT + 2.0
    assert blob_path(digest).read_bytes() == data
    assert report.replicated == 1
    assert report.replica_error == ""
    assert _remote(replica, digest) == data


def test_blob_get_of_a_damaged_local_copy_returns_the_replicas_and_repairs_the_file(
    replica, django_capture_on_commit_callbacks
):
    data = _pdf("flip")
    digest = _put(data, django_capture_on_commit_callbacks)
    raw = bytearray(blob_path(digest).read_bytes())
    raw[100] ^= 0x40
    blob_path(digest).write_bytes(bytes(raw))
    before = store.counters["read_repaired"]

    got = blob_get(digest)

    assert got == data
    assert blob_path(digest).read_bytes() == data
    assert store.counters["read_repaired"] == before + 1
    assert [p.read_bytes() for p in (blob_path(digest).parents[2] / "quarantine").iterdir()] == [bytes(raw)]


def test_blob_get_of_a_missing_local_copy_is_served_from_the_replica(replica, django_capture_on_commit_callbacks):
    data = _pdf("missing")
    digest = _put(data, django_capture_on_commit_callbacks)
    blob_path(digest).unlink()

    assert blob_get(digest) == data
    assert blob_path(digest).read_bytes() == data


def test_blob_get_refuses_when_both_copies_are_damaged(replica, django_capture_on_commit_callbacks):
    data = _pdf("both")
    digest = _put(data, django_capture_on_commit_callbacks)
    blob_path(digest).write_bytes(data[:-1])
    replica.client().put_object(Bucket=replica.bucket, Key=backend.key(digest), Body=data[:-2])

    with pytest.raises(store.StorageUnavailable) as caught:
        blob_get(digest)

    assert (caught.value.detail["local"], caught.value.detail["replica"]) == ("damaged", "damaged")
    assert blob_path(digest).read_bytes() == data[:-1]  # nothing "repaired" with bad bytes
