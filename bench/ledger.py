"""Ledger benchmark: append cost, proof latency and full verification of an N-leaf log, on PostgreSQL.

Usage (from the project root)::

    .venv/bin/python bench/ledger.py [--leaves 1000000] [--appends 2000] [--proofs 2000] [--http 500]
        [--every 10000] [--db-url postgres://postgres@127.0.0.1:5432/licita_bench_ledger] [--no-record]

What it does (the scratch database and the temporary folder are always removed at the end, whatever happens):

1. Drops and creates the PostgreSQL database named by --db-url (its name must contain "bench"; trust
   authentication as user postgres, or the current user, on 127.0.0.1:5432), makes a fresh temporary
   LICITA_VAR_DIR (the ledger's signing key is created there) and runs the migrations, in this process with
   Django set up (LICITA_DEBUG=0, so that Django does not keep every query in memory).
2. FAST PATH to N leaves (appending a million leaves one transaction at a time would take the better part of
   an hour; that path is what step 3 measures): the leaves are generated in Python with the shapes the
   services write -- 70 % release leaves (ocid, release id, date, SHA-256), 15 % document leaves (ocid,
   document id, SHA-256, size, file name, title, type), 10 % bid-receipt leaves (ocid, receipt SHA-256,
   commit time), 5 % key-share leaves (ocid, share k of n, share SHA-256), eight leaves per procedure --
   each with its "index", "kind" and "logged_at", serialised with `licita.ledger.canonical.canonical_json`
   and hashed with `licita.ledger.merkle.leaf_hash`, exactly as `ledger_append` does. One pass feeds a
   `merkle.Frontier`: its `append` returns the perfect subtrees each leaf completes, which are the `Node` rows
   `ledger_append` stores. Leaves and nodes go to PostgreSQL with COPY (psycopg `cursor.copy`, two
   connections, written as they are produced), the `Head` row gets the frontier's size and compact range, and
   a checkpoint is signed every --every leaves with the ledger's real key (`note.checkpoint_body` and
   `note.sign_note`, as `checkpoint_sign` does), the last one by `checkpoint_sign` itself. Then VACUUM ANALYZE,
   as autovacuum would have. What it bypasses: the services' own work (a release leaf is normally written by
   `release_emit`, whose release building and schema validation the ledger does not change), and the
   per-leaf head lock and transaction; the resulting rows are the ones those appends would have written.
   The setup checks this: the head's root equals the root computed from the stored leaves by the selectors.
3. Measures, at size ~N:

   * append: --appends calls of `release_logged` (the release leaf of an act: canonical SHA-256 of a 3 KB
     synthetic OCDS release, then `ledger_append`: head row locked, leaf and completed nodes inserted, head
     updated), each in a transaction of its own, one writer. "append" is the time of the call inside the
     transaction -- what the ledger adds to a service's transaction; "act" is the whole transaction, begin
     to commit (the commit's WAL flush is paid by the act anyway, now with a little more to write).
     appends/s is --appends over the total time of the transactions.
   * proofs: --proofs inclusion proofs (random leaf in the whole log) and --proofs consistency proofs
     (random first size up to the whole log), through `licita.ledger.selectors` (one query for the nodes a
     proof needs, then the assembly); then --http of each through the JSON API with Django's test `Client`
     (routing, middleware and JSON rendering; no network, no server). 100 warm-up calls of each first.
   * verification: writes ledger-leaves.jsonl.gz, ledger-checkpoints.jsonl.gz and ledger-key.txt with the
     bulk dump's own code (`licita.publication.bulk._ledger_files`, timed as "ledger files"), then times
     `licita.ledger.verify.main(["--bulk", DIR, "--quiet", "--json"])` in this process: one streaming pass that
     checks every leaf (canonical JSON, index, kind), recomputes the tree and compares its root with every
     checkpoint, and checks every checkpoint's signature. The release cross-check (releases.jsonl.gz) is not
     part of the figure: the synthetic release leaves have no release documents. For information it also
     times the standalone verifier in a fresh process (`python -m licita.ledger.verify --bulk DIR --quiet`).
4. Prints the figures and appends a row to docs/benchmarks.md, section "Ledger (bench/ledger.py)" (append
   only, in one write; the section's text first when it is not the last section), unless --no-record.

Targets (issue #5): appending adds < 2 ms to a service call; proofs < 10 ms; full verification of 1,000,000
leaves < 60 s. Checked on the p99 of the append and of the selectors' proofs, and on the verification's wall
time. Exit status: 0 when every target is met and the verification passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Ledger (bench/ledger.py)"
TARGET_APPEND = 0.002
TARGET_PROOF = 0.010
TARGET_VERIFY = 60.0
PER_PROCEDURE = 8  # leaves per synthetic procedure
BASE = dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC)
KINDS = ["release"] * 14 + ["document"] * 3 + ["bid_receipt"] * 2 + ["key_share"]  # 70 / 15 / 10 / 5 %
_VOCABULARY = (
    "adquisición servicio suministro equipo cómputo mantenimiento vehículos papelería medicamentos material "
    "curación limpieza vigilancia obra rehabilitación carretera escuela hospital consultoría mobiliario"
)
WORDS = _VOCABULARY.split()

INTRO = """
The public ledger (`licita/ledger`) with N leaves in PostgreSQL, loaded by a documented fast path (see the
script's docstring): leaves with the shapes the services write (release, document, bid-receipt and key-share
entries, canonical JSON) and the perfect-subtree nodes `merkle.Frontier` computes for them, loaded with COPY,
the head set to the frontier, a checkpoint signed every 10,000 leaves with the ledger's key. Then, at size ~N:

* **append**: `release_logged` (canonical SHA-256 of a 3 KB release + `ledger_append`: head row locked, leaf and
  completed nodes inserted, head updated), each in its own transaction, one writer: *append* is the call inside
  the transaction (what the ledger adds to a service call), *act* the whole transaction to its commit;
  appends/s = appends over the transactions' total time.
* **proofs**: inclusion proofs of random leaves and consistency proofs from random sizes to the whole log,
  through `licita.ledger.selectors` (one query for the nodes, then assembly), and through the JSON API with
  Django's test `Client` (*HTTP*: routing, middleware, JSON; no network).
* **verify**: the bulk ledger files written by the dump's own code (`_ledger_files`), then
  `licita.ledger.verify.main(["--bulk", DIR, "--quiet"])`, the standalone verifier: every leaf checked, the tree
  recomputed in one streaming pass, every checkpoint's root and signature checked. The release cross-check is
  not included (the synthetic release leaves have no release documents).

Run: `.venv/bin/python bench/ledger.py` (`--leaves`, `--appends`, `--proofs`, `--http`, `--every`, `--db-url`,
`--no-record`).

Targets: **append < 2 ms, proofs < 10 ms (both checked on p99), full verification of 1,000,000 leaves < 60 s.**
"""
TABLE = (
    "| Date (UTC) | Commit | Machine | Leaves | Appends | append p50 / p99 | act p50 / p99 | appends/s "
    "| inclusion p50 / p99 | consistency p50 / p99 | HTTP inclusion p50 / p99 | HTTP consistency p50 / p99 "
    "| ledger files | verify | leaves/s | Targets met |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


class BenchAbort(Exception):
    """Raised to stop the run with a clear message (cleanup still happens)."""


@contextlib.contextmanager
def step(name: str):
    started = time.monotonic()
    print(f"-- {name} ...", flush=True)
    yield
    print(f"   {name}: {time.monotonic() - started:.1f} s", flush=True)


# --- Database ------------------------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    """Return (database name, URL of the maintenance database on the same server)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        raise BenchAbort(f"--db-url must be a postgres:// URL of a database whose name contains 'bench': {url}")
    return name, urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))


def db_drop_create(name: str, maintenance: str, *, create: bool) -> None:
    import psycopg  # noqa: PLC0415 - a Licita dependency
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(db_url: str, var: Path) -> None:
    os.environ |= {
        "LICITA_DATABASE_URL": db_url,
        "LICITA_VAR_DIR": str(var),
        "LICITA_LOG_LEVEL": "WARNING",
        "LICITA_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "licita.settings",
    }
    for key in [k for k in os.environ if k.startswith("LICITA_LEDGER_")]:
        del os.environ[key]  # the benchmark signs with a key of its own, made in the temporary folder
    import django  # noqa: PLC0415

    django.setup()


# --- Fast path -----------------------------------------------------------------------------------


def _sha(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def synthetic_leaf(i: int, rng: random.Random) -> tuple[str, dict[str, Any], str, str]:
    """(kind, entry without index/kind/logged_at, ocid, ref) of leaf i, in the shapes the services write."""
    procedure = i // PER_PROCEDURE
    ocid = f"ocds-lct000-009T{procedure % 997:05d}-2026-{procedure:07d}"
    at = (BASE + dt.timedelta(seconds=37 * i)).isoformat()
    kind = KINDS[rng.randrange(len(KINDS))]
    if kind == "release":
        release_id = f"{ocid}-{i % PER_PROCEDURE + 1:04d}"
        entry = {"ocid": ocid, "release_id": release_id, "date": at, "sha256": _sha("release", i)}
        return kind, entry, ocid, release_id
    if kind == "document":
        title = " ".join(rng.choice(WORDS) for _ in range(4))
        entry = {
            "ocid": ocid,
            "document_id": str(i),
            "sha256": _sha("document", i),
            "size": rng.randrange(10_000, 5_000_000),
            "filename": f"{title.split()[0]}-{i}.pdf",
            "title": title.capitalize(),
            "document_type": rng.choice(["biddingDocuments", "tenderNotice", "technicalSpecifications"]),
        }
        return kind, entry, ocid, str(i)
    if kind == "bid_receipt":
        return kind, {"ocid": ocid, "receipt_sha256": _sha("receipt", i), "committed_at": at}, ocid, f"bid:{i}"
    entry = {"ocid": ocid, "share": 1 + i % 3, "of": 3, "share_sha256": _sha("share", i)}
    return kind, entry, ocid, f"opening:{procedure}"


def fill(dsn: str, n: int, every: int) -> dict[str, Any]:
    """Load n leaves, their nodes, the head and a checkpoint every `every` leaves (see the docstring)."""
    import psycopg  # noqa: PLC0415
    from django.conf import settings  # noqa: PLC0415

    from licita.ledger import merkle, note, services  # noqa: PLC0415
    from licita.ledger.canonical import canonical_json  # noqa: PLC0415

    key = services.ledger_key()
    origin = settings.LICITA_LEDGER_ORIGIN
    rng = random.Random(9162)
    frontier = merkle.Frontier()
    checkpoints: list[tuple[int, str, str, dt.datetime]] = []
    data_bytes = nodes = 0
    started = time.monotonic()
    with (
        psycopg.connect(dsn) as leaf_conn,
        psycopg.connect(dsn) as node_conn,
        leaf_conn.cursor() as leaf_cur,
        node_conn.cursor() as node_cur,
        leaf_cur.copy('COPY ledger_leaf ("index", kind, data, hash, ocid, ref, created_at) FROM STDIN') as leaf_copy,
        node_cur.copy('COPY ledger_node (level, "index", hash) FROM STDIN') as node_copy,
    ):
        for i in range(n):
            kind, entry, ocid, ref = synthetic_leaf(i, rng)
            logged = BASE + dt.timedelta(seconds=37 * i + 1)
            data = canonical_json({**entry, "index": i, "kind": kind, "logged_at": logged.isoformat()})
            digest = merkle.leaf_hash(data)
            data_bytes += len(data)
            leaf_copy.write_row((i, kind, data.decode("utf-8"), digest.hex(), ocid, ref, logged))
            for level, index, h in frontier.append(digest):
                node_copy.write_row((level, index, h))
                nodes += 1
            if frontier.size % every == 0:
                root = frontier.root()
                body = note.checkpoint_body(origin, frontier.size, root)
                checkpoints.append((frontier.size, root.hex(), note.sign_note(body, origin, key), logged))
            if (i + 1) % 200_000 == 0:
                print(f"   ... {i + 1:,} leaves ({time.monotonic() - started:.0f} s)", flush=True)
    stored = frontier.to_json()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO ledger_head (id, size, frontier) VALUES (1, %s, %s)",
            [stored["size"], json.dumps(stored["hashes"])],
        )
        with conn.cursor() as cur, cur.copy("COPY ledger_checkpoint (size, root, note, created_at) FROM STDIN") as cp:
            for row in checkpoints:
                cp.write_row(row)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_leaf, ledger_node, ledger_head, ledger_checkpoint")
    return {"leaves": n, "nodes": nodes, "bytes": data_bytes, "root": frontier.root(), "checkpoints": len(checkpoints)}


def check_loaded(n: int, root: bytes) -> None:
    """The selectors, reading the stored head and nodes, must give the root computed while loading."""
    from licita.ledger import selectors  # noqa: PLC0415

    if selectors.size() != n or selectors.root(n) != root:
        raise BenchAbort("the loaded head and nodes do not give the root computed from the leaves")


# --- Measurements --------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def synthetic_release(i: int) -> dict[str, Any]:
    """A 3 KB OCDS release of the platform's shape (what release_logged hashes)."""
    ocid = f"ocds-lct000-009T00001-2026-{9_000_000 + i:07d}"
    items = [
        {
            "id": str(k),
            "description": f"Bien de la partida {k}: " + " ".join(WORDS[(i + k + j) % len(WORDS)] for j in range(6)),
            "classification": {"scheme": "CUCOP", "id": "25100001", "description": "Material de curación"},
            "quantity": 10 + k,
            "unit": {"name": "pieza", "value": {"amount": 1250.5 + k, "currency": "MXN"}},
            "relatedLot": str(k),
        }
        for k in range(1, 9)
    ]
    return {
        "ocid": ocid,
        "id": f"{ocid}-0001",
        "date": (BASE + dt.timedelta(minutes=i)).isoformat(),
        "tag": ["tender"],
        "initiationType": "tender",
        "language": "es",
        "buyer": {"id": "MX-UC-009T00001", "name": "Dirección de Recursos Materiales"},
        "tender": {
            "id": f"LA-009T00001-E{i}-2026",
            "title": "Adquisición de material de curación",
            "status": "active",
            "procurementMethod": "open",
            "value": {"amount": 1_000_000 + i, "currency": "MXN"},
            "items": items,
        },
    }


def measure_appends(count: int) -> dict[str, Any]:
    from django.db import transaction  # noqa: PLC0415

    from licita.ledger.services import release_logged  # noqa: PLC0415

    releases = [synthetic_release(i) for i in range(count + 50)]
    append: list[float] = []
    act: list[float] = []
    cpu: list[float] = []
    for i, release in enumerate(releases):
        t0 = time.perf_counter()
        with transaction.atomic():
            c1 = time.process_time()
            t1 = time.perf_counter()
            release_logged(release_data=release)
            t2 = time.perf_counter()
            c2 = time.process_time()
        t3 = time.perf_counter()
        if i >= 50:  # the first 50 warm the caches and the connection
            append.append(t2 - t1)
            act.append(t3 - t0)
            cpu.append(c2 - c1)
    size = len(json.dumps(releases[0], ensure_ascii=False).encode())
    return {"append": append, "act": act, "cpu": cpu, "rate": count / sum(act), "release_bytes": size}


def measure_proofs(count: int, http: int) -> dict[str, list[float]]:
    from django.test import Client  # noqa: PLC0415

    from licita.ledger import merkle, selectors  # noqa: PLC0415
    from licita.ledger.models import Leaf  # noqa: PLC0415

    rng = random.Random(6962)
    n = selectors.size()
    root = selectors.root(n)
    results: dict[str, list[float]] = {
        "inclusion": [],
        "consistency": [],
        "http_inclusion": [],
        "http_consistency": [],
    }

    def time_call(name: str, call, total: int) -> None:
        for k in range(total + 100):
            t0 = time.perf_counter()
            call()
            elapsed = time.perf_counter() - t0
            if k >= 100:
                results[name].append(elapsed)

    def inclusion() -> None:
        index = rng.randrange(n)
        proof = selectors.inclusion(index=index)
        if rng.random() < 0.01:  # now and then, check the proof (outside the timing would cost a branch)
            leaf = merkle.leaf_hash(Leaf.objects.get(index=index).data.encode())
            merkle.verify_inclusion(index, n, leaf, proof["proof"], root)

    def consistency() -> None:
        first = rng.randrange(1, n)
        proof = selectors.consistency(first=first)
        if rng.random() < 0.01:
            merkle.verify_consistency(first, n, proof["first_root"], root, proof["proof"])

    client = Client()

    def http_get(path: str, params: dict[str, int]) -> None:
        response = client.get(path, params)
        if response.status_code != 200:
            raise BenchAbort(f"GET {path} {params}: HTTP {response.status_code} {response.content[:200]!r}")

    time_call("inclusion", inclusion, count)
    time_call("consistency", consistency, count)
    time_call("http_inclusion", lambda: http_get("/api/ledger/proof/inclusion", {"index": rng.randrange(n)}), http)
    time_call(
        "http_consistency", lambda: http_get("/api/ledger/proof/consistency", {"first": rng.randrange(1, n)}), http
    )
    return results


def measure_verification(directory: Path) -> dict[str, Any]:
    from django.db import transaction  # noqa: PLC0415

    from licita.ledger import verify  # noqa: PLC0415
    from licita.ledger.services import checkpoint_tick  # noqa: PLC0415
    from licita.publication.bulk import _ledger_files  # noqa: PLC0415

    checkpoint_tick()  # as dump_write does: the files end with a checkpoint covering the whole log
    directory.mkdir(parents=True)
    t0 = time.perf_counter()
    with transaction.atomic():
        files = _ledger_files(directory, None)
    files_seconds = time.perf_counter() - t0
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    status = verify.main(["--bulk", str(directory), "--quiet", "--json"], stdout=out, stderr=err)
    seconds = time.perf_counter() - t0
    report = json.loads(out.getvalue())
    if status != 0 or not report.get("ok"):
        raise BenchAbort(f"the verification failed (exit {status}): {out.getvalue()[-2000:]} {err.getvalue()[-500:]}")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "licita.ledger.verify", "--bulk", str(directory), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    standalone = time.perf_counter() - t0
    if done.returncode != 0:
        raise BenchAbort(f"the standalone verifier failed (exit {done.returncode}): {done.stdout[-1000:]}")
    sizes = {f["name"]: f["size"] for f in files}
    return {
        "seconds": seconds,
        "standalone": standalone,
        "files_seconds": files_seconds,
        "leaves": report["leaves"],
        "checkpoints": report["checkpoints"],
        "gz_bytes": sizes.get("ledger-leaves.jsonl.gz", 0),
    }


# --- Report --------------------------------------------------------------------------------------


def machine(pg: str, load_before: float) -> dict[str, str]:
    cpu, ram = "unknown", "unknown"
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "unknown",
        )
    with contextlib.suppress(OSError, ValueError, StopIteration):
        kb = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
        ram = f"{int(kb.split()[1]) / 1024 / 1024:.0f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "licita"], cwd=ROOT, check=False).returncode
    return {
        "description": f"{cpu}, {len(os.sched_getaffinity(0))} cores, {ram}, Python {platform.python_version()}, "
        f"PostgreSQL {pg}, load {load_before:.1f} before / {os.getloadavg()[0]:.1f} after",
        "commit": commit + (" + uncommitted licita/ changes" if dirty else ""),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def p50_p99(values: list[float]) -> str:
    return f"{ms(statistics.median(values))} / {ms(pct(values, 99))}"


def record(row: str) -> None:
    """Append the row under this benchmark's table in one write (the section first, when it is not last)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    block = "" if text.endswith("\n") else "\n"
    if SECTION not in headings:
        block += f"\n{SECTION}\n{INTRO}\n{TABLE}"
    elif headings[-1] not in {SECTION, SECTION + ": more results"}:  # another section follows ours
        block += f"\n{SECTION}: more results\n\nWhat is measured: see the first section of that name above.\n\n{TABLE}"
    block += row + "\n"
    with DOCS.open("a", encoding="utf-8") as fh:
        fh.write(block)


# --- Main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Ledger: append cost, proof latency and verification time at N leaves.")
    p.add_argument("--leaves", type=int, default=1_000_000, help="leaves loaded by the fast path (1,000,000)")
    p.add_argument("--appends", type=int, default=2_000, help="appends measured, each in its own transaction")
    p.add_argument("--proofs", type=int, default=2_000, help="proofs of each kind measured through the selectors")
    p.add_argument("--http", type=int, default=500, help="proofs of each kind measured through the JSON API")
    p.add_argument("--every", type=int, default=10_000, help="a checkpoint every this many leaves (10,000)")
    p.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/licita_bench_ledger")
    p.add_argument("--no-record", action="store_true", help="do not append the results to docs/benchmarks.md")
    args = p.parse_args(argv)
    if args.leaves < 2 or args.appends < 1 or args.proofs < 1 or args.http < 1 or args.every < 1:
        p.error("--leaves >= 2 and --appends, --proofs, --http, --every >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name, maintenance = admin_url(args.db_url)
    dsn = args.db_url.replace("postgres://", "postgresql://", 1)
    var = Path(tempfile.mkdtemp(prefix="licita-bench-ledger-"))
    load_before = os.getloadavg()[0]
    try:
        with step(f"database {name}"):
            db_drop_create(name, maintenance, create=True)
            django_setup(args.db_url, var)
            from django.core.management import call_command  # noqa: PLC0415
            from django.db import connection  # noqa: PLC0415

            call_command("migrate", verbosity=0, interactive=False)
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                pg = cursor.fetchone()[0].split()[0]
        with step(f"fast path to {args.leaves:,} leaves"):
            loaded = fill(dsn, args.leaves, args.every)
            from licita.ledger.services import checkpoint_sign  # noqa: PLC0415

            check_loaded(args.leaves, loaded["root"])
            checkpoint_sign()
            print(
                f"   {loaded['leaves']:,} leaves ({loaded['bytes'] / loaded['leaves']:.0f} bytes of JSON each), "
                f"{loaded['nodes']:,} nodes, {loaded['checkpoints'] + 1:,} checkpoints"
            )
        with step(f"{args.appends:,} appends, each in its own transaction"):
            appends = measure_appends(args.appends)
        with step(f"{args.proofs:,} + {args.proofs:,} proofs, {args.http:,} + {args.http:,} through the API"):
            proofs = measure_proofs(args.proofs, args.http)
        with step("ledger files and full verification"):
            verification = measure_verification(var / "bulk")
    except BenchAbort as exc:
        print(f"ABORTED: {exc}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
        with contextlib.suppress(Exception):
            db_drop_create(name, maintenance, create=False)
        shutil.rmtree(var, ignore_errors=True)

    append_p99 = pct(appends["append"], 99)
    proof_p99 = max(pct(proofs["inclusion"], 99), pct(proofs["consistency"], 99))
    met = {
        "append": append_p99 < TARGET_APPEND,
        "proofs": proof_p99 < TARGET_PROOF,
        "verify": verification["seconds"] < TARGET_VERIFY,
    }
    leaves = verification["leaves"]
    print()
    print(f"log: {leaves:,} leaves at the verification ({args.leaves:,} loaded + {args.appends + 50:,} appended)")
    print(f"append (release_logged in the act's transaction): p50/p99 {p50_p99(appends['append'])}")
    print(f"  of which this process's CPU time:                p50/p99 {p50_p99(appends['cpu'])}")
    print(f"act (begin, append, commit):                       p50/p99 {p50_p99(appends['act'])}")
    print(f"appends/s (one writer, a transaction each):        {appends['rate']:,.0f}")
    for label, key in (
        ("inclusion proof (selectors)", "inclusion"),
        ("consistency proof (selectors)", "consistency"),
        ("inclusion proof (HTTP, test Client)", "http_inclusion"),
        ("consistency proof (HTTP, test Client)", "http_consistency"),
    ):
        print(f"{label + ':':48} p50/p99 {p50_p99(proofs[key])}")
    print(
        f"ledger files (_ledger_files): {verification['files_seconds']:.1f} s, "
        f"leaves file {verification['gz_bytes'] / 2**20:,.0f} MiB gzipped"
    )
    print(
        f"verification (verify.main, in process): {verification['seconds']:.1f} s, "
        f"{leaves / verification['seconds']:,.0f} leaves/s, {verification['checkpoints']:,} checkpoints; "
        f"standalone process: {verification['standalone']:.1f} s"
    )
    print(
        "targets: "
        + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items())
        + " (append p99 < 2 ms, proofs p99 < 10 ms, verification < 60 s)"
    )
    if not args.no_record:
        info = machine(pg, load_before)
        row = (
            f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {info['commit']} | {info['description']} "
            f"| {leaves:,} | {args.appends:,} | {p50_p99(appends['append'])} | {p50_p99(appends['act'])} "
            f"| {appends['rate']:,.0f} | {p50_p99(proofs['inclusion'])} | {p50_p99(proofs['consistency'])} "
            f"| {p50_p99(proofs['http_inclusion'])} | {p50_p99(proofs['http_consistency'])} "
            f"| {verification['files_seconds']:.1f} s | **{verification['seconds']:.1f} s** "
            f"| {leaves / verification['seconds']:,.0f} "
            f"| {'yes' if all(met.values()) else 'no (' + ', '.join(k for k, v in met.items() if not v) + ')'} |"
        )
        record(row)
        print(f"appended a row to {DOCS.relative_to(ROOT)}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
