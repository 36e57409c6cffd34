"""Continuity: deadlines extended for N open procedures when an outage closes; the accountability report.

Usage (from the project root)::

    .venv/bin/python bench/continuity.py [--procedures 100000] [--contingency 10000] [--publish-sample 1000]
        [--db-url postgres://postgres@127.0.0.1:5432/licita_bench_continuity] [--no-record]

It drops and creates the database (its name must contain "bench"), migrates it, and loads by a fast path
(`bulk_create`, documented here, not through the services): 10 institutions with 5 purchasing units each, N
open procedures whose deadlines are spread over the outage and the 20 days after its start -- 70 % still taking
bids (submission, clarification and fallo dates), 15 % opened before the outage and waiting for a fallo whose date
falls in that window, 15 % awarded before it with the contract signature deadline in that window -- and M
contingency procedures of one outage (a third back-captured in full, a third in part, a third missing;
their procedures are rows of the same table).

Then it measures, wall clock:

* **extension**: `deadlines_extend(outage=..., publish=False)` inside one transaction, as `outage_close` runs
  it: the extension rows, the tender amendments and the UPDATE of the deadlines (target < 10 s for 100,000);
* **publication**: the `tenderAmendment` release of each extended procedure (`release_emit`: build, validate
  against the schema, ledger leaf, compiled record), for a sample of --publish-sample procedures, and the
  rate extrapolated to N (the releases are emitted one per procedure, in the same transaction);
* **report**: `report_build` (counts, amounts, statuses and lateness per institution and unit, with every
  row) and `report_csv` for the M contingency procedures (target < 2 s for 10,000).

A row is appended to docs/benchmarks.md under "## Continuity (bench/continuity.py)" (append only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Continuity (bench/continuity.py)"
HEADER = f"""
{SECTION}

What is measured: see the docstring of `bench/continuity.py`. Extension: the set-based part of
`deadlines_extend` (extension rows, tender amendments, one UPDATE) for N open procedures, in one transaction.
Publication: one `tenderAmendment` release per extended procedure, timed on a sample and extrapolated to N.
Report: `report_build` + `report_csv` of M contingency procedures.
Run: `.venv/bin/python bench/continuity.py --procedures 100000 --contingency 10000`.
Targets: **extension < 10 s for 100,000; report < 2 s for 10,000.**

| Date (UTC) | Commit | Machine | Database | N open | Extension | Releases (sample, rate) | Releases for N (extrapolated) | M contingency | Report | Targets met |
|---|---|---|---|---|---|---|---|---|---|---|
"""
START = dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)


def admin_url(url: str) -> tuple[str, str]:
    """Return (database name, URL of the maintenance database on the same server)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        sys.exit(f"--db-url must be a postgres:// URL of a database whose name contains 'bench': {url}")
    return name, urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))


def db_drop_create(name: str, maintenance: str) -> None:
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
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
        del os.environ[key]
    import django  # noqa: PLC0415

    django.setup()


def load(n: int, m: int) -> tuple[object, list[object]]:
    """Load units, N published procedures and M contingency procedures of one closed outage (fast path)."""
    from licita.accounts import services as accounts  # noqa: PLC0415
    from licita.continuity.models import ContingencyProcedure, Outage, Source  # noqa: PLC0415
    from licita.procurement.models import Lot, Procedure, Provenance, Status  # noqa: PLC0415

    units = []
    for i in range(10):
        inst = accounts.institution_create(actor=None, name=f"Secretaría {i}", siglas=f"SB{i}", ramo=f"{10 + i:02d}")
        units += [
            accounts.unit_create(actor=None, institution=inst, key=f"0{10 + i:02d}B{i}{j:04d}", name=f"UC {i}-{j}")
            for j in range(5)
        ]
    published = START - dt.timedelta(days=10)
    base = {
        "law": "LAASSP",
        "regime": "2000",
        "procedure_type": "licitacion",
        "character": "nacional",
        "form": "electronica",
        "contract_type": "adquisiciones",
        "legal_basis": "art26",
        "fiscal_year": 2026,
        "currency": "MXN",
    }
    rows = []
    for k in range(n):
        deadline = START + dt.timedelta(hours=k % (24 * 20))  # 20 days from the outage's start
        periods: dict[str, object] = {
            # 70 %: bids still accepted (submission, clarification and the fallo's date extended)
            "status": Status.PUBLISHED,
            "submission_deadline": deadline,
            "clarification_deadline": deadline - dt.timedelta(days=1),
            "award_deadline": deadline + dt.timedelta(days=7),
        }
        if k % 20 >= 17:  # 15 %: opened before the outage, the fallo's date falls in the window
            over = START - dt.timedelta(days=2)
            periods |= {
                "status": Status.OPENED,
                "submission_deadline": over,
                "clarification_deadline": over - dt.timedelta(days=1),
                "opened_at": over,
            }
        elif k % 20 >= 14:  # 15 %: awarded before the outage, the contract not signed yet
            over = START - dt.timedelta(days=5)
            periods |= {
                "status": Status.AWARDED,
                "submission_deadline": over - dt.timedelta(days=7),
                "clarification_deadline": over - dt.timedelta(days=8),
                "opened_at": over - dt.timedelta(days=7),
                "award_deadline": over,
                "awarded_at": over,
                "signature_deadline": deadline,
            }
        rows.append(
            Procedure(
                unit=units[k % len(units)],
                expediente=f"E-{k:07d}",
                number=f"LA-B-{k:07d}",
                title=f"Adquisición de bienes {k}",
                estimated_value=Decimal(100000 + k),
                published_at=published,
                **periods,
                **base,
            )
        )
    Procedure.objects.bulk_create(rows, batch_size=5000)
    ids = list(Procedure.objects.order_by("pk").values_list("pk", flat=True))
    Lot.objects.bulk_create(
        [Lot(procedure_id=pk, number=1, title="Partida 1", estimated_value=Decimal(100000)) for pk in ids],
        batch_size=5000,
    )
    outage = Outage.objects.create(
        started_at=START,
        ended_at=END,
        affected="Toda la plataforma",
        cause="Banco de pruebas",
        origin=Outage.Origin.DECLARED,
        recorded_at=END,
        upload_deadline=END + dt.timedelta(days=14),
    )
    # The contingency procedures' own procedures: further rows, closed, with provenance contingency.
    crow = [
        Procedure(
            unit=units[k % len(units)],
            expediente=f"C-{k:07d}",
            number=f"AA-C-{k:07d}",
            title=f"Contingencia {k}",
            estimated_value=Decimal(50000 + k),
            status=Status.AWARDED,
            provenance=Provenance.CONTINGENCY,
            **(base | {"procedure_type": "adjudicacion", "legal_basis": "art41", "form": "presencial"}),
        )
        for k in range(2 * m // 3)
    ]
    Procedure.objects.bulk_create(crow, batch_size=5000)
    cids = list(Procedure.objects.filter(expediente__startswith="C-").order_by("pk").values_list("pk", flat=True))
    ContingencyProcedure.objects.bulk_create(
        [
            ContingencyProcedure(
                outage=outage,
                unit=units[k % len(units)],
                ref=f"CP-{k:06d}",
                title=f"Contingencia {k}",
                procedure_type="adjudicacion",
                contract_type="adquisiciones",
                legal_basis="art41",
                supplier_rfc="PRV900102AB1",
                amount=Decimal(50000 + k),
                carried_out_at=START + dt.timedelta(days=1),
                source=Source.FORM,
                registered_at=END,
                procedure_id=cids[k] if k < len(cids) else None,
                completed_at=END + dt.timedelta(days=(k % 30)) if k < m // 3 else None,
            )
            for k in range(m)
        ],
        batch_size=5000,
    )
    return outage, units


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--procedures", type=int, default=100_000)
    p.add_argument("--contingency", type=int, default=10_000)
    p.add_argument("--publish-sample", type=int, default=1000)
    p.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/licita_bench_continuity")
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    name, maintenance = admin_url(args.db_url)
    db_drop_create(name, maintenance)
    django_setup(args.db_url, Path(tempfile.mkdtemp(prefix="licita-bench-continuity-")))
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415

    from licita.continuity import selectors  # noqa: PLC0415
    from licita.continuity.services import deadlines_extend  # noqa: PLC0415
    from licita.core import clock  # noqa: PLC0415
    from licita.procurement.models import Procedure  # noqa: PLC0415
    from licita.publication.services import release_emit  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    t = time.perf_counter()
    outage, _units = load(args.procedures, args.contingency)
    print(
        f"loaded {args.procedures:,} procedures and {args.contingency:,} contingency ones in {time.perf_counter() - t:.1f} s"
    )
    clock.set_now(END + dt.timedelta(hours=1))
    extension = dt.timedelta(days=5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    t = time.perf_counter()
    with transaction.atomic():
        extended = deadlines_extend(outage=outage, extension=extension, publish=False)  # type: ignore[arg-type]
    t_ext = time.perf_counter() - t
    print(f"extension: {extended:,} procedures in {t_ext:.2f} s")

    sample = list(
        Procedure.objects.filter(outage_extensions__outage=outage).select_related("unit__institution")[
            : args.publish_sample
        ]
    )
    t = time.perf_counter()
    with transaction.atomic():
        for procedure in sample:
            release_emit(procedure=procedure, tags=["tenderAmendment"])
    t_pub = time.perf_counter() - t
    rate = len(sample) / t_pub if t_pub else 0.0
    print(
        f"publication: {len(sample):,} releases in {t_pub:.2f} s ({rate:,.0f}/s); for {extended:,}: ~{extended / rate:,.0f} s"
    )

    t = time.perf_counter()
    report = selectors.report_build(outage=outage)  # type: ignore[arg-type]
    selectors.report_csv(report)
    t_rep = time.perf_counter() - t
    print(
        f"report: {report.total.count:,} procedures, {len(report.units)} units, {report.total.complete:,} complete,"
        f" {report.total.partial:,} partial, {report.total.missing:,} missing in {t_rep:.2f} s"
    )
    met = t_ext < 10 and t_rep < 2
    if not args.no_record:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=ROOT
        ).stdout.strip()
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        machine += f", load {os.getloadavg()[0]:.1f} at the end"
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        text = DOCS.read_text(encoding="utf-8")
        row = (
            f"| {now} | {commit} + uncommitted | {machine} | PostgreSQL {pg} | {extended:,} | {t_ext:.2f} s |"
            f" {len(sample):,} in {t_pub:.2f} s ({rate:,.0f}/s) | ~{extended / rate:,.0f} s | {report.total.count:,} |"
            f" {t_rep:.2f} s | {'yes' if met else 'no'} (extension < 10 s, report < 2 s) |\n"
        )
        if SECTION not in text:
            with DOCS.open("a", encoding="utf-8") as fh:
                fh.write(HEADER + row)
        else:
            # Other benchmarks append sections too: put the row at the end of this section's table.
            lines = text.split("\n")
            at = lines.index(SECTION) + 1
            while at < len(lines) and not lines[at].startswith("|"):
                at += 1
            while at < len(lines) and lines[at].startswith("|"):
                at += 1
            lines.insert(at, row.rstrip("\n"))
            DOCS.write_text("\n".join(lines), encoding="utf-8")
    db_drop_create(name, maintenance)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
