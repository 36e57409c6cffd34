"""Bulk files: gzipped JSON Lines of release and record packages, flat CSV tables, and a manifest.

Everything streams from the database with iterators, so memory stays flat however many releases
there are. A dump is written into a temporary folder and renamed into place when complete; dumps
are never overwritten or deleted.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
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
from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from psycopg.abc import Buffer
from psycopg.adapt import Loader

from licita.core import clock
from licita.publication.build import iso_datetime
from licita.publication.models import Record, Release
from licita.publication.selectors import _package_meta

PACKAGE_SIZE = 1000
#: gzip level. On the benchmark's data, level 3 writes about 1.5x faster than level 6, and its files are
#: about 20% (releases) to 60% (records) larger: see docs/benchmarks.md.
GZIP_LEVEL = 3
#: Rows fetched from the database at a time: the dump's memory is a few of these chunks, whatever the data.
CHUNK = 2000
WRITE_BUFFER = 1 << 20
_T = TypeVar("_T")


class _BytesLoader(Loader):
    """Load a PostgreSQL `text` value as its bytes."""

    def load(self, data: Buffer) -> bytes:
        """Return the value's UTF-8 bytes."""
        return bytes(data)


Progress = Callable[[str, int], None]


def bulk_root() -> Path:
    """Return the folder where dumps are kept."""
    return Path(settings.LICITA_BULK_DIR)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _rows(sql: str) -> Iterator[tuple[Any, ...]]:
    """Stream the rows of `sql` from this thread's connection, a chunk at a time (a server-side cursor on PostgreSQL).

    On PostgreSQL, `text` columns (the stored JSON documents; names and codes are `varchar`) arrive as the
    bytes the server sent: they go to the gzip stream as they are, never decoded and encoded again.
    """
    with connection.chunked_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.cursor.adapters.register_loader("text", _BytesLoader)
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _bytes(value: str | bytes) -> bytes:
    """Return a JSON document's text as UTF-8 bytes (PostgreSQL gives bytes already, SQLite a string)."""
    return value if isinstance(value, bytes) else value.encode()


class _Sink(io.RawIOBase):
    """A file that keeps the SHA-256 and the size of what is written to it, so nothing is read twice."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.fh = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += self.fh.write(view)
        return len(view)

    def close(self) -> None:
        if not self.closed:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
        super().close()


def _write_gzip_lines(path: Path, lines: Iterable[bytes]) -> dict[str, Any]:
    """Write `lines` as gzipped JSON Lines; return the manifest entry of the file."""
    count = 0
    sink = _Sink(path)
    with sink, gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as gz:
        # Large writes: zlib and hashlib let go of the GIL for them, so the other files are written meanwhile.
        buffer = io.BufferedWriter(gz, buffer_size=WRITE_BUFFER)
        for line in lines:
            buffer.write(line)
            buffer.write(b"\n")
            count += 1
        buffer.flush()
    return {"name": path.name, "size": sink.size, "sha256": sink.digest.hexdigest(), "lines": count}


def _release_lines(uri: str, progress: Progress | None) -> Iterator[bytes]:
    head = _dumps(_package_meta(uri))[:-1].encode() + b',"releases":['
    batch: list[bytes] = []
    done = 0
    for (data,) in _rows("SELECT data FROM publication_release ORDER BY id"):
        batch.append(_bytes(data))
        if len(batch) == PACKAGE_SIZE:
            yield head + b",".join(batch) + b"]}"
            done += len(batch)
            batch = []
            if progress:
                progress("releases", done)
    if batch:
        yield head + b",".join(batch) + b"]}"
        if progress:
            progress("releases", done + len(batch))


def _record_lines(uri: str, progress: Progress | None) -> Iterator[bytes]:
    """Yield one record package per procedure, joining releases and records by procedure id in one pass.

    The record lists its releases as linked releases (`url`, `date`, `tag`): the releases themselves are in
    `releases.jsonl.gz` beside it, and at the `url`, the release package of the ocid with the release's id as
    fragment, as the standard describes. The compiled and the versioned release are embedded.
    """
    meta = _dumps(_package_meta(uri))[:-1]
    base = f"{settings.LICITA_PUBLIC_URL}/api/ocds/releases/"
    releases = _rows("SELECT procedure_id, release_id, date, tags FROM publication_release ORDER BY procedure_id, id")
    pending = next(releases, None)
    records = _rows("SELECT procedure_id, ocid, compiled, versioned FROM publication_record ORDER BY procedure_id")
    for done, (procedure_id, ocid, compiled, versioned) in enumerate(records, start=1):
        url = base + quote(ocid, safe="") + "#"
        own = []
        while pending is not None and pending[0] <= procedure_id:
            if pending[0] == procedure_id:
                _, release_id, date, tags = pending
                if isinstance(date, str):  # SQLite: the stored text, in UTC
                    date = dt.datetime.fromisoformat(date)
                if date.tzinfo is None:  # SQLite: a naive datetime, in UTC
                    date = date.replace(tzinfo=dt.UTC)
                tags = tags if isinstance(tags, str) else _dumps(tags)
                own.append(f'{{"url":{_dumps(url + release_id)},"date":"{iso_datetime(date)}","tag":{tags}}}')
            pending = next(releases, None)
        yield b"".join(
            (
                f'{meta},"records":[{{"ocid":{_dumps(ocid)},"releases":[{",".join(own)}],"compiledRelease":'.encode(),
                _bytes(compiled),
                b',"versionedRelease":',
                _bytes(versioned),
                b"}]}",
            )
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


def _write_csv(path: Path, header: list[str], sql: str, prefix: str) -> dict[str, Any]:
    """Write one CSV table (UTF-8 with a BOM, so spreadsheets read the accents); return its manifest entry."""
    count = 0
    sink = _Sink(path)
    with sink, io.TextIOWrapper(io.BufferedWriter(sink, WRITE_BUFFER), encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in _rows(sql):
            values = list(row)
            if header[0] == "ocid":
                values[0] = f"{prefix}-{values[0]}"
            writer.writerow([_cell(column, v) for column, v in zip(header, values, strict=True)])
            count += 1
    return {"name": path.name, "size": sink.size, "sha256": sink.digest.hexdigest(), "lines": count}


def _csv_tables(folder: Path, progress: Progress | None) -> list[dict[str, Any]]:
    entries = []
    for table, (header, sql) in CSV_TABLES.items():
        entries.append(_write_csv(folder / f"{table}.csv", header, sql, settings.LICITA_OCID_PREFIX))
        if progress:
            progress(table, entries[-1]["lines"])
    return entries


def _ledger_files(folder: Path, progress: Progress | None) -> list[dict[str, Any]]:
    """Write the public ledger: its leaves (each line the exact bytes hashed), checkpoints and verifier keys."""
    from licita.ledger.services import verifier_keys  # noqa: PLC0415

    def leaves() -> Iterator[bytes]:
        for done, (data,) in enumerate(_rows('SELECT data FROM ledger_leaf ORDER BY "index"'), 1):
            yield _bytes(data)
            if progress and done % 100_000 == 0:
                progress("ledger", done)

    def checkpoints() -> Iterator[bytes]:
        for size, root, note in _rows("SELECT size, root, note FROM ledger_checkpoint ORDER BY size"):
            root_text = root.decode() if isinstance(root, bytes) else root
            note_text = note.decode() if isinstance(note, bytes) else note
            root_b64 = base64.b64encode(bytes.fromhex(root_text)).decode("ascii")
            yield _dumps({"size": size, "root": root_b64, "note": note_text}).encode()

    entries = [
        _write_gzip_lines(folder / "ledger-leaves.jsonl.gz", leaves()),
        _write_gzip_lines(folder / "ledger-checkpoints.jsonl.gz", checkpoints()),
    ]
    sink = _Sink(folder / "ledger-key.txt")
    with sink:
        sink.write("".join(f"{key}\n" for key in verifier_keys()).encode())
    entries.append(
        {"name": "ledger-key.txt", "size": sink.size, "sha256": sink.digest.hexdigest(), "lines": len(verifier_keys())}
    )
    return entries


@contextlib.contextmanager
def _snapshot() -> Iterator[str | None]:
    """Open a read-only transaction on one snapshot of the data; yield its id for other connections, if any.

    Every file of a dump and its manifest then show the same moment, however many acts commit meanwhile.
    On PostgreSQL the snapshot is exported, so that other threads' connections can read the same one.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor != "postgresql":
            # SQLite in WAL mode: a read transaction sees one snapshot once it has read (the counts, first).
            yield None
            return
        with connection.cursor() as cursor:
            if outermost:  # a transaction of our own, which can still choose its isolation
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # Each server-side cursor sorts and buffers its chunk in memory instead of in temporary files.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            if not outermost:  # inside the caller's transaction (a savepoint): read it, export nothing
                yield None
                return
            cursor.execute("SELECT pg_export_snapshot()")
            yield cursor.fetchone()[0]


def _in_snapshot(snapshot: str, job: Callable[[], _T]) -> _T:
    """Run `job` in this thread on a connection of its own that reads `snapshot`, then close that connection."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            cursor.execute("SET LOCAL work_mem = '64MB'")
            return job()
    finally:
        connection.close()


def dump_write(*, out: Path, name: str | None = None, progress: Progress | None = None) -> Path:
    """Write a complete dump into `out/<name>/` (default: today's date) and return its folder.

    The files are written into a hidden temporary folder, renamed into place when complete; a dump that
    fails leaves nothing behind. On PostgreSQL, outside any transaction of the caller's, the two JSON files
    and the CSV tables are written at once by three threads that share one snapshot of the data.
    """
    name = name or clock.now().astimezone(dt.UTC).strftime("%Y-%m-%d")
    target = out / name
    if target.exists():
        msg = f"{target} already exists; dumps are never overwritten"
        raise FileExistsError(msg)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out))
    uri = f"{settings.LICITA_PUBLIC_URL}/api/ocds/bulk/{name}/"
    jobs: list[Callable[[], list[dict[str, Any]]]] = [
        lambda: [_write_gzip_lines(tmp / "releases.jsonl.gz", _release_lines(uri + "releases.jsonl.gz", progress))],
        lambda: [_write_gzip_lines(tmp / "records.jsonl.gz", _record_lines(uri + "records.jsonl.gz", progress))],
        lambda: [*_csv_tables(tmp, progress), *_ledger_files(tmp, progress)],
    ]
    from licita.ledger.services import checkpoint_tick  # noqa: PLC0415

    if not connection.in_atomic_block:
        checkpoint_tick()  # the dump's log then ends with a checkpoint that covers it all
    try:
        with _snapshot() as snapshot:
            counts = {"releases": Release.objects.count(), "records": Record.objects.count()}
            if snapshot is not None:
                with concurrent.futures.ThreadPoolExecutor(len(jobs), thread_name_prefix="dump") as pool:
                    futures = [pool.submit(_in_snapshot, snapshot, job) for job in jobs]
                    files = [entry for future in futures for entry in future.result()]
            else:
                files = [entry for job in jobs for entry in job()]
        manifest = {"name": name, "generated_at": clock.now().astimezone(dt.UTC).isoformat(), **counts, "files": files}
        sink = _Sink(tmp / "manifest.json")
        with sink:
            sink.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode())
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
