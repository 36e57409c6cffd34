"""Bulk files: gzipped JSON Lines of release and record packages, flat CSV tables, and a manifest.

Everything streams from the database with iterators, so memory stays flat however many releases
there are. A dump is written into a temporary folder and renamed into place when complete; dumps
are never overwritten or deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from licita.core import clock
from licita.publication.models import Record, Release
from licita.publication.selectors import _package_meta

PACKAGE_SIZE = 1000
#: gzip level: 3 writes about 3x faster than 6 for a few per cent more bytes.
GZIP_LEVEL = 3
CHUNK = 2000
Progress = Callable[[str, int], None]


def bulk_root() -> Path:
    """Return the folder where dumps are kept."""
    return Path(settings.LICITA_BULK_DIR)


def _as_text(field: str) -> Cast:
    """Read a JSON column as the database's own text, so rows are not decoded and encoded again."""
    return Cast(field, output_field=TextField())


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _write_gzip_lines(path: Path, lines: Iterable[str]) -> int:
    count = 0
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as gz:
        buffer = io.BufferedWriter(gz, buffer_size=1 << 20)
        for line in lines:
            buffer.write(line.encode())
            buffer.write(b"\n")
            count += 1
        buffer.flush()
    return count


def _release_lines(uri: str, progress: Progress | None) -> Iterator[str]:
    meta = _dumps(_package_meta(uri))[:-1]
    batch: list[str] = []
    done = 0
    for data in (
        Release.objects.order_by("id")
        .annotate(text=_as_text("data"))
        .values_list("text", flat=True)
        .iterator(chunk_size=CHUNK)
    ):
        batch.append(data)
        if len(batch) == PACKAGE_SIZE:
            yield meta + ',"releases":[' + ",".join(batch) + "]}"
            done += len(batch)
            batch = []
            if progress:
                progress("releases", done)
    if batch:
        yield meta + ',"releases":[' + ",".join(batch) + "]}"
        if progress:
            progress("releases", done + len(batch))


def _record_lines(uri: str, progress: Progress | None) -> Iterator[str]:
    """Yield one record package per procedure, joining releases and records by procedure id in one pass."""
    meta = _dumps(_package_meta(uri))[:-1]
    releases = (
        Release.objects.order_by("procedure_id", "id")
        .annotate(text=_as_text("data"))
        .values_list("procedure_id", "text")
        .iterator(chunk_size=CHUNK)
    )
    pending: tuple[int, str] | None = next(releases, None)
    records = (
        Record.objects.order_by("procedure_id")
        .annotate(compiled_text=_as_text("compiled"), versioned_text=_as_text("versioned"))
        .values_list("procedure_id", "ocid", "compiled_text", "versioned_text")
        .iterator(chunk_size=CHUNK)
    )
    for done, (procedure_id, ocid, compiled, versioned) in enumerate(records, start=1):
        own = []
        while pending is not None and pending[0] <= procedure_id:
            if pending[0] == procedure_id:
                own.append(pending[1])
            pending = next(releases, None)
        yield (
            f'{meta},"records":[{{"ocid":{_dumps(ocid)},"releases":[{",".join(own)}],'
            f'"compiledRelease":{compiled},"versionedRelease":{versioned}}}]}}'
        )
        if progress and done % CHUNK == 0:
            progress("records", done)


CSV_TABLES: dict[str, tuple[list[str], str]] = {
    "procedures": (
        [
            "ocid",
            "number",
            "expediente",
            "title",
            "status",
            "procedure_type",
            "law",
            "regime",
            "character",
            "form",
            "contract_type",
            "legal_basis",
            "estimated_value",
            "currency",
            "buyer",
            "unit_key",
            "published_at",
            "submission_deadline",
        ],
        """SELECT p.expediente, p.number, p.expediente, p.title, p.status, p.procedure_type, p.law, p.regime, p.character,
                  p.form, p.contract_type, p.legal_basis, p.estimated_value, p.currency, i.siglas, u.key,
                  p.published_at, p.submission_deadline
           FROM procurement_procedure p JOIN accounts_purchasingunit u ON u.id = p.unit_id
           JOIN accounts_institution i ON i.id = u.institution_id WHERE p.status <> 'draft' ORDER BY p.id""",
    ),
    "lots": (
        ["ocid", "lot", "title", "estimated_value", "status"],
        """SELECT p.expediente, l.number, l.title, l.estimated_value, l.status FROM procurement_lot l
           JOIN procurement_procedure p ON p.id = l.procedure_id WHERE p.status <> 'draft' ORDER BY l.id""",
    ),
    "items": (
        ["ocid", "lot", "cucop", "description", "quantity", "unit"],
        """SELECT p.expediente, l.number, it.cucop, it.description, it.quantity, it.unit FROM procurement_item it
           JOIN procurement_lot l ON l.id = it.lot_id JOIN procurement_procedure p ON p.id = l.procedure_id
           WHERE p.status <> 'draft' ORDER BY it.id""",
    ),
    "bids": (
        [
            "ocid",
            "supplier_rfc",
            "supplier_name",
            "lot",
            "price",
            "compliant",
            "disqualification_reason",
            "committed_at",
        ],
        """SELECT p.expediente, s.rfc, s.name, l.number, bl.price, bl.compliant, bl.disqualification_reason, b.committed_at
           FROM bidding_bidlot bl JOIN bidding_bid b ON b.id = bl.bid_id JOIN procurement_lot l ON l.id = bl.lot_id
           JOIN procurement_procedure p ON p.id = b.procedure_id JOIN accounts_supplier s ON s.id = b.supplier_id
           WHERE b.status = 'opened' ORDER BY bl.id""",
    ),
    "awards": (
        ["ocid", "lot", "supplier_rfc", "supplier_name", "value", "currency", "status", "date"],
        """SELECT p.expediente, l.number, s.rfc, s.name, a.value, a.currency, a.status, a.date FROM procurement_award a
           JOIN procurement_procedure p ON p.id = a.procedure_id JOIN procurement_lot l ON l.id = a.lot_id
           JOIN accounts_supplier s ON s.id = a.supplier_id ORDER BY a.id""",
    ),
    "contracts": (
        [
            "ocid",
            "code",
            "title",
            "supplier_rfc",
            "supplier_name",
            "value",
            "currency",
            "date_signed",
            "start_date",
            "end_date",
            "status",
            "amendments",
        ],
        """SELECT p.expediente, c.code, c.title, s.rfc, s.name, c.value, c.currency, c.date_signed, c.start_date, c.end_date,
                  c.status, (SELECT COUNT(*) FROM procurement_contractamendment m WHERE m.contract_id = c.id)
           FROM procurement_contract c JOIN procurement_procedure p ON p.id = c.procedure_id
           JOIN accounts_supplier s ON s.id = c.supplier_id ORDER BY c.id""",
    ),
    "parties": (
        ["id", "scheme", "identifier", "name", "kind"],
        """SELECT 'MX-RFC-' || rfc, 'MX-RFC', rfc, name, 'supplier' FROM accounts_supplier
           UNION ALL SELECT 'MX-CLAVEUC-' || u.key, 'MX-CLAVEUC', u.key, u.name, 'procuringEntity'
           FROM accounts_purchasingunit u ORDER BY 1""",
    ),
}


MONEY_COLUMNS = frozenset({"estimated_value", "price", "value"})


def _cell(column: str, value: Any) -> Any:
    """Return a spreadsheet-friendly cell: dates in ISO 8601, amounts with two decimals on every database."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if column in MONEY_COLUMNS:
        return f"{Decimal(str(value)):.2f}"
    if column == "compliant":
        return "si" if value else "no"
    return value


def _write_csv(path: Path, header: list[str], sql: str, prefix: str) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh, connection.cursor() as cursor:
        writer = csv.writer(fh)
        writer.writerow(header)
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            for row in rows:
                values = list(row)
                if header[0] == "ocid":
                    values[0] = f"{prefix}-{values[0]}"
                writer.writerow([_cell(column, v) for column, v in zip(header, values, strict=True)])
                count += 1
    return count


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def dump_write(*, out: Path, name: str | None = None, progress: Progress | None = None) -> Path:
    """Write a complete dump into `out/<name>/` (default: today's date) and return its folder."""
    name = name or clock.now().astimezone(dt.UTC).strftime("%Y-%m-%d")
    target = out / name
    if target.exists():
        msg = f"{target} already exists; dumps are never overwritten"
        raise FileExistsError(msg)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out))
    try:
        counts = {
            "releases.jsonl.gz": _write_gzip_lines(
                tmp / "releases.jsonl.gz",
                _release_lines(f"{settings.LICITA_PUBLIC_URL}/api/ocds/bulk/{name}/releases.jsonl.gz", progress),
            ),
            "records.jsonl.gz": _write_gzip_lines(
                tmp / "records.jsonl.gz",
                _record_lines(f"{settings.LICITA_PUBLIC_URL}/api/ocds/bulk/{name}/records.jsonl.gz", progress),
            ),
        }
        for table, (header, sql) in CSV_TABLES.items():
            counts[f"{table}.csv"] = _write_csv(tmp / f"{table}.csv", header, sql, settings.LICITA_OCID_PREFIX)
            if progress:
                progress(table, counts[f"{table}.csv"])
        manifest = {
            "name": name,
            "generated_at": clock.now().astimezone(dt.UTC).isoformat(),
            "releases": Release.objects.count(),
            "records": Record.objects.count(),
            "files": [
                {"name": fname, "size": (tmp / fname).stat().st_size, "sha256": _sha256(tmp / fname), "lines": count}
                for fname, count in counts.items()
            ],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        for path in tmp.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def dumps_list() -> list[dict[str, Any]]:
    """Return the manifests of every complete dump, newest first."""
    root = bulk_root()
    if not root.exists():
        return []
    manifests = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        manifest = folder / "manifest.json"
        if manifest.exists():
            manifests.append(json.loads(manifest.read_text(encoding="utf-8")))
    return manifests


def dump_daily() -> Path | None:
    """Write today's dump if it does not exist yet (the worker calls this)."""
    name = clock.now().astimezone(dt.UTC).strftime("%Y-%m-%d")
    if (bulk_root() / name).exists():
        return None
    return dump_write(out=bulk_root(), name=name)
