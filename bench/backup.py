"""Backup, restore and recovery: how long an operator waits, measured from outside the commands.

Usage (from the project root)::

    .venv/bin/python bench/backup.py [--gb 10] [--dir /tmp] [--runs 3] [--no-documents] [--no-crash]
        [--no-failover] [--keep] [--no-record]

What it does, in a scratch folder (removed at the end unless --keep):

1. Demo data set: `licita migrate` and `licita demo` into a scratch SQLite database (WAL, synchronous=FULL),
   then times `licita backup`, `licita restore` (into a second scratch SQLite file and document folder) and
   `licita drill` (which must pass), each as a child process: wall time, including Python's and Django's
   start-up (about 1.5-3 s of every figure here).
2. N GB of documents (--gb, default 10, decimal GB): random blobs of 1-16 MiB (an urandom pool, a distinct
   32-byte head per blob) are written straight into the document store and attached to a demo procedure as
   `Document` rows (and `documents.Blob` rows) with bulk inserts: a documented fast path (no ledger leaf, no
   release per document). The blobs are flushed and evicted from the page cache (posix_fadvise DONTNEED on
   these files only, no global cache drop), and so is the backup before the restore: the figures are cold
   reads, not page-cache copies. Then backup, restore and drill are timed as in 1. Needs about 3 x N GB free.
3. kill -9 of the application server: gunicorn (the command line `licita serve` builds: 2 workers x 4 threads)
   on the demo database, a burst of bids over the API from 8 threads, SIGKILL to the server's process group
   mid-burst, restart; the time from the restart to the first 200 of a read (GET /api/procedures/{number}),
   --runs times, and once more with `licita serve --no-worker` (which runs Django's system checks first). Every
   acknowledged bid must be in the database.
4. Promotion (root and PostgreSQL 15 binaries needed): scripts/pg-standby.sh setup on free ports, `licita migrate`
   on the primary, a burst of bids through the service from a child process, SIGKILL to the primary's
   postmaster, `pg-standby.sh promote`; the time from the kill to the first committed write on the promoted
   standby, and whether every acknowledged bid is there. Then a point-in-time recovery to the end of the WAL
   archive (`pg-standby.sh pitr`) is timed and checked the same way.

It prints the figures and appends one row per measurement to the section "## Backup, restore and recovery
(bench/backup.py)" of docs/benchmarks.md (append only). Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ops import crashkit  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Backup, restore and recovery (bench/backup.py)"
HEADER = (
    "| Date (UTC) | Commit | Machine | Measurement | Data | Time | Rate | Check |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
SECTION_TEXT = f"""
{SECTION}

How long an operator waits for `licita backup`, `licita restore` and `licita drill`, and how long the
platform is unavailable after a crash of the application server or of the PostgreSQL primary. Times are wall
times of the commands run as child processes (Python's and Django's start-up, 1.5-3 s, included). "Demo" is
`licita demo` in a scratch SQLite database; "N GB" adds N decimal GB of random 1-16 MiB documents to it (a
documented bulk-insert fast path), read cold (the files are evicted from the page cache before each timed
step). The restore goes into an empty scratch database and document folder; the drill restores into a scratch
location and compares row counts, every document's SHA-256 and the ledger root recomputed from the restored
leaves (it must pass). "kill -9" rows: a burst of bids over the API, SIGKILL to the server's process group,
restart, time to the first successful read; 0 acknowledged bids may be lost. "Promotion" rows: SIGKILL to the
primary's postmaster during a burst of bids through the service, `scripts/pg-standby.sh promote`, time to the
first committed write on the promoted standby; then a point-in-time recovery to the end of the WAL archive.

Run: `.venv/bin/python bench/backup.py --gb 10` (`--dir`, `--runs`, `--no-documents`, `--no-crash`,
`--no-failover`, `--keep`, `--no-record`).

{HEADER}"""
MIB = 2**20


class BenchAbort(Exception):
    """Raised to stop the run with a clear message (cleanup still happens)."""


# --- Measuring ----------------------------------------------------------------------------------------------


def timed(args: list[str], env: dict[str, str], what: str, timeout: float = 3600) -> tuple[float, str]:
    """Run `python -m licita ARGS` (or a module) and return (wall seconds, stdout); abort on failure."""
    started = time.monotonic()
    try:
        out = crashkit.licita(args, env, timeout=timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        raise BenchAbort(f"{what}: {exc}") from None
    return time.monotonic() - started, out


def evict(root: Path) -> None:
    """Flush and drop this folder's files from the page cache (only these files: nobody else's cache)."""
    os.sync()
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with suppress(OSError):
                fd = os.open(Path(dirpath) / name, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def size_text(n: float) -> str:
    if n >= 10**9:
        return f"{n / 10**9:.2f} GB"
    if n >= 10**6:
        return f"{n / 10**6:.1f} MB"
    return f"{n / 10**3:.0f} kB"


# --- Documents (run in a child process with Django set up on the scratch database) ---------------------------


def internal_documents(gb: float, seed: int) -> None:
    """Write random blobs totalling `gb` GB into the store and attach them to a procedure (bulk inserts)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    import django  # noqa: PLC0415

    django.setup()
    import hashlib  # noqa: PLC0415

    from django.conf import settings  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415

    from licita.documents import models as documents  # noqa: PLC0415
    from licita.procurement.models import Procedure  # noqa: PLC0415

    rng = random.Random(seed)
    pool = os.urandom(64 * MIB)
    view = memoryview(pool)
    root = Path(settings.LICITA_DOCUMENTS_DIR)
    procedure = Procedure.objects.exclude(status="draft").order_by("pk").first()
    target = int(gb * 10**9)
    started = time.monotonic()
    rows, blobs, written, n = [], [], 0, 0
    while written < target:
        size = min(rng.randint(1 * MIB, 16 * MIB), max(target - written, 33))
        head = hashlib.sha256(f"{seed}-{n}".encode()).digest()
        offset = rng.randrange(0, len(pool) - size)
        body = view[offset : offset + size - len(head)]
        digest = hashlib.sha256(head)
        digest.update(body)
        sha = digest.hexdigest()
        path = root / sha[:2] / sha[2:4] / sha
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fh.write(head)
            fh.write(body)
        rows.append(
            documents.Document(
                procedure=procedure,
                kind="other",
                title=f"Anexo de prueba {n}",
                filename=f"anexo-{n}.bin",
                sha256=sha,
                size=size,
            )
        )
        if hasattr(documents, "Blob"):
            blobs.append(documents.Blob(sha256=sha, size=size))
        written += size
        n += 1
    os.sync()
    with transaction.atomic():
        documents.Document.objects.bulk_create(rows, batch_size=500)
        if blobs:
            documents.Blob.objects.bulk_create(blobs, batch_size=500, ignore_conflicts=True)
    print(json.dumps({"count": n, "bytes": written, "seconds": round(time.monotonic() - started, 1)}))


# --- Phases -------------------------------------------------------------------------------------------------


def backup_restore_drill(env: dict[str, str], scratch: Path, label: str, *, cold: bool) -> list[dict[str, Any]]:
    """Time backup, restore and drill of the scratch platform; return the table rows."""
    var = Path(env["LICITA_VAR_DIR"])
    slug = "".join(c if c.isalnum() else "-" for c in label)
    backups = scratch / f"backups-{slug}"
    if cold:
        evict(var)
    seconds, out = timed(["backup", "--out", str(backups)], env, f"backup ({label})")
    folder = Path(out.strip().splitlines()[-1])
    manifest = json.loads((folder / "manifest.json").read_text())
    rows_total = sum(manifest["tables"].values())
    docs, nbytes = manifest["documents"]["count"], manifest["documents"]["bytes"]
    size = folder_bytes(folder)
    data = f"{label}: {rows_total:,} rows, {docs:,} documents ({size_text(nbytes)})"
    print(f"   backup: {seconds:.1f} s, {size_text(size)} written to {folder}", flush=True)
    results = [
        {
            "what": f"`licita backup` ({label})",
            "data": data,
            "seconds": seconds,
            "rate": size / seconds,
            "check": f"backup {size_text(size)}, manifest of {len(manifest['files']):,} files",
        }
    ]
    restored = scratch / f"restored-{slug}"
    if cold:
        evict(folder)
    seconds, _out = timed(
        [
            "restore",
            "--from",
            str(folder),
            "--database-url",
            f"sqlite:///{restored / 'licita.sqlite3'}",
            "--documents-dir",
            str(restored / "documents"),
        ],
        env,
        f"restore ({label})",
    )
    same = folder_bytes(restored) == size - (folder / "manifest.json").stat().st_size
    print(f"   restore: {seconds:.1f} s (sizes {'match' if same else 'DIFFER'})", flush=True)
    results.append(
        {
            "what": f"`licita restore` ({label})",
            "data": data,
            "seconds": seconds,
            "rate": size / seconds,
            "check": "hashes verified first; sizes match" if same else "sizes DIFFER",
            "ok": same,
        }
    )
    shutil.rmtree(restored, ignore_errors=True)
    if cold:
        evict(folder)
    started = time.monotonic()
    done = subprocess.run(
        [crashkit.PYTHON, "-m", "licita", "drill", "--from", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    seconds = time.monotonic() - started
    passed = done.returncode == 0 and "Drill passed" in done.stdout
    checks = sum(1 for line in done.stdout.splitlines() if line.rstrip().endswith((" ok", " DIFFERS")))
    print(f"   drill: {seconds:.1f} s, {'passed' if passed else 'FAILED'} ({checks} checks)", flush=True)
    if not passed:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
    results.append(
        {
            "what": f"`licita drill` ({label})",
            "data": data,
            "seconds": seconds,
            "rate": size / seconds,
            "check": f"passed, {checks} checks equal" if passed else "FAILED",
            "ok": passed,
        }
    )
    shutil.rmtree(backups, ignore_errors=True)
    return results


def crash_recovery(env: dict[str, str], scratch: Path, runs: int) -> list[dict[str, Any]]:
    """kill -9 of the app server during a burst; time from restart to the first good read; bids lost."""
    scene = json.loads(timed(["tests.ops.crashkit", "scene", "--suppliers", "16"], env, "scene")[1])
    read = f"/api/procedures/{scene['procedure']}"
    results = []
    for via, count in (("gunicorn", runs), ("serve", 1)):
        times, acked, lost = [], 0, 0
        for _ in range(count):
            port = crashkit.free_port()
            server = crashkit.server_start(env, port, scratch / "server.log", via=via)
            restarted = None
            try:
                crashkit.wait_ready(port, read, timeout=60)
                burst = crashkit.Burst(port=port, scene=scene, threads=8)
                burst.start()
                burst.wait_for(25, timeout=60)
                server.kill()
                time.sleep(0.2)
                burst.finish()
                restarted = crashkit.server_start(env, port, scratch / "server.log", via=via)
                times.append(crashkit.wait_ready(port, read, timeout=60))
            finally:
                server.stop()
                if restarted is not None:
                    restarted.stop()
            stored = {
                row[0]
                for row in crashkit.Scratch(env=env, var=Path(env["LICITA_VAR_DIR"])).query(
                    "SELECT id FROM bidding_bid"
                )
            }
            acked += len(burst.acknowledged)
            lost += sum(1 for a in burst.acknowledged if a["id"] not in stored)
        label = "gunicorn (as `licita serve` runs it)" if via == "gunicorn" else "`licita serve --no-worker`"
        figure = (
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s" if count > 1 else f"{times[0]:.2f} s"
        )
        print(
            f"   kill -9 of {label}: reads again after {figure}; {lost} of {acked} acknowledged bids lost", flush=True
        )
        results.append(
            {
                "what": f"kill -9 of {label} mid-burst → reads again",
                "data": f"demo SQLite, {count} run{'s' if count > 1 else ''}, 8 clients",
                "seconds": statistics.median(times),
                "figure": figure,
                "rate": None,
                "check": f"{lost} of {acked} acknowledged bids lost",
                "ok": lost == 0,
            }
        )
    return results


def failover(scratch: Path) -> list[dict[str, Any]]:
    """kill -9 of the PostgreSQL primary during a burst, promotion, then PITR to the end of the archive."""
    results = []
    with crashkit.cluster() as pg:
        crashkit.pg_admin(pg.url(pg.primary_port), 'CREATE DATABASE "licita"')
        env = crashkit.base_env(scratch / "var-pg") | {"LICITA_DATABASE_URL": pg.url(pg.primary_port, "licita")}
        quick = env | {"PGOPTIONS": "-c synchronous_commit=off"}
        timed(["migrate", "--noinput", "-v0"], quick, "migrate on the primary")
        scene_file = scratch / "scene-pg.json"
        scene_file.write_text(timed(["tests.ops.crashkit", "scene", "--suppliers", "8"], quick, "scene")[1])
        burst = subprocess.Popen(
            [crashkit.PYTHON, "-m", "tests.ops.crashkit", "burst", "--scene", str(scene_file), "--threads", "4"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: list[dict[str, Any]] = []
        reader = threading.Thread(target=lambda: lines.extend(json.loads(x) for x in burst.stdout), daemon=True)
        reader.start()
        started = time.monotonic()
        while sum("id" in x for x in lines) < 100 and burst.poll() is None and time.monotonic() - started < 120:
            time.sleep(0.01)
        killed = time.monotonic()
        os.kill(pg.postmaster_pid(), signal.SIGKILL)
        pg.script("promote")
        promoted = time.monotonic() - killed
        crashkit.wait_writable(pg.url(pg.standby_port, "licita"), timeout=60)
        writable = time.monotonic() - killed
        burst.wait(timeout=60)
        reader.join(timeout=10)
        burst.stdout.close()
        acked = [x["id"] for x in lines if "id" in x]
        new_primary = crashkit.Scratch(env={}, var=scratch, pg_url=pg.url(pg.standby_port, "licita"))
        stored = {row[0] for row in new_primary.query("SELECT id FROM bidding_bid")}
        lost = sum(1 for pk in acked if pk not in stored)
        print(
            f"   promotion: promote returned {promoted:.2f} s after the kill, first write at {writable:.2f} s; "
            f"{lost} of {len(acked)} acknowledged bids lost",
            flush=True,
        )
        results.append(
            {
                "what": "kill -9 of the PostgreSQL primary mid-burst → promoted standby takes a write",
                "data": f"sync standby, {len(stored):,} bids on the new primary",
                "seconds": writable,
                "figure": f"{writable:.2f} s (promote returned at {promoted:.2f} s)",
                "rate": None,
                "check": f"{lost} of {len(acked)} acknowledged bids lost",
                "ok": lost == 0 and bool(acked),
            }
        )
        # Point-in-time recovery to the end of the archive: the new primary's current segment is archived first.
        crashkit.pg_admin(pg.url(pg.standby_port), "SELECT pg_switch_wal()")
        time.sleep(1.5)
        target = pg.base.parent / "pitr"
        env_pitr = pg.env | {"PITR_PORT": str(crashkit.free_port())}
        started = time.monotonic()
        done = subprocess.run(
            ["bash", str(crashkit.SCRIPT), "pitr", str(target)],
            env=env_pitr,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        pitr_seconds = time.monotonic() - started
        if done.returncode != 0:
            raise BenchAbort(f"pitr failed: {done.stdout}\n{done.stderr}")
        recovered = crashkit.Scratch(
            env={}, var=scratch, pg_url=f"postgresql://postgres@127.0.0.1:{env_pitr['PITR_PORT']}/licita"
        )
        in_pitr = {row[0] for row in recovered.query("SELECT id FROM bidding_bid")}
        missing = sum(1 for pk in acked if pk not in in_pitr)
        pid = int((target / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGQUIT)
        print(
            f"   PITR to the end of the archive: {pitr_seconds:.2f} s; {missing} of {len(acked)} missing", flush=True
        )
        results.append(
            {
                "what": "point-in-time recovery (base backup + WAL archive) to the end of the archive",
                "data": f"`pg-standby.sh pitr`, {len(in_pitr):,} bids recovered",
                "seconds": pitr_seconds,
                "rate": None,
                "check": f"{missing} of {len(acked)} acknowledged bids missing",
                "ok": missing == 0,
            }
        )
    return results


# --- Recording ----------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} × {cpu}, {ram} RAM, Python {platform.python_version()}, load {load:.1f} at the end"


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if changed else "")


def record(results: list[dict[str, Any]]) -> None:
    """Append the rows to docs/benchmarks.md (append only: others edit that file too)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else "# Benchmarks\n"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    when = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"
    where, sha = machine(), commit()
    with DOCS.open("a", encoding="utf-8") as f:
        if not text.endswith("\n"):
            f.write("\n")
        if SECTION not in headings:
            f.write(SECTION_TEXT)
        elif headings[-1] not in {SECTION, SECTION + ": more results"}:  # another section follows ours
            f.write(f"\n{SECTION}: more results\n\nWhat is measured: see the first section of that name above.\n\n")
            f.write(HEADER)
        for r in results:
            figure = r.get("figure") or f"{r['seconds']:.1f} s"
            rate = f"{size_text(r['rate'])}/s" if r.get("rate") else "-"
            f.write(f"| {when} | {sha} | {where} | {r['what']} | {r['data']} | {figure} | {rate} | {r['check']} |\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--gb", type=float, default=10.0, help="GB of documents (decimal) for the large run")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the scratch folder goes")
    parser.add_argument("--runs", type=int, default=3, help="kill -9 and restart runs of gunicorn")
    parser.add_argument("--no-documents", action="store_true", help="skip the N GB run")
    parser.add_argument("--no-crash", action="store_true", help="skip the kill -9 of the application server")
    parser.add_argument("--no-failover", action="store_true", help="skip the PostgreSQL promotion and PITR")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--internal-documents", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal_documents is not None:
        internal_documents(args.internal_documents, seed=1)
        return 0

    free = shutil.disk_usage(args.dir).free
    need = int(3.2 * args.gb * 10**9)
    if not args.no_documents and free < need:
        print(
            f"{args.gb:g} GB of documents needs about {need / 10**9:.0f} GB free in {args.dir} (source, backup, "
            f"restored copy); {free / 10**9:.0f} GB are: use --gb {free / 3.5e9:.0f} or less",
            file=sys.stderr,
        )
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="licita-bench-backup-", dir=args.dir))
    env = crashkit.base_env(scratch / "var")
    results: list[dict[str, Any]] = []
    ok = True
    try:
        print("-- demo data set (licita migrate + licita demo, SQLite) ...", flush=True)
        seconds = timed(["migrate", "--noinput", "-v0"], env, "migrate")[0]
        seconds += timed(["demo"], env, "demo", timeout=1800)[0]
        print(f"   {seconds:.0f} s", flush=True)
        print("-- backup, restore, drill of the demo ...", flush=True)
        results += backup_restore_drill(env, scratch, "demo", cold=False)
        if not args.no_documents:
            print(f"-- {args.gb:g} GB of documents ...", flush=True)
            seconds, out = timed(
                ["bench.backup", "--internal-documents", str(args.gb)], env, "documents", timeout=7200
            )
            made = json.loads(out.strip().splitlines()[-1])
            print(f"   {made['count']:,} blobs, {size_text(made['bytes'])} written in {seconds:.0f} s", flush=True)
            results += backup_restore_drill(env, scratch, f"demo + {args.gb:g} GB", cold=True)
        if not args.no_crash:
            print("-- kill -9 of the application server ...", flush=True)
            results += crash_recovery(env, scratch, args.runs)
        if not args.no_failover:
            if os.geteuid() != 0:
                print("-- promotion: skipped (needs root to run the clusters as postgres)", flush=True)
            else:
                print("-- kill -9 of the PostgreSQL primary, promotion, PITR ...", flush=True)
                results += failover(scratch)
    except BenchAbort as exc:
        print(f"ABORTED: {exc}", file=sys.stderr)
        ok = False
    finally:
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    ok = ok and all(r.get("ok", True) for r in results)
    print()
    for r in results:
        figure = r.get("figure") or f"{r['seconds']:.1f} s"
        print(f"{r['what']:<75} {figure:<36} {r['check']}")
    if results and not args.no_record:
        record(results)
        print(f"Appended {len(results)} rows to {DOCS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
