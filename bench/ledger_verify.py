"""Ledger verifier: full verification of a bulk directory of N leaves, timed.

Usage (from the project root)::

    .venv/bin/python bench/ledger_verify.py [--leaves 1000000] [--every 10000] [--keep DIR]

Generates, in a temporary folder (or --keep DIR), a bulk directory as the platform publishes it: N leaves of
canonical JSON of about 200 bytes, kinds mixed (release, document, bid_receipt, key_share, outage, with a
running index), a signed checkpoint every --every leaves (and one at N) with a throwaway Ed25519 key, and
ledger-key.txt. Then times `licita.ledger.verify.verify_bulk` on it (one process, one streaming pass) and
prints the seconds and leaves per second. No releases file: the release cross-check is not part of the figure.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from licita.ledger import merkle
from licita.ledger.canonical import canonical_json
from licita.ledger.note import checkpoint_body, sign_note, verifier_key
from licita.ledger.verify import verify_bulk

ORIGIN = "bench.licita.example/ledger"
KINDS = ["release"] * 6 + ["document"] * 2 + ["bid_receipt", "key_share"]


def _entry(i: int, rng: random.Random) -> dict:
    kind = "outage" if i % 50_000 == 49_999 else KINDS[rng.randrange(len(KINDS))]
    digest = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    at = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
    if kind == "release":
        ocid = f"ocds-b5fd17-LA-{i // 5:07d}"
        return {"kind": kind, "ocid": ocid, "release_id": f"{ocid}-{i % 5:02d}-tender", "sha256": digest, "at": at}
    if kind == "document":
        return {"kind": kind, "document_id": f"DOC-{i:08d}", "sha256": digest, "at": at, "size": rng.randrange(10**6)}
    if kind == "bid_receipt":
        return {"kind": kind, "procedure": f"LA-{i // 7:07d}", "receipt": digest, "at": at, "lot": 1 + i % 3}
    if kind == "key_share":
        return {"kind": kind, "procedure": f"LA-{i // 7:07d}", "custodian": f"C{i % 5}", "sha256": digest, "at": at}
    return {"kind": kind, "from": at, "to": at, "reason": "mantenimiento programado"}


def generate(directory: Path, leaves: int, every: int) -> int:
    key = Ed25519PrivateKey.generate()
    rng = random.Random(6962)
    frontier = merkle.Frontier()
    total_bytes = 0
    checkpoints = []
    with gzip.open(directory / "ledger-leaves.jsonl.gz", "wb", compresslevel=6) as out:
        buffer = []
        for i in range(leaves):
            data = canonical_json({**_entry(i, rng), "index": i})
            total_bytes += len(data)
            buffer.append(data)
            frontier.append(merkle.leaf_hash(data))
            if frontier.size % every == 0 or frontier.size == leaves:
                root = frontier.root()
                note = sign_note(checkpoint_body(ORIGIN, frontier.size, root), ORIGIN, key)
                checkpoints.append({"size": frontier.size, "root": base64.b64encode(root).decode(), "note": note})
            if len(buffer) == 10_000:
                out.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
        if buffer:
            out.write(b"\n".join(buffer) + b"\n")
    with gzip.open(directory / "ledger-checkpoints.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(c) + "\n" for c in checkpoints)
    (directory / "ledger-key.txt").write_text(verifier_key(ORIGIN, key.public_key().public_bytes_raw()) + "\n")
    return total_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the bulk directory here and keep it")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="licita-ledger-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        total = generate(directory, args.leaves, args.every)
        size = (directory / "ledger-leaves.jsonl.gz").stat().st_size
        print(
            f"generated {args.leaves:,} leaves ({total / args.leaves:.0f} bytes each on average, "
            f"{total / 1e6:.0f} MB raw, {size / 1e6:.0f} MB gzipped) in {time.perf_counter() - t0:.1f} s"
        )
        key = (directory / "ledger-key.txt").read_text().strip()
        t0 = time.perf_counter()
        report = verify_bulk(directory, [key], progress=lambda m: print(m, file=sys.stderr, flush=True))
        seconds = time.perf_counter() - t0
        print(report.summary())
        print(f"verify_bulk: {seconds:.2f} s, {args.leaves / seconds:,.0f} leaves/s")
        return 0 if report.ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
