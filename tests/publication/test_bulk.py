"""Bulk files: JSON Lines packages and CSV tables that pass the reference OCDS tools, with a manifest."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from licita.publication.bulk import dump_write
from licita.publication.models import Release
from tests import factories
from tests.publication.test_releases import _run_tender

pytestmark = pytest.mark.django_db

SHARED = Path(os.environ.get("LICITA_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
TOOLS = SHARED / "tools"
EXTENSION = Path(__file__).resolve().parents[2] / "licita" / "publication" / "extensions" / "licita_mexico"


def _reference_tools() -> Path:
    if not (TOOLS / "ocds_validate.py").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the reference OCDS tools are missing at {TOOLS}; CI must have ../shared")
        pytest.skip("reference OCDS tools not present (outside CI)")
    return TOOLS


@pytest.fixture
def dump(frozen_clock, tmp_path, settings):
    settings.LICITA_BULK_DIR = tmp_path / "bulk"
    office = factories.make_office()
    _run_tender(frozen_clock, office)
    factories.make_direct_contract(office)
    return dump_write(out=tmp_path / "bulk", name="2026-03-20")


def test_dump_writes_every_file_with_a_true_manifest(dump):
    manifest = json.loads((dump / "manifest.json").read_text())

    names = {f["name"] for f in manifest["files"]}
    assert names == {"releases.jsonl.gz", "records.jsonl.gz"} | {
        f"{t}.csv" for t in ("procedures", "lots", "items", "bids", "awards", "contracts", "parties")
    } | {"ledger-leaves.jsonl.gz", "ledger-checkpoints.jsonl.gz", "ledger-key.txt"}
    for entry in manifest["files"]:
        data = (dump / entry["name"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"])
    with gzip.open(dump / "releases.jsonl.gz", "rt") as fh:
        releases = [r["id"] for line in fh for r in json.loads(line)["releases"]]
    assert releases == list(Release.objects.order_by("id").values_list("release_id", flat=True))
    with gzip.open(dump / "ledger-leaves.jsonl.gz", "rt", encoding="utf-8") as fh:
        logged = [json.loads(line)["release_id"] for line in fh if '"kind":"release"' in line]
    assert logged == releases  # every release of the dump is in the dump's ledger, in order


def test_csv_tables_open_in_a_spreadsheet_with_the_bids_after_opening(dump):
    with (dump / "bids.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))

    assert sorted(r["price"] for r in rows) == ["850000.00", "900000.00"]
    assert all(r["ocid"].startswith("ocds-lct000-") for r in rows)


def test_a_dump_is_never_overwritten(dump):
    with pytest.raises(FileExistsError):
        dump_write(out=dump.parent, name=dump.name)


def test_dump_passes_the_reference_validator_and_compiler(dump, tmp_path):
    tools = _reference_tools()
    records = tmp_path / "records.jsonl"
    with gzip.open(dump / "records.jsonl.gz", "rt") as fh, records.open("w") as out:
        for line in fh:
            for record in json.loads(line)["records"]:
                out.write(json.dumps(record["compiledRelease"]) + "\n")

    validate = {
        engine: subprocess.run(
            [
                sys.executable,
                tools / "ocds_validate.py",
                "--engine",
                engine,
                "--extension",
                EXTENSION,
                dump / "releases.jsonl.gz",
                dump / "records.jsonl.gz",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        for engine in ("jsonschema", "libcoveocds")
    }
    compare = subprocess.run(
        [sys.executable, tools / "ocds_compile.py", dump / "releases.jsonl.gz", "--compare", records],
        capture_output=True,
        text=True,
        check=False,
    )

    for engine, run in validate.items():
        assert run.returncode == 0, engine + run.stdout[-3000:] + run.stderr[-3000:]
        assert " 0 errors" in run.stdout.strip().splitlines()[-1], engine
    assert compare.returncode == 0, compare.stdout[-3000:] + compare.stderr[-3000:]


def test_command_and_endpoint_list_the_dumps(frozen_clock, tmp_path, settings):
    settings.LICITA_BULK_DIR = tmp_path / "bulk"
    office = factories.make_office()
    factories.publish(office, factories.make_procedure(office))

    call_command("ocds", "dump", "--name", "2026-03-02")
    listing = Client().get("/api/ocds/bulk").json()
    download = Client().get(listing[0]["files"][0]["url"])

    body = b"".join(download.streaming_content)
    download.close()

    assert [m["name"] for m in listing] == ["2026-03-02"]
    assert download.status_code == 200
    assert body[:2] == b"\x1f\x8b"


def test_the_bulk_page_lists_every_file(dump, settings):
    response = Client().get("/datos/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "releases.jsonl.gz" in text
    assert "/api/ocds/bulk/2026-03-20/contracts.csv" in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dump_outside_a_transaction_reads_one_snapshot_and_links_every_release(frozen_clock, tmp_path, settings):
    """On PostgreSQL this dump runs its three writers in threads that share an exported snapshot."""
    settings.LICITA_BULK_DIR = tmp_path / "bulk"
    office = factories.make_office()
    _run_tender(frozen_clock, office)
    factories.make_direct_contract(office)

    folder = dump_write(out=tmp_path / "bulk", name="2026-03-21")

    manifest = json.loads((folder / "manifest.json").read_text())
    with gzip.open(folder / "releases.jsonl.gz", "rt") as fh:
        releases = {r["id"]: r for line in fh for r in json.loads(line)["releases"]}
    with gzip.open(folder / "records.jsonl.gz", "rt") as fh:
        records = [r for line in fh for r in json.loads(line)["records"]]
    linked = [link for record in records for link in record["releases"]]
    assert (manifest["releases"], manifest["records"]) == (len(releases), len(records)) == (Release.objects.count(), 2)
    assert sorted(link["url"].rsplit("#", 1)[1] for link in linked) == sorted(releases)
    for link in linked:
        release = releases[link["url"].rsplit("#", 1)[1]]
        assert (link["date"], link["tag"]) == (release["date"], release["tag"])
    served = Client().get(linked[-1]["url"].split("#")[0].removeprefix(settings.LICITA_PUBLIC_URL)).json()
    assert linked[-1]["url"].rsplit("#", 1)[1] in {r["id"] for r in served["releases"]}
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left
