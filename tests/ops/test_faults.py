"""Real storage faults (root only: tmpfs mounts, read-only remounts, EIO injected into fsync with strace).

Each test ends with "acknowledged = stored": every document the API acknowledged is in the database and
on disk with its hash, and nothing else was written. Under CI=true (which runs as root) they never skip.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from licita.documents.models import Document
from licita.ops import state
from licita.ops.models import Incident
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _need(capability: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {capability} is missing: these fault tests must run in CI")
    pytest.skip(f"needs {capability}")


def _root_and_mount() -> None:
    _need("root (mounts)", os.geteuid() == 0 and shutil.which("mount") is not None)


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs mounted for the test (the document volume), unmounted at the end."""
    _root_and_mount()
    mount = tmp_path / "documents"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _pdf(n: int, size: int = 150_000) -> dict[str, str]:
    body = b"%PDF-1.4\n" + hashlib.sha256(str(n).encode()).digest() * (size // 32) + b"\n%%EOF\n"
    return {
        "kind": "technicalSpecifications",
        "title": f"Anexo {n}",
        "filename": f"anexo-{n}.pdf",
        "content_b64": base64.b64encode(body).decode(),
    }


def _acknowledged_equals_stored(procedure, acknowledged: list[str], documents_dir: Path) -> None:
    stored = list(Document.objects.filter(procedure=procedure).values_list("sha256", flat=True))
    assert sorted(stored) == sorted(acknowledged)
    for digest in acknowledged:
        blob = documents_dir / digest[:2] / digest[2:4] / digest
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == digest


@pytest.fixture
def office_procedure(frozen_clock):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    return office, procedure


def _fill(api, procedure, start: int = 0) -> tuple[list[str], object]:
    """Attach documents until one is refused; return the acknowledged hashes and the refusal."""
    acknowledged: list[str] = []
    for n in range(start, start + 30):
        response = api.post(f"/procedures/{procedure.number}/documents", _pdf(n))
        if response.status_code != 201:
            return acknowledged, response
        acknowledged.append(response.json()["sha256"])
    pytest.fail("the volume never filled up")


def test_a_full_document_volume_refuses_clearly_and_keeps_serving_reads(client, settings, tmpfs, office_procedure):
    settings.LICITA_DOCUMENTS_DIR = tmpfs
    settings.LICITA_READONLY_PROBE_SECONDS = 3600  # no floor: the write itself meets ENOSPC
    office, procedure = office_procedure
    api = ApiClient(office.operator)

    acknowledged, refused = _fill(api, procedure)

    assert acknowledged, "the volume took no document at all"
    assert refused.status_code == 503
    assert refused["Retry-After"]
    assert "ENOSPC" in refused.json()["message"]
    _acknowledged_equals_stored(procedure, acknowledged, tmpfs)
    assert client.get(f"/procedimientos/{procedure.number}/").status_code == 200
    assert client.get(f"/api/procedures/{procedure.number}")["X-Licita-Mode"] == "read-only"
    assert not list(tmpfs.rglob(".tmp-*"))  # no half-written file left behind


def test_a_filling_volume_stops_at_the_floor_and_writes_resume_when_space_is_added(
    client, settings, tmpfs, office_procedure
):
    settings.LICITA_DOCUMENTS_DIR = tmpfs
    settings.LICITA_READONLY_PROBE_SECONDS = 0
    settings.LICITA_MIN_FREE_BYTES = 400_000  # of a 1 MiB volume
    office, procedure = office_procedure
    api = ApiClient(office.operator)

    acknowledged, refused = _fill(api, procedure)

    assert acknowledged
    assert refused.status_code == 503
    assert refused["Retry-After"] == "60"
    assert "low disk space" in refused.json()["message"]
    assert client.get(f"/procedimientos/{procedure.number}/").status_code == 200
    assert client.get(f"/api/procedures/{procedure.number}")["X-Licita-Mode"] == "read-only"
    _acknowledged_equals_stored(procedure, acknowledged, tmpfs)

    subprocess.run(["mount", "-o", "remount,size=8m", str(tmpfs)], check=True)
    resumed = api.post(f"/procedures/{procedure.number}/documents", _pdf(100))

    assert resumed.status_code == 201
    acknowledged.append(resumed.json()["sha256"])
    _acknowledged_equals_stored(procedure, acknowledged, tmpfs)
    assert state.current(fresh=True) is None
    assert Incident.objects.filter(components=["documents"], ended_at__isnull=False).exists()


def test_a_read_only_document_volume_turns_the_platform_read_only_until_it_is_writable(
    client, settings, tmpfs, office_procedure
):
    settings.LICITA_DOCUMENTS_DIR = tmpfs
    settings.LICITA_READONLY_PROBE_SECONDS = 0
    office, procedure = office_procedure
    api = ApiClient(office.operator)
    first = api.post(f"/procedures/{procedure.number}/documents", _pdf(1))
    assert first.status_code == 201
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)

    refused = api.post(f"/procedures/{procedure.number}/documents", _pdf(2))
    again = api.post(f"/procedures/{procedure.number}/documents", _pdf(3))
    download = client.get(first.json()["url"])

    assert refused.status_code == 503
    assert again.status_code == 503
    assert again.json()["code"] == "read_only"
    assert "EROFS" in again.json()["message"]
    assert download.status_code == 200
    _acknowledged_equals_stored(procedure, [first.json()["sha256"]], tmpfs)

    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    resumed = api.post(f"/procedures/{procedure.number}/documents", _pdf(4))
    assert resumed.status_code == 201
    _acknowledged_equals_stored(procedure, [first.json()["sha256"], resumed.json()["sha256"]], tmpfs)


def test_an_fsync_that_fails_with_eio_acknowledges_nothing(tmp_path):
    """The real store, in a process whose every fsync fails (strace fault injection)."""
    _need("strace", shutil.which("strace") is not None)
    documents = tmp_path / "documents"
    runtime = tmp_path / "run"
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["DJANGO_SETTINGS_MODULE"] = "licita.settings"
        os.environ["LICITA_DOCUMENTS_DIR"] = {str(documents)!r}
        os.environ["LICITA_RUNTIME_DIR"] = {str(runtime)!r}
        os.environ["LICITA_VAR_DIR"] = {str(tmp_path / "var")!r}
        import django
        django.setup()
        from licita.documents.store import StorageUnavailable, blob_put
        try:
            digest = blob_put(b"%PDF-1.4 acta de apertura")
        except StorageUnavailable as exc:
            print("REFUSED", exc.message)
            sys.exit(0)
        print("ACKNOWLEDGED", digest)
        sys.exit(1)
        """
    )
    result = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=fsync",
            "-e",
            "inject=fsync:error=EIO",
            sys.executable,
            "-c",
            script,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "REFUSED" in result.stdout
    assert not [p for p in documents.rglob("*") if p.is_file() and not p.name.startswith(".")]
    settings_state = (runtime / "write-state.json").read_text()
    assert "EIO" in settings_state
