"""Backups, restores and restore drills, on the test database of the run's vendor (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sqlite3
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from licita.bidding import services as bidding
from licita.bidding.models import Bid
from licita.documents.models import Document
from licita.documents.services import document_attach
from licita.documents.store import blob_path, blob_put
from licita.ledger import selectors
from licita.ops.backup import (
    MANIFEST,
    BackupDamaged,
    BackupError,
    TargetNotEmpty,
    backup_create,
    backup_restore,
)
from licita.ops.models import RestoreDrill
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # users here never sign in


@pytest.fixture
def platform():
    """A published procedure with a document and two sealed bids, and a blob left by a rolled-back act."""
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    document_attach(
        actor=office.operator,
        procedure=procedure,
        kind="biddingDocuments",
        title="Bases de la licitación",
        filename="bases.pdf",
        content_b64=base64.b64encode(b"%PDF-1.4 bases " * 500).decode(),
    )
    for price in ("1000.00", "2000.00"):
        _supplier, rep = factories.make_supplier()
        bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price=price)])
    orphan = ""
    with contextlib.suppress(RuntimeError), transaction.atomic():
        orphan = blob_put(b"written by a bid whose transaction then rolled back")
        raise RuntimeError
    assert blob_path(orphan).is_file()
    return {"procedure": procedure, "orphan": orphan}


@pytest.fixture
def target(tmp_path):
    """A scratch restore target of the run's vendor: a SQLite file, or a PostgreSQL database (dropped after)."""
    if connection.vendor == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "restored.sqlite3")}
        return
    db = dict(connection.settings_dict) | {"NAME": f"{connection.settings_dict['NAME']}_restore"}
    yield db
    import psycopg  # noqa: PLC0415

    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None}
    with psycopg.connect(dbname="postgres", password=db["PASSWORD"] or None, autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')


def _restored_count(db, table: str) -> int:
    if connection.vendor == "sqlite":
        with contextlib.closing(sqlite3.connect(db["NAME"])) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
    import psycopg  # noqa: PLC0415

    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None}
    with psycopg.connect(dbname=db["NAME"], password=db["PASSWORD"] or None, **params) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608


def _backup(tmp_path) -> tuple:
    out = tmp_path / "backups"
    stdout = StringIO()
    call_command("backup", "--out", str(out), stdout=stdout, stderr=StringIO())
    folder = out / stdout.getvalue().strip().rsplit("/", 1)[-1]
    return folder, json.loads((folder / MANIFEST).read_text())


def test_backup_holds_the_database_and_every_referenced_blob_with_their_hashes(platform, tmp_path):
    folder, manifest = _backup(tmp_path)

    referenced = set(Document.objects.values_list("sha256", flat=True)) | set(
        Bid.objects.values_list("sealed_sha256", flat=True)
    )
    files = {f["path"]: f for f in manifest["files"]}
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["bidding_bid"] == 2
    assert manifest["tables"]["documents_document"] == 1
    assert manifest["ledger"] == {"size": selectors.size(), "root": selectors.root(selectors.size()).hex()}
    assert manifest["documents"]["count"] == len(referenced) == 3
    for sha in referenced:
        entry = files[f"documents/{sha[:2]}/{sha[2:4]}/{sha}"]
        assert entry["sha256"] == sha == hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest()
    assert not any(platform["orphan"] in path for path in files)
    for entry in manifest["files"]:
        assert hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left behind


def test_backup_refuses_a_missing_blob_and_leaves_nothing_behind(platform, tmp_path):
    bid = Bid.objects.first()
    blob_path(bid.sealed_sha256).unlink()
    out = tmp_path / "backups"

    with pytest.raises(BackupError) as refused:
        backup_create(out=out)

    assert bid.sealed_sha256 in refused.value.message
    assert list(out.iterdir()) == []


def test_restore_refuses_a_damaged_backup_naming_the_file_and_touches_nothing(platform, tmp_path, target):
    folder, manifest = _backup(tmp_path)
    damaged = folder / next(f["path"] for f in manifest["files"] if f["path"].startswith("documents/"))
    data = bytearray(damaged.read_bytes())
    data[10] ^= 0xFF
    damaged.write_bytes(bytes(data))

    with pytest.raises(BackupDamaged) as refused:
        backup_restore(backup=folder, database=target, documents=tmp_path / "restored-documents")

    assert str(damaged) in refused.value.message
    assert not (tmp_path / "restored-documents").exists()
    if connection.vendor == "sqlite":
        assert not (tmp_path / "restored.sqlite3").exists()


def test_restore_refuses_a_non_empty_target_unless_forced(platform, tmp_path, target):
    folder, manifest = _backup(tmp_path)
    documents = tmp_path / "restored-documents"
    backup_restore(backup=folder, database=target, documents=documents)

    with pytest.raises(TargetNotEmpty) as refused:
        backup_restore(backup=folder, database=target, documents=documents)
    backup_restore(backup=folder, database=target, documents=documents, force=True)

    assert "has tables" in refused.value.message
    assert _restored_count(target, "bidding_bid") == 2
    assert _restored_count(target, "ledger_leaf") == manifest["ledger"]["size"]
    sha = Bid.objects.first().sealed_sha256
    assert hashlib.sha256((documents / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() == sha


def test_drill_restores_the_latest_backup_proves_it_equal_and_records_it(platform, tmp_path):
    folder, manifest = _backup(tmp_path)
    stdout = StringIO()

    call_command("drill", "--from", str(folder.parent), stdout=stdout, stderr=StringIO())

    output = stdout.getvalue()
    drill = RestoreDrill.objects.get()
    assert "Drill passed" in output
    assert "DIFFERS" not in output
    ledger_line = next(x for x in output.splitlines() if x.startswith("ledger root from the leaves"))
    assert ledger_line.split()[-3:] == [manifest["ledger"]["root"], manifest["ledger"]["root"], "ok"]
    assert drill.result == RestoreDrill.Result.PASSED
    assert drill.backup == str(folder)
    assert drill.summary["ledger_size"] == manifest["ledger"]["size"] > 0
    assert drill.restore_seconds is not None
    assert drill.differences == []


def test_drill_exits_1_and_records_the_difference_when_the_restored_copy_differs(platform, tmp_path):
    folder, manifest = _backup(tmp_path)
    manifest["tables"]["bidding_bid"] += 1  # the source had one bid more than the copy holds
    (folder / MANIFEST).write_text(json.dumps(manifest))
    stdout = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("drill", "--from", str(folder), stdout=stdout, stderr=StringIO())

    assert failed.value.returncode == 1
    line = next(x for x in stdout.getvalue().splitlines() if x.startswith("rows in bidding_bid"))
    assert line.split()[3:] == ["3", "2", "DIFFERS"]
    drill = RestoreDrill.objects.get()
    assert drill.result == RestoreDrill.Result.FAILED
    assert drill.differences == [{"what": "rows in bidding_bid", "expected": "3", "found": "2"}]
