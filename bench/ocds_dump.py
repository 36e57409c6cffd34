"""OCDS bulk dump: `licita ocds dump` over N releases, timed and measured, its files verified.

Usage (from the project root)::

    .venv/bin/python bench/ocds_dump.py [--releases 1000000]
        [--db-url postgres://postgres@127.0.0.1:5432/licita_bench_dump] [--timeout 600] [--no-record]

What it does, end to end (bounded by --timeout in total; the database and the temporary folder are always
removed at the end, whatever happens):

1. Drops and creates the PostgreSQL database named by --db-url (its name must contain "bench"), makes a fresh
   temporary LICITA_VAR_DIR and runs `licita migrate`.
2. Seeds real data through the services, in a subprocess with Django set up (`tests/factories.py` helpers and
   `licita.procurement.services`): an office (unit, buyers, auditor, custodians), a supplier, a direct award
   (Art. 42) of one lot taken through five acts that each emit a release -- award, contract signed, contract
   amendment, payment, milestone met -- with the clock frozen one act after another, and a published
   licitación with two lots. The five releases of the direct award, and the procedure's compiled and versioned
   record after each act, are the templates of the fast path.
3. FAST PATH to N releases (emitting a million releases through the services would take hours):

   * N - (real releases) synthetic releases, five per procedure, over P = ceil(that / 5) procedures. The P
     procedures are server-side copies of the template procedure row (`INSERT ... SELECT ... FROM
     generate_series`) with a unique expediente and number (the services' formats, sequence numbers from
     100001) and a varying estimated value; its lot, item, award, contract, contract amendment, payment and
     milestone rows are copied the same way for each new procedure (contract code derived from the new
     number), so every foreign key (unit, institution, supplier) points at a real row and the CSV tables
     have P rows each.
   * Releases, written with PostgreSQL COPY (psycopg `cursor.copy`): each is the template release of the
     same act (the JSON the platform stored, as `data::text`) with the procedure's own expediente and number
     (hence ocid, release id, tender/award/contract ids), act timestamps, amounts, and -- so that the files
     compress like real data, not like one release repeated -- its own title, item description, contract
     amendment and milestone texts (random Spanish procurement words) and one of 20,000 synthetic suppliers
     (name and RFC). Procedures start two minutes apart and their acts are days apart; releases are inserted
     in act-date order, so a procedure's releases are interleaved with thousands of others' as on a live
     platform (release ids and heap order are not clustered by procedure). The feed position (`seq`, or
     `xid` in older schemas) is a running number after the real releases'.
   * Records, also by COPY, one per procedure: the template's compiled and versioned release after the same
     number of acts with the same replacements, release_count and first/last publication dates to match.
   * Releases and records are loaded in parallel (two connections), then VACUUM ANALYZEd, as autovacuum
     would have done on a live database, and a CHECKPOINT is taken so the dump does not pay for the load.

   What it bypasses, and why that is fair for measuring the dump: `release_emit` (no `build_release` from
   the procedure's rows, no JSON Schema validation against OCDS 1.1.5 + extensions, no feed sequencer), the
   merge `Compiler` (the records are not recompiled: the template's compiled/versioned JSON is reused with
   the same substitutions), the services' permission, legal-basis and state checks, audit entries and
   per-row ORM saves. None of that runs during a dump: `dump_write` only reads Release.data,
   Record.ocid/compiled/versioned and the CSV tables' columns, and what it reads here has the shape and size
   of what the platform writes (the templates are real releases and records, validated when emitted:
   ~2.9 KiB of JSON per release, ~16 KiB of compiled + versioned per record), stored the same way (compact
   JSON text, TOASTed with the server's default compression) and in a realistic physical order. One column is not
   realistic: `Record.state` (the compiler's incremental state, ~33 KB per record) holds a small
   placeholder in the synthetic records, because writing 200,000 real ones would double the load time and
   the dump never reads that column (it is TOASTed out of line, so its size does not slow the dump either).
   The data is still more uniform than real data (one buyer, one kind of procedure), so gzip may find it
   somewhat easier to compress than the platform's real files.
4. Runs `licita ocds dump --out DIR --name bench` in a child process (under `/usr/bin/time -v` when present,
   else polling the child's VmHWM) and measures its wall time, CPU time and peak RSS; the progress lines it
   prints give the time of each phase (releases, records, CSV tables) and VmRSS is sampled every 50 ms per
   phase. PostgreSQL's temporary-file bytes written during the dump come from pg_stat_database. A dump
   still running when only the verification's share of --timeout is left is killed, and recorded as such.
5. Verifies the dump (two worker processes): manifest release count == N and record count == procedures,
   each file's size and SHA-256 match the manifest, releases.jsonl.gz decompresses to the end (gzip CRC and
   length checked) and every line parses as a release package, with N releases in all and no duplicate id;
   records.jsonl.gz decompresses to the end with one record package per line; CSV row counts match.
6. Prints the figures and appends them to docs/benchmarks.md, section "OCDS bulk dump (bench/ocds_dump.py)"
   (append only, in one write).

Targets: the dump of 1,000,000 releases in under 60 s with a peak RSS under 500 MB, on the 2-core machine.
Exit status: 0 when every check passes and both targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## OCDS bulk dump (bench/ocds_dump.py)"
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 500.0
PER_PROCEDURE = 5  # releases of the template procedure (its five acts)
SEQ0 = 100_000  # synthetic procedures get sequence numbers SEQ0 + 1, SEQ0 + 2, ...
SLOT = dt.timedelta(minutes=2)  # synthetic procedures start this far apart
ACT_DAYS = (0, 1, 3, 10, 12)  # days from the award to each act of the template procedure
BASE = dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC)  # the template procedure's award
STATE_PLACEHOLDER = '{"bench": "compiler state omitted by bench/ocds_dump.py (the dump does not read it)"}'
TIME_BIN = "/usr/bin/time"
# Texts of the template procedure that each synthetic procedure gets its own version of, so that the files
# compress like real data rather than like one release repeated (gzip's cost depends on it).
TITLE = "Adquisición de material de curación"
ITEM = "Bien de la partida 1"
AMENDMENT = "Ampliación del plazo de entrega"
RATIONALE = "Causas de fuerza mayor acreditadas por el proveedor"
MILESTONE = "Entrega total"
SUPPLIERS = 20_000  # synthetic procedures award to one of this many suppliers (names and RFCs in the JSON)
_VOCABULARY = (
    "adquisición servicio suministro equipo cómputo mantenimiento preventivo correctivo vehículos papelería "
    "medicamentos material curación limpieza vigilancia obra pública rehabilitación carretera escuela hospital "
    "consultoría arrendamiento mobiliario software licencias capacitación uniformes combustible alimentos "
    "laboratorio reactivos oficinas centrales delegación estatal red eléctrica agua potable drenaje pavimento "
    "señalización transporte personal fotocopiado impresión digitalización archivo seguros bienes patrimoniales "
    "jardinería fumigación comedor víveres refacciones llantas lubricantes herramientas ferretería pintura "
    "aire acondicionado elevadores telecomunicaciones enlaces internet telefonía radiocomunicación cámaras "
    "mobiliario escolar libros de texto vacunas jeringas guantes cubrebocas oxígeno ambulancias camillas"
)
WORDS = _VOCABULARY.split()


class BenchAbort(Exception):
    """Raised to stop the run with a clear message (cleanup still happens)."""


# --- Time bound ----------------------------------------------------------------------------------

_deadline = math.inf


def remaining() -> float:
    """Seconds left before the whole run must stop."""
    left = _deadline - time.monotonic()
    if left <= 0:
        raise BenchAbort("the run took longer than --timeout; aborting")
    return left


def _on_signal(signum: int, frame: Any) -> None:
    raise BenchAbort(f"{'time is up (--timeout)' if signum == signal.SIGALRM else f'signal {signum}'}; aborting")


@contextlib.contextmanager
def step(name: str):
    started = time.monotonic()
    print(f"-- {name} ...", flush=True)
    yield
    print(f"   {name}: {time.monotonic() - started:.1f} s", flush=True)


def run(cmd: list[str], env: dict[str, str], what: str) -> str:
    """Run a subprocess to completion within the time left; abort with its output when it fails."""
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=remaining(), check=False)
    except subprocess.TimeoutExpired:
        raise BenchAbort(f"{what} did not finish within --timeout; aborting") from None
    if done.returncode != 0:
        raise BenchAbort(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


# --- Database ------------------------------------------------------------------------------------


def split_db_url(url: str) -> tuple[str, str]:
    """Return (database name, URL of the maintenance database `postgres` on the same server)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchAbort(f"--db-url must be a postgres:// URL, got {url!r}")
    name = parts.path.lstrip("/")
    if not name:
        raise BenchAbort("--db-url must name a database")
    return name, urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def pg_admin(admin_url: str, statement: Any) -> None:
    import psycopg  # noqa: PLC0415 - a Licita dependency, imported where needed

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


def db_recreate(name: str, admin_url: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    pg_admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    pg_admin(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def db_drop(name: str, admin_url: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    pg_admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- Seed: real procedures through the services (subprocess with Django) --------------------------


def internal_seed(out: Path) -> None:
    """Create the template direct award (five acts) and a published licitación; write the templates."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from licita.core import clock  # noqa: PLC0415
    from licita.procurement import services as proc  # noqa: PLC0415
    from tests import factories  # noqa: PLC0415

    acts = [BASE + dt.timedelta(days=d) for d in ACT_DAYS]
    snapshots: list[dict[str, str]] = []

    def snapshot(procedure_id: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT compiled::text, versioned::text FROM publication_record WHERE procedure_id = %s",
                [procedure_id],
            )
            compiled, versioned = cursor.fetchone()
        snapshots.append({"compiled": compiled, "versioned": versioned})

    try:
        clock.set_now(BASE - dt.timedelta(days=1))
        office = factories.make_office()
        supplier, _rep = factories.make_supplier()
        procedure = factories.make_procedure(
            office,
            title=TITLE,
            procedure_type="adjudicacion",
            legal_basis="art42",
            lots=factories.lots_input("200000"),
        )
        clock.set_now(acts[0])
        (award,) = proc.award_direct(
            actor=office.operator,
            procedure=procedure,
            supplier_rfc=supplier.rfc,
            lots=[proc.DirectAwardLot(lot=1, value="200000")],
        )
        snapshot(procedure.pk)
        clock.set_now(acts[1])
        contract = proc.contract_sign(
            actor=office.operator, award=award, start_date=dt.date(2026, 1, 12), end_date=dt.date(2026, 6, 30)
        )
        snapshot(procedure.pk)
        clock.set_now(acts[2])
        proc.contract_amend(
            actor=office.operator,
            contract=contract,
            description=AMENDMENT,
            rationale=RATIONALE,
            value_change="20000",
            new_end_date=dt.date(2026, 7, 31),
        )
        snapshot(procedure.pk)
        clock.set_now(acts[3])
        proc.payment_record(actor=office.operator, contract=contract, amount="100000", description="Primer pago")
        snapshot(procedure.pk)
        clock.set_now(acts[4])
        proc.milestone_record(
            actor=office.operator, contract=contract, title=MILESTONE, due_date=dt.date(2026, 2, 15), met=True
        )
        snapshot(procedure.pk)
        # Another real procedure, of another kind, so the dump is not made of one shape only.
        clock.set_now(acts[4] + dt.timedelta(days=1))
        tender = factories.make_procedure(office, lots=factories.lots_input("500000.00", "750000.00"))
        factories.publish(office, tender)
    finally:
        clock.set_now(None)

    procedure.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ocid, release_id, tags::text, data::text FROM publication_release"
            " WHERE procedure_id = %s ORDER BY id",
            [procedure.pk],
        )
        releases = [dict(zip(("ocid", "release_id", "tags", "data"), row, strict=True)) for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM publication_release")
        real_releases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM publication_record")
        real_records = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    if len(releases) != PER_PROCEDURE or len(snapshots) != PER_PROCEDURE:
        msg = f"the template procedure has {len(releases)} releases, expected {PER_PROCEDURE}"
        raise RuntimeError(msg)
    out.write_text(
        json.dumps(
            {
                "ocid_prefix": settings.LICITA_OCID_PREFIX,
                "procedure_id": procedure.pk,
                "expediente": procedure.expediente,
                "number": procedure.number,
                "acts": [a.isoformat().replace("+00:00", "Z") for a in acts],
                "releases": releases,
                "records": snapshots,
                "real_releases": real_releases,
                "real_records": real_records,
                "server_version": server_version,
                "supplier_name": supplier.name,
                "supplier_rfc": supplier.rfc,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


# --- Fast path: N releases by COPY -----------------------------------------------------------------


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_format(text: str, slots: dict[str, str]) -> str:
    """Turn a COPY text line into a `str.format` template: each literal in `slots` becomes `{name}`.

    The text is escaped for COPY's text format first (backslashes doubled; jsonb output never contains raw
    tabs or newlines), and braces are doubled so that only the slots are fields.
    """
    text = text.replace("\\", "\\\\")
    alternatives = []
    for literal in sorted(slots, key=len, reverse=True):
        if re.fullmatch(r"\d+\.\d+", literal):  # an amount: not inside a longer number
            alternatives.append(rf"(?<![\d.]){re.escape(literal)}(?![\d])")
        else:
            alternatives.append(re.escape(literal))
    pattern = re.compile("|".join(alternatives))
    pieces, pos = [], 0
    for match in pattern.finditer(text):
        pieces.append(text[pos : match.start()].replace("{", "{{").replace("}", "}}"))
        pieces.append("{" + slots[match.group(0)] + "}")
        pos = match.end()
    pieces.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(pieces)


def columns(conn: Any, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s"
        " ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows if r[0] != "id"]


def clone(conn: Any, table: str, overrides: dict[str, str], source: str, params: dict[str, Any]) -> int:
    """INSERT a copy of the template's `table` rows for every new procedure; return the rows inserted."""
    cols = columns(conn, table)
    exprs = [overrides.get(c, f"t.{c}") for c in cols]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} {source}"
    return conn.execute(sql, params).rowcount


def in_threads(*calls: Any) -> list[Any]:
    """Run the calls in threads at once and return their results; give up (BenchAbort) when time is up.

    The threads are not waited for on failure: the caller's cleanup drops the database, which ends them.
    """
    pool = ThreadPoolExecutor(max_workers=len(calls))
    try:
        jobs = [pool.submit(call) for call in calls]
        return [job.result(timeout=remaining()) for job in jobs]
    except FutureTimeout:
        raise BenchAbort("the run took longer than --timeout; aborting") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def generate(db_url: str, seed: dict[str, Any], n: int) -> dict[str, Any]:
    """Load the synthetic procedures, releases and records; return counts and timings."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    timings: dict[str, float] = {}
    synthetic = n - seed["real_releases"]
    if synthetic < 1:
        raise BenchAbort(f"--releases must be more than the {seed['real_releases']} real releases")
    procedures = math.ceil(synthetic / PER_PROCEDURE)
    expediente, number = seed["expediente"], seed["number"]
    exp_prefix = re.fullmatch(r"(.*-)\d+", expediente).group(1)
    num_match = re.fullmatch(r"(.*-E)\d+(-\d{4})", number)
    num_prefix, num_suffix = num_match.group(1), num_match.group(2)
    acts = seed["acts"]

    # Literal -> slot name, for every value that differs from one synthetic procedure to the next.
    slots = {expediente: "exp", number: "num", "200000.0": "a", "220000.0": "c", "100000.0": "p"}
    slots |= {TITLE: "title", ITEM: "item", AMENDMENT: "amd", RATIONALE: "rat", MILESTONE: "ms"}
    slots |= {seed["supplier_name"]: "sname", seed["supplier_rfc"]: "rfc"}
    slots |= {ts: f"t{j}" for j, ts in enumerate(acts)}
    # The change feed's position column: `seq` (given after commit by the sequencer) or, in older schemas,
    # `xid` (the writing transaction's id). Synthetic releases get running numbers after the real ones'.
    with psycopg.connect(db_url, autocommit=True) as conn:
        release_columns = columns(conn, "publication_release")
        feed = next((c for c in ("seq", "xid") if c in release_columns), None)
        feed_top = 0
        if feed:
            top = sql.SQL("SELECT COALESCE(MAX({}), 0) FROM publication_release").format(sql.Identifier(feed))
            feed_top = conn.execute(top).fetchone()[0]
    copy_columns = ["ocid", "release_id", "procedure_id", "date", "published_at", "tags", "data"]
    copy_columns += [feed] if feed else []
    release_lines = [
        copy_format(
            "\t".join(
                [r["ocid"], r["release_id"], "@PID@", acts[j], acts[j], r["tags"], r["data"]]
                + (["@FEED@"] if feed else [])
            )
            + "\n",
            slots | {"@PID@": "pid", "@FEED@": "feed"},
        )
        for j, r in enumerate(seed["releases"])
    ]
    record_lines = [
        copy_format(
            "\t".join(
                [
                    seed["releases"][0]["ocid"],
                    "@PID@",
                    s["compiled"],
                    s["versioned"],
                    STATE_PLACEHOLDER,
                    str(j + 1),
                    acts[0],
                    acts[j],
                ]
            )
            + "\n",
            slots | {"@PID@": "pid"},
        )
        for j, s in enumerate(seed["records"])
    ]
    for j, line in enumerate(release_lines):
        missing = [s for s in ("{exp}", "{num}", f"{{t{j}}}", "{a}") if s not in line]
        if missing:
            raise BenchAbort(f"template release {j + 1} lacks {missing}: the substitutions would not vary it")

    offsets = [round((dt.datetime.fromisoformat(ts) - BASE) / SLOT) for ts in acts]
    stamps = [iso(BASE + SLOT * s) for s in range(procedures + max(offsets) + 1)]

    with psycopg.connect(db_url, autocommit=True) as conn:
        started = time.monotonic()
        params = {"tp": seed["procedure_id"], "np": procedures, "seq0": SEQ0}
        params["maxp"] = conn.execute("SELECT max(id) FROM procurement_procedure").fetchone()[0]
        amount = "(10 * (5000 + ((g - 1)::bigint * 7919) %% 195000))"
        with conn.transaction():
            clone(
                conn,
                "procurement_procedure",
                {
                    "expediente": f"'{exp_prefix}' || (%(seq0)s + g)::text",
                    "number": f"'{num_prefix}' || (%(seq0)s + g)::text || '{num_suffix}'",
                    "estimated_value": amount,
                },
                "FROM procurement_procedure t, generate_series(1, %(np)s) g WHERE t.id = %(tp)s ORDER BY g",
                params,
            )
            new_lot = (
                "JOIN procurement_lot nl ON nl.procedure_id > %(maxp)s AND nl.number = tl.number "
                "JOIN procurement_procedure np ON np.id = nl.procedure_id"
            )
            clone(
                conn,
                "procurement_lot",
                {"procedure_id": "np.id", "estimated_value": "np.estimated_value"},
                "FROM procurement_lot t JOIN procurement_procedure np ON np.id > %(maxp)s WHERE t.procedure_id = %(tp)s",
                params,
            )
            clone(
                conn,
                "procurement_item",
                {"lot_id": "nl.id"},
                f"FROM procurement_item t JOIN procurement_lot tl ON tl.id = t.lot_id {new_lot} "
                "WHERE tl.procedure_id = %(tp)s",
                params,
            )
            clone(
                conn,
                "procurement_award",
                {"procedure_id": "np.id", "lot_id": "nl.id", "value": "np.estimated_value"},
                f"FROM procurement_award t JOIN procurement_lot tl ON tl.id = t.lot_id {new_lot} "
                "WHERE t.procedure_id = %(tp)s",
                params,
            )
            clone(
                conn,
                "procurement_contract",
                {
                    "procedure_id": "np.id",
                    "award_id": "na.id",
                    "value": "np.estimated_value",
                    "code": f"replace(t.code, '{number}', np.number)",
                },
                "FROM procurement_contract t JOIN procurement_award ta ON ta.id = t.award_id "
                f"JOIN procurement_lot tl ON tl.id = ta.lot_id {new_lot} "
                "JOIN procurement_award na ON na.lot_id = nl.id WHERE t.procedure_id = %(tp)s",
                params,
            )
            for table in ("procurement_contractamendment", "procurement_payment", "procurement_milestone"):
                clone(
                    conn,
                    table,
                    {"contract_id": "nc.id"},
                    f"FROM {table} t JOIN procurement_contract tc ON tc.id = t.contract_id "
                    "JOIN procurement_contract nc ON nc.procedure_id > %(maxp)s WHERE tc.procedure_id = %(tp)s",
                    params,
                )
        pids = [0] * procedures
        for pid, exp in conn.execute(
            "SELECT id, expediente FROM procurement_procedure WHERE id > %(maxp)s", params
        ).fetchall():
            pids[int(exp[len(exp_prefix) :]) - SEQ0 - 1] = pid
        if not all(pids):
            raise BenchAbort("some synthetic procedures were not created")
        timings["procedures"] = time.monotonic() - started

        def words(rng: random.Random, low: int, high: int) -> str:
            return " ".join(rng.choices(WORDS, k=rng.randint(low, high))).capitalize()

        suppliers = []
        for i in range(SUPPLIERS):
            rng = random.Random(-1 - i)
            letters = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=3))
            homoclave = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=3))
            suppliers.append(
                (f"{words(rng, 2, 4)}, S.A. de C.V.", f"{letters}{rng.randint(0, 999999):06d}{homoclave}")
            )

        def values(k: int) -> dict[str, str]:
            """The slot values of synthetic procedure k (deterministic: releases and records agree)."""
            rng = random.Random(k)
            a = 10 * (5000 + (k * 7919) % 195000)
            seq = SEQ0 + k + 1
            sname, rfc = suppliers[rng.randrange(SUPPLIERS)]
            v = {
                "exp": f"{exp_prefix}{seq}",
                "num": f"{num_prefix}{seq}{num_suffix}",
                "a": f"{a}.0",
                "c": f"{a * 11 // 10}.0",
                "p": f"{a // 2}.0",
                "pid": pids[k],
                "title": words(rng, 4, 10),
                "item": words(rng, 3, 8),
                "amd": words(rng, 4, 9),
                "rat": words(rng, 6, 14),
                "ms": words(rng, 2, 4),
                "sname": sname,
                "rfc": rfc,
            }
            for j, o in enumerate(offsets):
                v[f"t{j}"] = stamps[k + o]
            return v

        counts = [PER_PROCEDURE] * procedures
        counts[-1] = synthetic - PER_PROCEDURE * (procedures - 1)

        def load_releases() -> float:
            """COPY the synthetic releases in emission order (procedure k's act j at slot k + offsets[j])."""
            began = time.monotonic()
            written = 0
            with psycopg.connect(db_url) as own, own.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
                with cur.copy(f"COPY publication_release ({', '.join(copy_columns)}) FROM STDIN") as copy:
                    batch: list[str] = []
                    cache: dict[int, dict[str, str]] = {}
                    for s in range(procedures + max(offsets)):
                        for j, o in enumerate(offsets):
                            k = s - o
                            if k < 0 or k >= procedures or j >= counts[k]:
                                continue
                            v = cache.get(k)
                            if v is None:
                                v = cache[k] = values(k)
                            written += 1
                            v["feed"] = feed_top + written
                            batch.append(release_lines[j].format_map(v))
                            if j == counts[k] - 1:
                                del cache[k]
                            if len(batch) >= 2000:
                                copy.write("".join(batch))
                                batch = []
                    if batch:
                        copy.write("".join(batch))
            if written != synthetic:
                msg = f"wrote {written} synthetic releases, expected {synthetic}"
                raise BenchAbort(msg)
            return time.monotonic() - began

        def load_records() -> float:
            """COPY one record per synthetic procedure (the template's record after as many acts)."""
            began = time.monotonic()
            with psycopg.connect(db_url) as own, own.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
                with cur.copy(
                    "COPY publication_record (ocid, procedure_id, compiled, versioned, state, release_count,"
                    " first_published_at, updated_at) FROM STDIN"
                ) as copy:
                    batch = []
                    for k in range(procedures):
                        batch.append(record_lines[counts[k] - 1].format_map(values(k)))
                        if len(batch) >= 500:
                            copy.write("".join(batch))
                            batch = []
                    if batch:
                        copy.write("".join(batch))
            return time.monotonic() - began

        def vacuum(tables: list[str]) -> None:
            with psycopg.connect(db_url, autocommit=True) as own:
                for table in tables:
                    own.execute(f"VACUUM (ANALYZE) {table}")

        # Two connections at once: PostgreSQL's side (jsonb parsing, TOAST compression, indexes) is the
        # bottleneck, one backend per table keeps both cores busy.
        started = time.monotonic()
        timings["releases"], timings["records"] = in_threads(load_releases, load_records)
        timings["copy"] = time.monotonic() - started

        started = time.monotonic()
        in_threads(
            lambda: vacuum(["publication_release"]),
            lambda: vacuum(
                [
                    "publication_record",
                    "procurement_procedure",
                    "procurement_lot",
                    "procurement_item",
                    "procurement_award",
                    "procurement_contract",
                    "procurement_contractamendment",
                ]
            ),
        )
        conn.execute("CHECKPOINT")
        timings["vacuum"] = time.monotonic() - started
        total, records = conn.execute(
            "SELECT (SELECT count(*) FROM publication_release), (SELECT count(*) FROM publication_record)"
        ).fetchone()
        sizes = conn.execute(
            "SELECT pg_total_relation_size('publication_release'), pg_total_relation_size('publication_record'),"
            " pg_database_size(current_database())"
        ).fetchone()
    if total != n:
        raise BenchAbort(f"the database holds {total} releases, expected {n}")
    return {
        "procedures": procedures,
        "releases": total,
        "records": records,
        "timings": timings,
        "release_table_bytes": sizes[0],
        "record_table_bytes": sizes[1],
        "database_bytes": sizes[2],
        "mean_release_bytes": sum(len(r["data"]) for r in seed["releases"]) / len(seed["releases"]),
        "mean_record_bytes": sum(len(s["compiled"]) + len(s["versioned"]) for s in seed["records"])
        / len(seed["records"]),
    }


# --- The dump, measured ----------------------------------------------------------------------------


def pg_temp_bytes(db_url: str, name: str) -> int:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(db_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(conn.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = %s", [name]).fetchone()[0])


def _python_pid(time_pid: int) -> int | None:
    """Return the pid of the process `/usr/bin/time` runs (its only child), if it has started."""
    try:
        children = Path(f"/proc/{time_pid}/task/{time_pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _proc_status(pid: int | None) -> dict[str, int]:
    """Return the kB fields of /proc/PID/status (VmRSS, VmHWM, ...), or {} once the process is gone."""
    if pid is None:
        return {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    return fields


def dump_run(env: dict[str, str], out: Path, log: Path, budget: float) -> dict[str, Any]:
    """Run `licita ocds dump` in a child process; return its wall time, peak RSS and phase timeline.

    A dump still running after `budget` seconds is killed: the result then says `finished: False`, with
    the time it had run and the peak RSS seen so far (VmHWM, sampled every 50 ms).
    """
    timefile = out.parent / "time.txt"
    cmd = [sys.executable, "-m", "licita", "ocds", "dump", "--out", str(out), "--name", "bench"]
    use_time = os.access(TIME_BIN, os.X_OK)
    if use_time:
        cmd = [TIME_BIN, "-v", "-o", str(timefile), *cmd]
    phases: dict[str, list[float]] = {}  # what -> [first seen, last seen] seconds after start
    started = time.monotonic()
    child = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    stdout_chunks: list[bytes] = []
    stderr_tail = bytearray()

    def read_stderr() -> None:
        pending = b""
        while chunk := child.stderr.read1(65536):
            at = time.monotonic() - started
            stderr_tail.extend(chunk)
            del stderr_tail[:-20000]
            pending += chunk
            *tokens, pending = re.split(rb"[\r\n]", pending)
            for token in tokens:
                m = re.match(rb"\s*([a-z_]+): [\d,]+\s*$", token)
                if m:
                    span = phases.setdefault(m.group(1).decode(), [at, at])
                    span[1] = at

    def read_stdout() -> None:
        while chunk := child.stdout.read1(65536):
            stdout_chunks.append(chunk)

    readers = [threading.Thread(target=read_stderr, daemon=True), threading.Thread(target=read_stdout, daemon=True)]
    for r in readers:
        r.start()
    hwm_kb = 0
    rss_by_phase: dict[str, int] = {}  # the largest VmRSS sampled while the dump was in each phase (kB)
    finished = True
    try:
        while child.poll() is None:
            status = _proc_status(_python_pid(child.pid) if use_time else child.pid)
            if status:
                hwm_kb = max(hwm_kb, status.get("VmHWM", 0))
                phase = max(phases, key=lambda k: phases[k][1]) if phases else "startup"
                rss_by_phase[phase] = max(rss_by_phase.get(phase, 0), status.get("VmRSS", 0))
            if time.monotonic() - started > budget:
                finished = False
                break
            time.sleep(0.05)
    finally:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    wall = time.monotonic() - started
    for r in readers:
        r.join(timeout=10)
    log.write_bytes(b"".join(stdout_chunks) + b"\n--- stderr ---\n" + bytes(stderr_tail))
    if not finished:
        return {
            "finished": False,
            "wall": wall,
            "rss_mb": hwm_kb / 1024,
            "rss_source": "VmHWM sampled until killed",
            "user": None,
            "sys": None,
            "phases": phases,
            "rss_by_phase": {k: v / 1024 for k, v in rss_by_phase.items()},
        }
    if child.returncode != 0:
        raise BenchAbort(
            f"licita ocds dump failed (exit {child.returncode}):\n{bytes(stderr_tail)[-3000:].decode(errors='replace')}"
        )
    reported_wall = None
    if use_time:
        text = timefile.read_text(errors="replace")
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        hwm_kb = int(m.group(1)) if m else 0
        m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
        if m:
            reported_wall = sum(float(p) * 60**i for i, p in enumerate(reversed(m.group(1).split(":"))))
        cpu = re.search(r"User time \(seconds\): ([\d.]+)\s+System time \(seconds\): ([\d.]+)", text)
    else:
        cpu = None
    return {
        "finished": True,
        "wall": wall,
        "time_wall": reported_wall,
        "rss_mb": hwm_kb / 1024,
        "rss_source": "/usr/bin/time -v" if use_time else "VmHWM polled",
        "user": float(cpu.group(1)) if cpu else None,
        "sys": float(cpu.group(2)) if cpu else None,
        "phases": phases,
        "rss_by_phase": {k: v / 1024 for k, v in rss_by_phase.items()},
        "stdout": b"".join(stdout_chunks).decode(errors="replace"),
    }


# --- Verification ----------------------------------------------------------------------------------


RECORD_KEYS = {"ocid", "releases", "compiledRelease", "versionedRelease"}


def verify_file(path: Path) -> dict[str, Any]:
    """Stream one file once: size, SHA-256, lines; gzip files decompressed to the end (CRC and length checked).

    Every line of releases.jsonl.gz is parsed (releases counted, ids collected); of records.jsonl.gz the first
    and last lines are parsed. Runs in a worker process.
    """
    digest = hashlib.sha256()
    size = lines = releases = 0
    ids: set[str] = set()
    complete = True
    if path.name.endswith(".gz"):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = b""
        parse_all = path.name == "releases.jsonl.gz"
        first = last = b"{}"
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                pending += inflate.decompress(chunk)
                *done, pending = pending.split(b"\n")
                for line in done:
                    lines += 1
                    if parse_all:
                        package = json.loads(line)
                        releases += len(package["releases"])
                        ids.update(r["id"] for r in package["releases"])
                    elif lines == 1:
                        first = line
                    last = line
        complete = inflate.eof and not inflate.unused_data and pending == b""
        if not parse_all:
            complete = complete and all(set(json.loads(line)["records"][0]) == RECORD_KEYS for line in (first, last))
    else:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            lines = sum(1 for _ in csv.reader(fh)) - 1  # minus the header
    return {
        "size": size,
        "sha256": digest.hexdigest(),
        "lines": lines,
        "releases": releases,
        "unique_ids": len(ids),
        "complete": complete,
    }


def verify(folder: Path, n: int, records: int) -> tuple[dict[str, bool], dict[str, Any]]:
    """Check the manifest against the files (two worker processes, largest files first)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    checks: dict[str, bool] = {
        f"manifest releases == {n:,}": manifest["releases"] == n,
        f"manifest records == {records:,}": manifest["records"] == records,
    }
    entries = sorted(manifest["files"], key=lambda e: e["size"], reverse=True)
    # Leaving the block terminates the workers (SIGTERM), finished or not: they must not run our handler.
    with multiprocessing.Pool(2, initializer=signal.signal, initargs=(signal.SIGTERM, signal.SIG_DFL)) as pool:
        jobs = {e["name"]: pool.apply_async(verify_file, (folder / e["name"],)) for e in entries}
        try:
            found = {name: job.get(timeout=remaining()) for name, job in jobs.items()}
        except multiprocessing.TimeoutError:
            raise BenchAbort("the run took longer than --timeout while verifying; aborting") from None
    files: dict[str, Any] = {}
    for entry in manifest["files"]:
        name, got = entry["name"], found[entry["name"]]
        checks[f"{name}: size and SHA-256 match the manifest"] = (
            got["size"] == entry["size"] and got["sha256"] == entry["sha256"]
        )
        checks[f"{name}: {got['lines']:,} lines read == manifest ({entry['lines']:,})"] = (
            got["lines"] == entry["lines"]
        )
        if name.endswith(".gz"):
            checks[f"{name}: gzip stream read to the end (CRC and length checked), packages parse"] = got["complete"]
        if name == "releases.jsonl.gz":
            checks[f"releases.jsonl.gz: {got['releases']:,} releases == {n:,}, no duplicate id"] = (
                got["releases"] == n and got["unique_ids"] == n
            )
        files[name] = got
    return checks, {"files": files}


# --- Machine and record ----------------------------------------------------------------------------


def machine(server_version: str) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    nproc = str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else str(os.cpu_count())
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        # The code measured is bulk.py as the dump process imports it: say so when it differs from HEAD's.
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "licita/publication/bulk.py"], cwd=ROOT, timeout=10, check=False
        )
        if dirty.returncode == 1:
            commit += " + uncommitted bulk.py"
    return {
        "nproc": nproc,
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "pg": server_version.split(maxsplit=1)[0],
        "commit": commit,
    }


INTRO = """
`licita ocds dump` (`licita.publication.bulk.dump_write`) over N releases: releases.jsonl.gz, records.jsonl.gz,
the CSV tables and the manifest, run as a child process and measured from outside (wall time; peak RSS from
`/usr/bin/time -v`). The database is loaded by a documented fast path (see the script's docstring): real
procedures are taken through the services and their real releases and records become templates; N releases
(five acts per procedure, interleaved by date) and one record per procedure are then written by COPY with the
ids, dates, amounts, texts and suppliers varied, and the procedure/lot/item/award/contract rows are copied
server-side. The files are verified after every run (manifest counts, sizes and SHA-256, gzip streams read end
to end, every release package parsed, N releases with no duplicate id).

Run: `.venv/bin/python bench/ocds_dump.py --releases 1000000` (`--db-url`, `--timeout`, `--no-record`).

Target: **1,000,000 releases dumped in under 60 s with a peak RSS under 500 MB, on this 2-core machine.**
"""
TABLE = (
    "| Date (UTC) | Commit | Machine | Releases / records | Generation (services + fast path) | Dump wall "
    "| Dump CPU (user + sys) | First package / releases / records / CSV done at | Peak RSS | PG temp files "
    "| releases.jsonl.gz | records.jsonl.gz | CSV total | Verified | < 60 s | < 500 MB |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def record(row: str) -> None:
    """Append the row under this benchmark's table, appending the section/table first when needed.

    The file is only ever appended to, in one write, so a section another engineer appends concurrently
    is not interleaved with ours; if another section now follows ours, ours is appended again below it.
    """
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    lines = [line for line in text.splitlines() if line.strip()]
    block = "" if text.endswith("\n") else "\n"
    if not headings or headings[-1] != SECTION:
        block += f"\n{SECTION}\n{INTRO}\n{TABLE}"
    elif not lines[-1].startswith("|"):
        block += f"\n{TABLE}"
    block += row + "\n"
    with DOCS.open("a", encoding="utf-8") as fh:
        fh.write(block)


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MiB" if n >= 10 * 1024 * 1024 else f"{n / 1024:,.0f} KiB"


# --- Main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="OCDS bulk dump over N releases: wall time, peak RSS, verified files.")
    p.add_argument("--releases", type=int, default=1_000_000, help="releases in the database (default 1,000,000)")
    p.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/licita_bench_dump")
    p.add_argument("--timeout", type=float, default=600.0, help="abort after this many seconds in total (600)")
    p.add_argument("--no-record", action="store_true", help="do not append the results to docs/benchmarks.md")
    p.add_argument("--internal-seed", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.releases < 100:
        p.error("--releases must be at least 100")
    return args


def main(argv: list[str] | None = None) -> int:
    global _deadline  # noqa: PLW0603
    args = parse_args(argv)
    if args.internal_seed:
        internal_seed(args.internal_seed)
        return 0

    db_name, admin_url = split_db_url(args.db_url)
    if "bench" not in db_name:
        raise BenchAbort(f"refusing to drop and recreate database {db_name!r}: its name must contain 'bench'")
    _deadline = time.monotonic() + args.timeout
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(math.ceil(args.timeout) + 5)  # a last resort: every step also checks remaining()

    tmp = Path(tempfile.mkdtemp(prefix="licita-bench-dump-"))
    var_dir = tmp / "var"
    var_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICITA_") and k != "DJANGO_SETTINGS_MODULE"}
    env |= {
        "LICITA_DATABASE_URL": args.db_url,
        "LICITA_VAR_DIR": str(var_dir),
        "LICITA_DEBUG": "0",
        "LICITA_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "licita.settings",
    }
    ok = False
    db_created = False
    try:
        with step("create database and migrate"):
            db_recreate(db_name, admin_url)
            db_created = True
            run([sys.executable, "-m", "licita", "migrate", "--noinput"], env, "licita migrate")

        with step("seed real procedures through the services"):
            started = time.monotonic()
            seed_file = tmp / "seed.json"
            run([sys.executable, str(Path(__file__).resolve()), "--internal-seed", str(seed_file)], env, "seed")
            seed = json.loads(seed_file.read_text(encoding="utf-8"))
            seed_seconds = time.monotonic() - started
        print(
            f"   {seed['real_releases']} real releases over {seed['real_records']} procedures;"
            f" template {seed['number']} ({PER_PROCEDURE} acts)"
        )

        with step(f"fast path: {args.releases:,} releases by COPY"):
            started = time.monotonic()
            gen = generate(args.db_url, seed, args.releases)
            gen_seconds = time.monotonic() - started
        t = gen["timings"]
        print(
            f"   procedures+children {t['procedures']:.1f} s, COPY {t['copy']:.1f} s (releases {t['releases']:.1f} s"
            f" = {gen['releases'] / t['releases']:,.0f}/s, records {t['records']:.1f} s, in parallel),"
            f" vacuum+analyze {t['vacuum']:.1f} s; tables: releases {mib(gen['release_table_bytes'])},"
            f" records {mib(gen['record_table_bytes'])}, database {mib(gen['database_bytes'])}"
        )

        out = tmp / "out"
        # Keep time for verifying the files (about a minute per million releases) within --timeout.
        budget = remaining() - (20 + 60 * args.releases / 1_000_000)
        if budget < 30:
            raise BenchAbort(f"only {budget:.0f} s left for the dump; raise --timeout")
        load = os.getloadavg()[0]
        info = machine(seed["server_version"])  # before the dump: the commit it runs
        with step(f"licita ocds dump (child process; killed after {budget:.0f} s; load average {load:.2f})"):
            temp_before = pg_temp_bytes(args.db_url, db_name)
            dump = dump_run(env, out, tmp / "dump.log", budget)
            time.sleep(0.5)  # the backend's statistics are flushed when it exits
            temp_written = pg_temp_bytes(args.db_url, db_name) - temp_before

        finished = dump["finished"]
        if finished:
            with step("verify the files"):
                checks, facts = verify(out / "bench", args.releases, gen["records"])
        else:
            checks = {f"the dump finished within the time left ({budget:.0f} s)": False}
            facts = {"files": {}}

        files = facts["files"]
        csv_bytes = sum(f["size"] for name, f in files.items() if name.endswith(".csv"))
        phases = dump["phases"]
        first_row = phases.get("releases", [math.nan])[0]
        release_end = phases.get("releases", [math.nan, math.nan])[1]
        records_end = phases.get("records", [math.nan, math.nan])[1]
        csv_end = max((v[1] for k, v in phases.items() if k not in ("releases", "records")), default=math.nan)
        wall_ok = finished and dump["wall"] < TARGET_SECONDS
        rss_ok = dump["rss_mb"] < TARGET_RSS_MB
        verified = finished and all(checks.values())
        ok = verified and wall_ok and rss_ok
        wall = f"{dump['wall']:.1f} s" if finished else f"> {dump['wall']:.0f} s (killed)"
        cpu = f"{dump['user']:.0f} + {dump['sys']:.0f} s" if dump["user"] is not None else "-"

        def seconds(value: float, digits: int = 0) -> str:
            return "-" if math.isnan(value) else f"{value:.{digits}f}"

        def size(name: str) -> str:
            return mib(files[name]["size"]) if name in files else "-"

        print()
        print("=" * 78)
        print(f"OCDS bulk dump on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {info['commit']}")
        print(
            f"Machine: {info['nproc']} CPU ({info['cpu']}), {info['ram']} RAM, Python {info['python']},"
            f" PostgreSQL {seed['server_version']}; load average {load:.2f} when the dump started"
        )
        print(
            f"Data: {gen['releases']:,} releases ({gen['mean_release_bytes'] / 1024:.1f} KiB of JSON each),"
            f" {gen['records']:,} records ({gen['mean_record_bytes'] / 1024:.1f} KiB compiled+versioned each),"
            f" database {mib(gen['database_bytes'])}"
        )
        print(f"Generation: {seed_seconds:.1f} s through the services + {gen_seconds:.1f} s fast path")
        print(f"Dump wall time: {wall}; CPU of the dump process (user + sys): {cpu}")
        print(
            f"   timeline: first release package at {first_row:.1f} s, releases.jsonl.gz done at {release_end:.1f} s,"
            f" records.jsonl.gz at {records_end:.1f} s, CSV tables at {csv_end:.1f} s"
        )
        print(f"Peak RSS of the dump process: {dump['rss_mb']:.0f} MiB ({dump['rss_source']})")
        print(
            "   largest RSS sampled per phase: "
            + ", ".join(f"{k} {v:.0f} MiB" for k, v in dump["rss_by_phase"].items())
        )
        print(f"PostgreSQL temporary files written during the dump: {mib(temp_written)}")
        for name, f in files.items():
            print(f"   {name:<20} {f['size']:>15,} bytes {f['lines']:>12,} lines")
        for name, passed in checks.items():
            print(f"[{'PASS' if passed else 'FAIL'}] {name}")
        print(f"[{'PASS' if wall_ok else 'MISS'}] dump wall time < {TARGET_SECONDS:.0f} s (target)")
        print(f"[{'PASS' if rss_ok else 'MISS'}] dump peak RSS < {TARGET_RSS_MB:.0f} MB (target)")
        print("=" * 78)

        if not args.no_record:
            partial = "" if args.releases >= 1_000_000 else " (N < 1M)"
            row = (
                f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {info['commit']} "
                f"| {info['nproc']}× {info['cpu']}, {info['ram']}, Py {info['python']}, PG {info['pg']}, "
                f"load {load:.1f} "
                f"| {gen['releases']:,} / {gen['records']:,} "
                f"| {seed_seconds:.0f} s + {gen_seconds:.0f} s "
                f"| {wall} | {cpu} "
                f"| {seconds(first_row, 1)} / {seconds(release_end)} / {seconds(records_end)} / {seconds(csv_end)} s "
                f"| {dump['rss_mb']:.0f} MiB "
                f"| {mib(temp_written)} "
                f"| {size('releases.jsonl.gz')} "
                f"| {size('records.jsonl.gz')} "
                f"| {mib(csv_bytes) if files else '-'} "
                f"| {'yes' if verified else 'NO'} "
                f"| {'yes' if wall_ok else 'NO'}{partial} "
                f"| {'yes' if rss_ok else 'NO'}{partial} |"
            )
            record(row)
            print(f"appended a row to {DOCS.relative_to(ROOT)}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        if db_created:
            try:
                db_drop(db_name, admin_url)
            except Exception as exc:
                print(f"warning: could not drop database {db_name}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchAbort as exc:
        print(f"ABORTED: {exc}", file=sys.stderr)
        sys.exit(1)
