"""The local store: atomic, durable writes; hash-checked reads; damaged copies kept aside, never deleted."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from licita.core.errors import NotFound
from licita.documents.models import Blob
from licita.documents.store import StorageUnavailable, blob_get, blob_path, blob_put, local_state

pytestmark = pytest.mark.django_db

DATA = b"%PDF-1.4 convocatoria LA-009J3B001-E22-2026"


def _flip(path, at: int = 5) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


def test_blob_put_writes_the_blob_under_its_hash_and_records_it():
    digest = blob_put(DATA)

    assert digest == hashlib.sha256(DATA).hexdigest()
    assert blob_path(digest).read_bytes() == DATA
    assert blob_path(digest).parent.parent.name == digest[:2]
    assert Blob.objects.get(sha256=digest).size == len(DATA)
    assert Blob.objects.get(sha256=digest).replicated_at is None
    assert not [p for p in blob_path(digest).parent.iterdir() if p.name.startswith(".tmp-")]


def test_blob_put_fsyncs_the_file_before_the_rename_and_the_folder_after(monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync-dir" if Path(f"/proc/self/fd/{fd}").is_dir() else "fsync-file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    blob_put(DATA)

    assert events == ["fsync-file", "rename", "fsync-dir"]


def test_blob_put_twice_stores_one_copy_and_one_row():
    first = blob_put(DATA)

    second = blob_put(DATA)

    assert first == second
    assert Blob.objects.count() == 1


def test_blob_put_repairs_a_damaged_copy_of_the_same_content_and_keeps_the_damaged_one():
    digest = blob_put(DATA)
    _flip(blob_path(digest))

    blob_put(DATA)

    assert local_state(digest)[0] == "good"
    kept = list((blob_path(digest).parents[2] / "quarantine").iterdir())
    assert len(kept) == 1
    assert kept[0].name.startswith(digest)
    assert kept[0].read_bytes() != DATA


def test_blob_get_returns_the_bytes_when_the_hash_matches():
    digest = blob_put(DATA)

    assert blob_get(digest) == DATA


def test_blob_get_refuses_a_damaged_copy_without_a_replica():
    digest = blob_put(DATA)
    _flip(blob_path(digest))

    with pytest.raises(StorageUnavailable) as caught:
        blob_get(digest)

    assert caught.value.status == 503
    assert caught.value.detail["local"] == "damaged"


def test_blob_get_of_a_missing_blob_is_not_found():
    with pytest.raises(NotFound):
        blob_get("ab" * 32)


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "AB" * 32, "g" * 64, "a" * 63])
def test_blob_path_refuses_anything_but_a_lowercase_sha256(bad):
    with pytest.raises(NotFound):
        blob_path(bad)


def test_blob_put_on_a_read_only_store_is_unavailable_and_records_nothing(settings, tmp_path):
    settings.LICITA_DOCUMENTS_DIR = tmp_path / "not-a-folder"
    settings.LICITA_DOCUMENTS_DIR.write_text("a file where the store's folder should be")

    with pytest.raises(StorageUnavailable):
        blob_put(DATA)

    assert not Blob.objects.exists()
