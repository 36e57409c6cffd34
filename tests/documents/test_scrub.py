"""The scrubber: re-hash every blob locally and on the replica, repair from a good copy, report what it did."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os

import pytest
from django.core.management import CommandError, call_command

from licita.documents import replica as backend
from licita.documents.models import Blob, ScrubRun
from licita.documents.scrub import scrub, scrub_due, scrub_if_due
from licita.documents.store import blob_path, blob_put

pytestmark = pytest.mark.django_db


def _pdf(tag: str) -> bytes:
    return b"%PDF-1.4\n% " + tag.encode() + os.urandom(1024) + b"\n%%EOF\n"


def _flip(sha256: str) -> bytes:
    raw = bytearray(blob_path(sha256).read_bytes())
    raw[-10] ^= 0x01
    blob_path(sha256).write_bytes(bytes(raw))
    return bytes(raw)


def _put(data: bytes, capture) -> str:
    with capture(execute=True):
        return blob_put(data)


def test_scrub_repairs_a_flipped_local_byte_and_a_deleted_replica_object(replica, django_capture_on_commit_callbacks):
    flipped, deleted, healthy = (_pdf(t) for t in ("flipped", "deleted", "healthy"))
    a, b, _c = (_put(d, django_capture_on_commit_callbacks) for d in (flipped, deleted, healthy))
    _flip(a)
    replica.client().delete_object(Bucket=replica.bucket, Key=backend.key(b))

    report = scrub()

    assert (report.checked, report.replica_checked) == (3, 2)
    assert (report.repaired_local, report.repaired_replica, report.replicated) == (1, 1, 0)
    assert report.unrecoverable == []
    assert report.bytes == len(flipped) + len(deleted) + len(healthy)
    assert blob_path(a).read_bytes() == flipped
    body = replica.client().get_object(Bucket=replica.bucket, Key=backend.key(b))["Body"].read()
    assert body == deleted


def test_scrub_reports_a_blob_with_no_good_copy_and_repairs_nothing_with_bad_bytes(
    replica, django_capture_on_commit_callbacks
):
    data = _pdf("lost")
    digest = _put(data, django_capture_on_commit_callbacks)
    local_bad = _flip(digest)
    replica.client().put_object(Bucket=replica.bucket, Key=backend.key(digest), Body=data[:-1])

    report = scrub()

    assert report.unrecoverable == [digest]
    assert (report.repaired_local, report.repaired_replica, report.replicated) == (0, 0, 0)
    assert blob_path(digest).read_bytes() == local_bad
    body = replica.client().get_object(Bucket=replica.bucket, Key=backend.key(digest))["Body"].read()
    assert body == data[:-1]
    run = ScrubRun.objects.latest()
    assert (run.unrecoverable_count, run.unrecoverable, run.finished_at is not None) == (1, [digest], True)


def test_scrub_repairs_a_damaged_replica_copy(replica, django_capture_on_commit_callbacks):
    data = _pdf("remote rot")
    digest = _put(data, django_capture_on_commit_callbacks)
    replica.client().put_object(Bucket=replica.bucket, Key=backend.key(digest), Body=b"rotten")

    report = scrub()

    assert report.repaired_replica == 1
    body = replica.client().get_object(Bucket=replica.bucket, Key=backend.key(digest))["Body"].read()
    assert hashlib.sha256(body).hexdigest() == digest


def test_scrub_with_the_replica_down_checks_local_copies_and_says_why(replica, django_capture_on_commit_callbacks):
    digest = _put(_pdf("down"), django_capture_on_commit_callbacks)
    replica.stop()

    report = scrub()

    assert (report.checked, report.replica_checked, report.unrecoverable) == (1, 0, [])
    assert "Connect" in report.replica_error or "connect" in report.replica_error
    assert Blob.objects.get(sha256=digest).checked_at is not None


def test_scrub_without_a_replica_reports_a_damaged_local_copy_as_unrecoverable():
    digest = blob_put(_pdf("alone"))
    _flip(digest)

    report = scrub()

    assert report.unrecoverable == [digest]
    assert report.replica == "none"


def test_scrub_finds_blobs_referenced_without_a_blob_row(frozen_clock):
    from tests import factories  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.make_procedure(office)
    data = _pdf("old")
    digest = blob_put(data)
    procedure.documents.create(kind="other", title="t", filename="t.pdf", sha256=digest, size=len(data))
    Blob.objects.all().delete()  # stored before Blob rows were kept

    report = scrub()

    assert report.checked == 1
    assert Blob.objects.filter(sha256=digest).exists()


def test_scrub_runs_at_most_once_per_interval(settings, frozen_clock):
    settings.LICITA_SCRUB_INTERVAL_HOURS = 24
    blob_put(_pdf("daily"))

    first = scrub_if_due()
    second = scrub_if_due()
    frozen_clock.move(hours=24, seconds=1)

    assert first is not None
    assert first.checked == 1
    assert second is None
    assert scrub_due()
    assert ScrubRun.objects.count() == 1
    assert ScrubRun.objects.latest().finished_at == frozen_clock.at - dt.timedelta(hours=24, seconds=1)


def test_scrub_command_prints_the_report_and_fails_on_unrecoverable_blobs():
    good = blob_put(_pdf("good"))
    bad = blob_put(_pdf("bad"))
    _flip(bad)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 blob"):
        call_command("scrub", stdout=out)

    assert "checked 2 blob(s)" in out.getvalue()
    assert f"unrecoverable {bad}" in out.getvalue()
    assert good not in out.getvalue()
