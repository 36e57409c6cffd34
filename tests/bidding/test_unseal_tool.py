"""tools/unseal_share.py: a custodian opens the share handed over by share_claim, offline, with their private key."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from licita.bidding import services as bidding
from licita.procurement.models import Status
from tests import factories

pytestmark = pytest.mark.django_db
TOOL = Path(__file__).resolve().parents[2] / "tools" / "unseal_share.py"


def run_tool(key: Path, share: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--key", str(key), "--share", str(share)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def claimed_share(tmp_path: Path, office: factories.Office, procedure, index: int) -> Path:
    claim = bidding.share_claim(actor=office.custodians[index].user, procedure=procedure)
    path = tmp_path / f"share-{index}.json"
    path.write_text(json.dumps(claim), encoding="utf-8")
    return path


def pem(private_key: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private_key).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_words_from_the_tool_open_the_bids(frozen_clock, tmp_path):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    _supplier, rep = factories.make_supplier()
    bidding.bid_submit(actor=rep, procedure=procedure, lots=[bidding.BidLotInput(lot=1, price="950000.00")])
    frozen_clock.move(days=17)
    raw_key = tmp_path / "admin.key"
    raw_key.write_bytes(office.custodians[0].private_key)
    pem_key = tmp_path / "auditor.pem"
    pem_key.write_bytes(pem(office.custodians[1].private_key))

    results = [
        run_tool(raw_key, claimed_share(tmp_path, office, procedure, 0)),
        run_tool(pem_key, claimed_share(tmp_path, office, procedure, 1)),
    ]

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    words = [r.stdout.strip() for r in results]
    assert all(len(w.split()) >= 20 for w in words)
    bidding.bids_open(actor=office.operator, procedure=procedure, shares=words)
    procedure.refresh_from_db()
    assert procedure.status == Status.OPENED


def test_base64_key_file_gives_the_same_words_as_the_platform_library(frozen_clock, tmp_path):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    custodian = office.custodians[2]
    claim = bidding.share_claim(actor=custodian.user, procedure=procedure)
    share = tmp_path / "share.json"
    share.write_text(json.dumps(claim), encoding="utf-8")
    key = tmp_path / "third.key"
    key.write_text(base64.b64encode(custodian.private_key).decode() + "\n", encoding="ascii")

    result = run_tool(key, share)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == custodian.open_share(claim)
    assert procedure.number in result.stderr


def test_wrong_key_is_a_clear_error_with_exit_status_2(frozen_clock, tmp_path):
    office = factories.make_office()
    procedure = factories.publish(office, factories.make_procedure(office))
    share = claimed_share(tmp_path, office, procedure, 0)
    other = tmp_path / "other.key"
    other.write_bytes(office.custodians[1].private_key)  # another custodian's key

    result = run_tool(other, share)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "does not open with this key" in result.stderr


@pytest.mark.parametrize(
    ("key_bytes", "share_text", "message"),
    [
        (b"not a key", None, "must hold an X25519 key"),
        (None, "{not json", "not JSON"),
        (None, '{"sealed_share": "AAAA", "context": "AAAA"}', "damaged or in an unknown format"),
        (None, '{"sealed_share": "%%%", "context": "AAAA"}', "sealed_share is not valid base64"),
        (None, '{"context": "AAAA"}', "sealed_share is missing"),
    ],
)
def test_bad_files_are_explained_with_exit_status_2(tmp_path, key_bytes, share_text, message):
    key = tmp_path / "key"
    key.write_bytes(key_bytes if key_bytes is not None else X25519PrivateKey.generate().private_bytes_raw())
    share = tmp_path / "share.json"
    share.write_text(share_text if share_text is not None else '{"sealed_share": "AAAA", "context": "AAAA"}')

    result = run_tool(key, share)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_key_file_is_explained_with_exit_status_2(tmp_path):
    share = tmp_path / "share.json"
    share.write_text("{}")

    result = run_tool(tmp_path / "missing.key", share)

    assert result.returncode == 2
    assert "cannot read the private key file" in result.stderr
