"""Portal benchmark: the public search page and procedure pages over 100,000 procedures, production server.

Usage (from the project root)::

    .venv/bin/python bench/portal.py [--procedures 100000] [--duration 30] [--concurrency 8]
        [--db-url postgres://postgres@127.0.0.1:5432/licita_bench_portal] [--no-record]

What it does (the database and the temporary folder are always removed at the end, whatever happens):

1. Drops and creates the PostgreSQL database named by --db-url (its name must contain "bench"), makes a fresh
   temporary LICITA_VAR_DIR and runs `licita migrate` and `licita collectstatic`.
2. Seeds real data through the services (a subprocess with Django set up, `tests/factories.py` helpers): six
   institutions with two purchasing units each, 40 suppliers, and template procedures of each shape the
   public pages show -- a licitación taken through bids, opening, evaluation, fallo, two signed contracts,
   an amendment and a payment; a direct award (Art. 42) with its contract; a licitación open for bids with
   questions and answers; a cancelled one.
3. FAST PATH to --procedures procedures (taking 100,000 through the services would take hours): for each
   template, `INSERT ... SELECT ... FROM generate_series` copies its procedure row server-side with a unique
   expediente and number (the services' formats, sequence numbers from 100001), a title of random Spanish
   procurement words, one of the twelve units, an estimated value and dates spread over two years (open
   procedures: published in the last weeks with a deadline ahead); its lots, items, questions, awards (to one
   of the 40 suppliers, bid link cleared), contracts, amendments and payments are copied the same way. Then
   the procedure's search text is recomputed in SQL as `licita.procurement.search.search_document` writes it
   (when the column exists), then VACUUM ANALYZE, as autovacuum would have. Bypassed, and why it is fair for
   reading pages: the services' checks, OCDS releases and ledger entries (the public pages read neither), bids
   of the synthetic procedures (the opening record is shown for the templates only).
4. Starts the production server, `licita serve --no-worker --workers 2` (gunicorn, 4 threads a worker) with
   LICITA_ENV=production, a random LICITA_SECRET_KEY and LICITA_ALLOWED_HOSTS=127.0.0.1, on a free loopback
   port; requests carry `X-Forwarded-Proto: https`, as from the TLS proxy in front of it.
5. Warms up (10 s of both kinds of page), then measures each kind for --duration seconds with --concurrency
   concurrent clients (httpx, asyncio, one process): search pages with varied text and filters (type, status,
   institution, unit, contract type, dates, amounts, sort, page 1-5; a third without text) and procedure
   pages of random procedures. When search misses its target (or with --explain), PostgreSQL's plan of the
   search page's queries is printed (EXPLAIN ANALYZE, q=limpieza). Latency is client-side, from sending to the last byte. Any status other than
   200 is an error. The client shares the two cores with the server, so the figures are pessimistic.
6. Prints the figures and appends them to docs/benchmarks.md, section "Portal (bench/portal.py)" (append only,
   in one write).

Targets: p95 < 200 ms for the search page and < 100 ms for a procedure page, with 0 errors.
Exit status: 0 when both targets are met with no error, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Portal (bench/portal.py)"
TARGETS = {"search": 0.200, "procedure": 0.100}
SEQ0 = 100_000
_VOCABULARY = (
    "adquisición servicio suministro equipo cómputo mantenimiento preventivo correctivo vehículos papelería "
    "medicamentos material curación limpieza vigilancia obra pública rehabilitación carretera escuela hospital "
    "consultoría arrendamiento mobiliario software licencias capacitación uniformes combustible alimentos "
    "laboratorio reactivos oficinas centrales delegación estatal red eléctrica agua potable drenaje pavimento "
    "señalización transporte personal fotocopiado impresión digitalización archivo seguros bienes patrimoniales "
    "jardinería fumigación comedor víveres refacciones llantas lubricantes herramientas ferretería pintura "
    "aire acondicionado elevadores telecomunicaciones enlaces internet telefonía radiocomunicación cámaras "
    "vacunas jeringas guantes cubrebocas oxígeno ambulancias camillas"
)
WORDS = _VOCABULARY.split()
INSTITUTIONS = [
    ("Instituto Mexicano del Seguro Social", "IMSS", "50"),
    ("Secretaría de Salud", "SALUD", "12"),
    ("Secretaría de Educación Pública", "SEP", "11"),
    ("Comisión Federal de Electricidad", "CFE", "53"),
    ("Secretaría de Infraestructura, Comunicaciones y Transportes", "SICT", "09"),
    ("Comisión Nacional del Agua", "CONAGUA", "16"),
]


class BenchAbort(Exception):
    """Raised to stop the run with a clear message (cleanup still happens)."""


def run(cmd: list[str], env: dict[str, str], what: str, timeout: float = 900) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchAbort(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


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


# --- Seed: real procedures through the services (subprocess with Django) --------------------------


def internal_explain() -> None:
    """Print PostgreSQL's plan (EXPLAIN ANALYZE) of the search page's queries for one word, as the page runs them."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    import django  # noqa: PLC0415

    django.setup()
    from licita.core import clock  # noqa: PLC0415
    from licita.portal import selectors_public as sel  # noqa: PLC0415

    filters = sel.SearchFilters(q="limpieza")
    qs = sel.procedure_search(filters=filters, at=clock.now())
    print("-- EXPLAIN ANALYZE: count of the matches (q=limpieza)")
    print(qs.order_by().values("pk").explain(analyze=True))
    print("-- EXPLAIN ANALYZE: first page of 20 (q=limpieza, newest first)")
    print(qs[:20].explain(analyze=True))


def internal_seed(out: Path) -> None:
    """Create units, suppliers and one template procedure of each shape; write their ids as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415

    # Nobody logs in as these users: a fast hasher keeps the seed from spending a minute hashing passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from licita.bidding import services as bidding  # noqa: PLC0415
    from licita.core import clock  # noqa: PLC0415
    from licita.procurement import services as proc  # noqa: PLC0415
    from tests import factories as f  # noqa: PLC0415

    start = dt.datetime(2026, 1, 12, 16, 0, tzinfo=dt.UTC)
    clock.set_now(start)
    try:
        offices, units = [], []
        for name, siglas, ramo in INSTITUTIONS:
            institution = f.make_institution(name=name, siglas=siglas, ramo=ramo)
            for n in (1, 2):
                data = {
                    "key": f"{ramo.zfill(3)}{siglas[:1]}{n:05d}",
                    "name": f"Dirección de Adquisiciones {siglas} {n}",
                }
                if len(offices) < 4:  # the units that run a template procedure need their people
                    offices.append(f.make_office(institution=institution, **data))
                    units.append(offices[-1].unit)
                else:
                    units.append(f.make_unit(institution=institution, **data))
        office = offices[0]
        suppliers = [f.make_supplier() for _ in range(40)]

        tender = f.make_procedure(
            office,
            title="Adquisición de medicamentos y material de curación",
            description="Suministro para las unidades médicas de la zona centro.",
            lots=f.lots_input("1500000.00", "850000.00"),
        )
        tender = f.publish(office, tender)
        (s1, r1), (s2, r2), (s3, r3) = suppliers[:3]
        proc.clarification_ask(actor=r1, procedure=tender, question="¿Se aceptan entregas parciales?")
        for rep, prices in ((r1, ("1400000", "800000")), (r2, ("1350000", "820000")), (r3, ("1450000", "790000"))):
            lots = [bidding.BidLotInput(lot=i, price=p) for i, p in enumerate(prices, start=1)]
            bidding.bid_submit(actor=rep, procedure=tender, lots=lots)
        clock.set_now(start + dt.timedelta(days=17))
        bidding.bids_open(actor=office.operator, procedure=tender, shares=f.claim_shares(office, tender))
        bidding.bids_evaluate(
            actor=office.operator,
            procedure=tender,
            evaluations=[
                bidding.EvaluationInput(supplier_rfc=s.rfc, lot=lot, compliant=True)
                for s in (s1, s2, s3)
                for lot in (1, 2)
            ],
        )
        clock.set_now(start + dt.timedelta(days=20))
        proc.award_decide(actor=office.operator, procedure=tender)
        clock.set_now(start + dt.timedelta(days=25))
        contracts = [
            proc.contract_sign(
                actor=office.operator, award=award, start_date=dt.date(2026, 2, 9), end_date=dt.date(2026, 12, 31)
            )
            for award in tender.awards.order_by("lot__number")
        ]
        clock.set_now(start + dt.timedelta(days=40))
        proc.contract_amend(
            actor=office.operator,
            contract=contracts[0],
            description="Ampliación del plazo de entrega",
            rationale="Causas de fuerza mayor acreditadas por el proveedor",
            value_change="100000",
            new_end_date=dt.date(2027, 1, 31),
        )
        proc.payment_record(actor=office.operator, contract=contracts[0], amount="700000", description="Primer pago")

        direct = f.make_direct_contract(offices[1]).procedure

        clock.set_now(start + dt.timedelta(days=41))
        open_tender = f.make_procedure(
            offices[2],
            title="Servicio de limpieza de oficinas centrales",
            contract_type="servicios",
            lots=f.lots_input("2400000.00", "600000.00"),
        )
        open_tender = f.publish(offices[2], open_tender)
        question = proc.clarification_ask(
            actor=suppliers[4][1], procedure=open_tender, question="¿Cuál es la superficie total por limpiar?"
        )
        proc.clarification_answer(
            actor=offices[2].operator, clarification=question, answer="12,500 m² en 3 edificios."
        )

        cancelled = f.make_procedure(offices[3], title="Arrendamiento de vehículos", contract_type="arrendamientos")
        cancelled = f.publish(offices[3], cancelled)
        proc.procedure_cancel(actor=offices[3].operator, procedure=cancelled, reason="Se modificó la necesidad")
    finally:
        clock.set_now(None)

    out.write_text(
        json.dumps(
            {
                # template id -> share of the synthetic procedures
                "templates": [[tender.pk, 4], [direct.pk, 3], [open_tender.pk, 2], [cancelled.pk, 1]],
                "units": [u.pk for u in units],
                "suppliers": [s.pk for s, _rep in suppliers],
            }
        )
    )


# --- Fast path -----------------------------------------------------------------------------------


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
    return conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} {source}", params).rowcount


def generate(db_url: str, seed: dict[str, Any], n: int) -> dict[str, Any]:
    """Copy the templates into n synthetic procedures with their children; return counts."""
    import psycopg  # noqa: PLC0415

    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    nw = len(WORDS)
    title = " || ' ' || ".join(f"({words})[1 + ((g * {p}) + {k}) %% {nw}]" for k, p in enumerate((7, 13, 31, 61, 97)))
    units = "ARRAY[" + ",".join(map(str, seed["units"])) + "]::bigint[]"
    sups = "ARRAY[" + ",".join(map(str, seed["suppliers"])) + "]::bigint[]"
    weights = [w for _t, w in seed["templates"]]
    total_w = sum(weights)
    with psycopg.connect(db_url, autocommit=True) as conn:
        prefix = {}
        for tid, _w in seed["templates"]:
            exp, num = conn.execute(
                "SELECT expediente, number FROM procurement_procedure WHERE id = %s", [tid]
            ).fetchone()
            prefix[tid] = (
                re.fullmatch(r"(.*-)\d+", exp).group(1),
                *re.fullmatch(r"(.*-\D*)\d+(-\d{4})", num).groups(),
            )
        lower = 0
        first = conn.execute("SELECT max(id) FROM procurement_procedure").fetchone()[0]
        with conn.transaction():
            for idx, (tid, w) in enumerate(seed["templates"]):
                exp_prefix, num_prefix, num_suffix = prefix[tid]
                maxp = conn.execute("SELECT max(id) FROM procurement_procedure").fetchone()[0]
                params = {"tp": tid, "maxp": maxp, "n": n, "tw": total_w, "lo": lower, "hi": lower + w}
                lower += w
                is_open = idx == 2
                # Open procedures: published in the last 20 days, deadline 1-25 days ahead. Others: over two years.
                published = (
                    "now() - ((g %% 20) + 1) * interval '1 day'"
                    if is_open
                    else "timestamptz '2024-12-01' + (g %% 700) * interval '1 day' + (g %% 600) * interval '1 minute'"
                )
                shift = f"(({published}) - coalesce(t.published_at, t.created_at))"
                deadline = (
                    "now() + ((g %% 25) + 1) * interval '1 day'" if is_open else f"t.submission_deadline + {shift}"
                )
                moved = {
                    c: f"t.{c} + {shift}"
                    for c in (
                        "created_at",
                        "updated_at",
                        "announced_at",
                        "clarification_deadline",
                        "opened_at",
                        "awarded_at",
                        "cancelled_at",
                    )
                }
                clone(
                    conn,
                    "procurement_procedure",
                    moved
                    | {
                        "expediente": f"'{exp_prefix}' || ({SEQ0} + g)::text",
                        "number": f"'{num_prefix}' || ({SEQ0} + g)::text || '{num_suffix}'",
                        "title": title,
                        "unit_id": f"({units})[1 + (g * 7) %% {len(seed['units'])}]",
                        "estimated_value": "(1000 * (50 + (g::bigint * 7919) %% 99950))::numeric",
                        "published_at": f"CASE WHEN t.published_at IS NULL THEN NULL ELSE {published} END",
                        "submission_deadline": deadline,
                        "fiscal_year": f"extract(year from {published})::int",
                    },
                    "FROM procurement_procedure t, generate_series(1, %(n)s) g"
                    " WHERE t.id = %(tp)s AND g %% %(tw)s >= %(lo)s AND g %% %(tw)s < %(hi)s ORDER BY g",
                    params,
                )
                new = "JOIN procurement_procedure np ON np.id > %(maxp)s"
                new_lot = (
                    "JOIN procurement_lot nl ON nl.procedure_id > %(maxp)s AND nl.number = tl.number "
                    "JOIN procurement_procedure np ON np.id = nl.procedure_id"
                )
                clone(
                    conn,
                    "procurement_lot",
                    {
                        "procedure_id": "np.id",
                        "estimated_value": "round(np.estimated_value * t.estimated_value"
                        " / (SELECT estimated_value FROM procurement_procedure WHERE id = %(tp)s), 2)",
                    },
                    f"FROM procurement_lot t {new} WHERE t.procedure_id = %(tp)s",
                    params,
                )
                clone(
                    conn,
                    "procurement_item",
                    {"lot_id": "nl.id"},
                    f"FROM procurement_item t JOIN procurement_lot tl ON tl.id = t.lot_id {new_lot}"
                    " WHERE tl.procedure_id = %(tp)s",
                    params,
                )
                clone(
                    conn,
                    "procurement_clarification",
                    {"procedure_id": "np.id", "created_at": "np.published_at + interval '2 days'"},
                    f"FROM procurement_clarification t {new} WHERE t.procedure_id = %(tp)s",
                    params,
                )
                supplier = f"({sups})[1 + (np.id * 13) %% {len(seed['suppliers'])}]"
                clone(
                    conn,
                    "procurement_award",
                    {
                        "procedure_id": "np.id",
                        "lot_id": "nl.id",
                        "supplier_id": supplier,
                        "bid_id": "NULL",
                        "value": "round(nl.estimated_value * 0.93, 2)",
                        "date": "coalesce(np.awarded_at, np.published_at)",
                    },
                    f"FROM procurement_award t JOIN procurement_lot tl ON tl.id = t.lot_id {new_lot}"
                    " WHERE t.procedure_id = %(tp)s",
                    params,
                )
                clone(
                    conn,
                    "procurement_contract",
                    {
                        "procedure_id": "np.id",
                        "award_id": "na.id",
                        "supplier_id": "na.supplier_id",
                        "value": "na.value",
                        "code": "np.number || '-' || tl.number::text",
                        "date_signed": "na.date + interval '5 days'",
                    },
                    "FROM procurement_contract t JOIN procurement_award ta ON ta.id = t.award_id"
                    f" JOIN procurement_lot tl ON tl.id = ta.lot_id {new_lot}"
                    " JOIN procurement_award na ON na.lot_id = nl.id WHERE t.procedure_id = %(tp)s",
                    params,
                )
                for table in ("procurement_contractamendment", "procurement_payment", "procurement_milestone"):
                    clone(
                        conn,
                        table,
                        {"contract_id": "nc.id"},
                        f"FROM {table} t JOIN procurement_contract tc ON tc.id = t.contract_id"  # noqa: S608
                        " JOIN procurement_award ta ON ta.id = tc.award_id JOIN procurement_lot tl ON tl.id = ta.lot_id"
                        f" {new_lot} JOIN procurement_contract nc ON nc.award_id = (SELECT id FROM procurement_award"
                        " WHERE lot_id = nl.id) WHERE tc.procedure_id = %(tp)s",
                        params,
                    )
        if "search_text" in columns(conn, "procurement_procedure"):
            # The procedure's search text (licita.procurement.search.search_document, kept by the services): the
            # same parts, lower case, Spanish accents removed, single spaces, for the copies made above.
            conn.execute(
                r"""
                UPDATE procurement_procedure p SET search_text = regexp_replace(translate(lower(concat_ws(' ',
                    p.number, p.expediente, p.title, nullif(p.description, ''), u.key, u.name, i.siglas, i.name,
                    (SELECT string_agg(s.name || ' ' || s.rfc, ' ' ORDER BY a.id) FROM procurement_award a
                     JOIN accounts_supplier s ON s.id = a.supplier_id WHERE a.procedure_id = p.id),
                    (SELECT string_agg(c.title || ' ' || c.code, ' ' ORDER BY c.id) FROM procurement_contract c
                     WHERE c.procedure_id = p.id))), 'áéíóúüñ', 'aeiouun'), '\s+', ' ', 'g')
                FROM accounts_purchasingunit u JOIN accounts_institution i ON i.id = u.institution_id
                WHERE u.id = p.unit_id AND p.id > %(first)s
                """,
                {"first": first},
            )
        for table in (
            "procurement_procedure",
            "procurement_lot",
            "procurement_item",
            "procurement_award",
            "procurement_contract",
            "procurement_clarification",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM procurement_procedure), (SELECT count(*) FROM procurement_lot),"
            " (SELECT count(*) FROM procurement_award), (SELECT count(*) FROM procurement_contract),"
            " pg_database_size(current_database()), (SELECT split_part(version(), ' ', 2))"
        ).fetchone()
        refs = [r[0] for r in conn.execute("SELECT number FROM procurement_procedure WHERE status <> 'draft'")]
        institutions = [r[0] for r in conn.execute("SELECT id FROM accounts_institution")]
        units = [r[0] for r in conn.execute("SELECT key FROM accounts_purchasingunit")]
    return {
        "procedures": counts[0],
        "lots": counts[1],
        "awards": counts[2],
        "contracts": counts[3],
        "db_bytes": counts[4],
        "pg": counts[5],
        "refs": refs,
        "institutions": institutions,
        "units": units,
    }


# --- Load ------------------------------------------------------------------------------------------


def search_url(rng: random.Random, data: dict[str, Any]) -> str:
    params: dict[str, Any] = {}
    if rng.random() < 2 / 3:
        params["q"] = rng.choice(WORDS) if rng.random() < 0.8 else " ".join(rng.sample(WORDS, 2))
    filters = {
        # Only values the loaded procedures have (no invitación, nothing left merely awarded), so that a later
        # page asked for always exists.
        "procedure_type": lambda: rng.choice(["licitacion", "adjudicacion"]),
        "status": lambda: rng.choice(["published", "contracted", "cancelled"]),
        "institution": lambda: rng.choice(data["institutions"]),
        "unit": lambda: rng.choice(data["units"]),
        "contract_type": lambda: rng.choice(["adquisiciones", "servicios", "arrendamientos"]),
        "published_from": lambda: f"2025-{rng.randint(1, 12):02d}-01",
        "published_to": lambda: f"2026-{rng.randint(1, 11):02d}-28",
        "amount_min": lambda: str(rng.choice([100000, 1000000, 10000000])),
        "amount_max": lambda: str(rng.choice([50000000, 90000000])),
        "sort": lambda: rng.choice(["newest", "oldest", "amount_desc", "amount_asc", "deadline"]),
    }
    chosen = rng.sample(sorted(filters), rng.randint(0, 3))
    for key in chosen:
        params[key] = filters[key]()
    # Later pages only where there are surely that many results (a page past the end is refused with a 400).
    # (one word alone, or filters without text: a word and a unit together may match a page or two only).
    narrowing = set(chosen) - {"sort"}
    if (
        (not narrowing or "q" not in params)
        and len(narrowing) <= 1
        and " " not in params.get("q", "")
        and rng.random() < 0.3
    ):
        params["page"] = rng.randint(2, 5)
    return "/buscar/?" + urlencode(params)


async def load(
    base: str, kinds: list[str], data: dict[str, Any], *, seconds: float, concurrency: int, seed: int
) -> dict:
    import httpx  # noqa: PLC0415 - dev dependency

    results: dict[str, dict[str, Any]] = {k: {"lat": [], "errors": 0, "codes": {}} for k in kinds}
    stop = time.monotonic() + seconds
    headers = {"X-Forwarded-Proto": "https", "Accept-Language": "es-MX"}

    async def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < stop:
                kind = rng.choice(kinds)
                url = search_url(rng, data) if kind == "search" else f"/procedimientos/{rng.choice(data['refs'])}/"
                began = time.perf_counter()
                try:
                    response = await http.get(url)
                    await response.aread()
                    code = response.status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                elapsed = time.perf_counter() - began
                bucket = results[kind]
                bucket["lat"].append(elapsed)
                if code != 200:
                    bucket["errors"] += 1
                    bucket["codes"][str(code)] = bucket["codes"].get(str(code), 0) + 1
                    if bucket["errors"] <= 3:
                        print(f"   error {code} on {url}", flush=True)

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    wall = time.monotonic() - started
    out = {}
    for kind, bucket in results.items():
        lat = sorted(bucket["lat"])
        if not lat:
            continue
        q = statistics.quantiles(lat, n=100, method="inclusive")
        out[kind] = {
            "requests": len(lat),
            "rps": len(lat) / wall,
            "p50": q[49],
            "p95": q[94],
            "p99": q[98],
            "max": lat[-1],
            "errors": bucket["errors"],
            "codes": bucket["codes"],
        }
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx  # noqa: PLC0415

    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if server.poll() is not None:
            raise BenchAbort(f"the server exited with {server.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/", headers={"X-Forwarded-Proto": "https"}, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise BenchAbort("the server did not answer / with 200 within 60 s")


# --- Record ----------------------------------------------------------------------------------------


def machine(pg: str) -> dict[str, str]:
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
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
        ram = f"{int(kb.split()[1]) / 1024 / 1024:.0f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "licita"], cwd=ROOT, check=False).returncode
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "ram": ram,
        "python": platform.python_version(),
        "pg": pg,
        "commit": commit + (" + uncommitted licita/ changes" if dirty else ""),
    }


INTRO = """
The public search page and procedure pages, served by the production server (`licita serve --no-worker
--workers 2`: gunicorn, 2 workers x 4 threads, LICITA_ENV=production) from PostgreSQL holding N procedures. The
database is loaded by a documented fast path (see the script's docstring): template procedures of each shape
(a licitación with bids, opening, fallo, two contracts, an amendment and a payment; a direct award; an open
licitación with questions; a cancelled one) are taken through the services, then copied server-side
(`INSERT ... SELECT ... FROM generate_series`) with their lots, items, questions, awards and contracts, with
varied titles, units (12 in 6 institutions), suppliers (40), amounts, dates and statuses. After 10 s of
warm-up, each kind of page is measured for D seconds by C concurrent clients (httpx, asyncio, in one process
on the same 2 cores as the server, so the figures are pessimistic): search with varied text (two thirds of the
requests) and 0-3 filters (type, status, institution, unit, contract type, dates, amounts, sort) and pages
1-5 (later pages only for one word alone, or no text and at most one filter); procedure pages of random procedures. Latency is measured at the client, to the last byte; any answer
other than 200 is an error.

Run: `.venv/bin/python bench/portal.py --procedures 100000` (`--duration`, `--concurrency`, `--db-url`,
`--no-record`).

Targets: **p95 < 200 ms for search, < 100 ms for a procedure page, 0 errors.**
"""
TABLE = (
    "| Date (UTC) | Commit | Machine | Load avg (1/5/15 min, before) | Procedures | Clients x s | Page | Requests "
    "| Req/s | p50 | p95 | p99 | Max | Errors | Target met |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def record(rows: list[str]) -> None:
    """Append the rows under this benchmark's table in one write (the section first, when it is not last)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    block = "" if text.endswith("\n") else "\n"
    if not headings or headings[-1] != SECTION:
        block += f"\n{SECTION}\n{INTRO}\n{TABLE}"
    block += "".join(row + "\n" for row in rows)
    with DOCS.open("a", encoding="utf-8") as fh:
        fh.write(block)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- Main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Portal pages over N procedures: latency percentiles and req/s.")
    p.add_argument("--procedures", type=int, default=100_000, help="synthetic procedures to load (100,000)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of measurement per kind of page (30)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (8)")
    p.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/licita_bench_portal")
    p.add_argument("--no-record", action="store_true", help="do not append the results to docs/benchmarks.md")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the search page's queries")
    p.add_argument("--internal-seed", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--internal-explain", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.procedures < 10 or args.duration <= 0 or args.concurrency < 1:
        p.error("--procedures >= 10, --duration > 0 and --concurrency >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.internal_seed:
        internal_seed(args.internal_seed)
        return 0
    if args.internal_explain:
        internal_explain()
        return 0
    name, maintenance = admin_url(args.db_url)
    var = Path(tempfile.mkdtemp(prefix="licita-bench-portal-"))
    server: subprocess.Popen | None = None
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICITA_")}
    env |= {"LICITA_DATABASE_URL": args.db_url, "LICITA_VAR_DIR": str(var), "LICITA_LOG_LEVEL": "WARNING"}
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(BenchAbort("terminated")))
    try:
        with step(f"database {name}"):
            db_drop_create(name, maintenance, create=True)
            run([python, "-m", "licita", "migrate", "--noinput"], env, "migrate")
        with step("seed through the services"):
            out = var / "seed.json"
            run([python, __file__, "--internal-seed", str(out)], env, "seed")
            seed = json.loads(out.read_text())
        with step(f"fast path to {args.procedures:,} procedures"):
            data = generate(args.db_url.replace("postgres://", "postgresql://", 1), seed, args.procedures)
            print(
                f"   {data['procedures']:,} procedures, {data['lots']:,} lots, {data['awards']:,} awards,"
                f" {data['contracts']:,} contracts; database {data['db_bytes'] / 2**20:,.0f} MiB"
            )
        run([python, "-m", "licita", "collectstatic", "--noinput", "--verbosity", "0"], env, "collectstatic")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_env = env | {
            "LICITA_ENV": "production",
            "LICITA_SECRET_KEY": secrets.token_urlsafe(50),
            "LICITA_ALLOWED_HOSTS": "127.0.0.1",
        }
        log = (var / "server.log").open("w")
        server = subprocess.Popen(
            [
                python,
                "-m",
                "licita",
                "serve",
                "--no-worker",
                "--workers",
                "2",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_ready(base, server)
        with step("warm-up (10 s)"):
            asyncio.run(load(base, ["search", "procedure"], data, seconds=10, concurrency=args.concurrency, seed=1))
        loadavg = "/".join(f"{x:.2f}" for x in os.getloadavg())
        measured = {}
        for kind in ("search", "procedure"):
            with step(f"{kind} pages ({args.concurrency} clients, {args.duration:.0f} s)"):
                measured[kind] = asyncio.run(
                    load(base, [kind], data, seconds=args.duration, concurrency=args.concurrency, seed=2)
                )[kind]
        if args.explain or measured["search"]["p95"] >= TARGETS["search"]:
            print(run([python, __file__, "--internal-explain"], env, "explain"))
    except BenchAbort as exc:
        print(f"ABORTED: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=20)
        with contextlib.suppress(Exception):
            db_drop_create(name, maintenance, create=False)
        shutil.rmtree(var, ignore_errors=True)

    info = machine(data["pg"])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    host = f"{info['cpu']}, {info['cores']} cores, {info['ram']}, Python {info['python']}, PostgreSQL {info['pg']}"
    ok = True
    rows = []
    print(f"\nMachine: {host}; load average before measuring {loadavg}; commit {info['commit']}")
    for kind, m in measured.items():
        met = m["p95"] < TARGETS[kind] and m["errors"] == 0
        ok &= met
        label = "search" if kind == "search" else "procedure"
        print(
            f"{label:>9}: {m['requests']:,} requests, {m['rps']:.1f} req/s, p50 {ms(m['p50'])}, p95 {ms(m['p95'])},"
            f" p99 {ms(m['p99'])}, max {ms(m['max'])}, errors {m['errors']} {m['codes'] or ''}"
            f" -> p95 target {ms(TARGETS[kind])} {'met' if met else 'NOT met'}"
        )
        rows.append(
            f"| {now} | {info['commit']} | {host} | {loadavg} | {data['procedures']:,} | {args.concurrency} x "
            f"{args.duration:.0f} | {label} | {m['requests']:,} | {m['rps']:.1f} | {ms(m['p50'])} | {ms(m['p95'])} "
            f"| {ms(m['p99'])} | {ms(m['max'])} | {m['errors']} | {'yes' if met else 'no'} (p95 < {ms(TARGETS[kind])}) |"
        )
    if not args.no_record:
        record(rows)
        print(f"Recorded in {DOCS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
