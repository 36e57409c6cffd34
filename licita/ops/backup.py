"""Consistent online backups of the database and the documents, their restore, and restore drills.

A backup is one folder, written under a temporary name, fsynced and renamed at the end (a folder named
`licita-backup-*` is always complete; a crashed run leaves only a `.tmp-licita-backup-*` folder):

    manifest.json        when, which database, row counts per table, the ledger's size and root, and every
                         file of the backup with its size and SHA-256
    database.sqlite3     SQLite: a copy made with the online backup API (a consistent snapshot, writers go on)
    database.pgdump      PostgreSQL: `pg_dump --format=custom` of an exported snapshot
    documents/aa/bb/<sha256>   every blob the snapshot references (documents, sealed bids, opened bids'
                         documents), re-hashed as it is copied

The counts, the ledger head and the blob references are read from the same snapshot as the database copy,
so the manifest describes exactly what was copied. Blobs are written before the rows that reference them
commit and are never changed, so every blob the snapshot names is in the store.

`backup_restore` checks every file's size and hash before it touches anything, refuses a non-empty target
unless forced, and restores the documents before the database (a restore that stops half-way never leaves
a row without its blob). `drill_run` restores a backup into a scratch location and proves that the restored
copy equals the backup's source: the same row counts, every blob re-hashed, and the ledger's root recomputed
from the restored leaves.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connection, connections

from licita.core import clock
from licita.core.errors import LicitaError
from licita.ledger import merkle

FORMAT = "licita-backup-v1"
MANIFEST = "manifest.json"
PREFIX = "licita-backup-"
TMP_PREFIX = ".tmp-"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
DOCUMENTS = "documents"
CHUNK = 4 * 2**20
WORKERS = 4  # files copied or hashed at once
PROGRESS_SECONDS = 2.0
SQLITE = "sqlite"
POSTGRESQL = "postgresql"

Writer = Callable[[str], None]


class BackupError(LicitaError):
    """Raised when a backup, a restore or a drill cannot be done safely; nothing half-done is left behind."""

    code = "backup_failed"
    status = 500


class BackupDamaged(BackupError):
    """Raised when a backup's file is missing, or its size or hash is not the one its manifest records."""

    code = "backup_damaged"


class TargetNotEmpty(BackupError):
    """Raised when a restore would overwrite a database or a document store that holds data (without force)."""

    code = "restore_target_not_empty"


def failures() -> tuple[type[BaseException], ...]:
    """Return the errors a backup, restore or drill reports as a failure (a full disk, a server gone, …)."""
    from django.db import DatabaseError  # noqa: PLC0415

    found: list[type[BaseException]] = [BackupError, OSError, sqlite3.Error, DatabaseError, subprocess.SubprocessError]
    with contextlib.suppress(ImportError):
        import psycopg  # noqa: PLC0415

        found.append(psycopg.Error)
    return tuple(found)


def failure_text(exc: BaseException) -> str:
    """Return what to tell the operator about a failure."""
    if isinstance(exc, LicitaError):
        return str(exc.message)
    return f"{type(exc).__name__}: {exc}"


# --- Progress ---------------------------------------------------------------------------------------------


class Progress:
    """Report what a long run is doing: every step, and the copy's advance at most every two seconds."""

    def __init__(self, write: Writer | None) -> None:
        self._write = write
        self._last = time.monotonic()

    def note(self, text: str) -> None:
        """Report one line."""
        if self._write is not None:
            self._write(text)

    def advance(self, label: str, *, files: int, of_files: int, done: int, of_bytes: int, started: float) -> None:
        """Report the copy's advance (bytes and files) when enough time has passed, and at the end."""
        now = time.monotonic()
        if self._write is None or (files < of_files and now - self._last < PROGRESS_SECONDS):
            return
        self._last = now
        elapsed = max(now - started, 1e-9)
        rate = done / elapsed
        eta = f", {(of_bytes - done) / rate:.0f} s left" if rate and done < of_bytes else ""
        self._write(f"  {label}: {files:,}/{of_files:,} files, {_size(done)}/{_size(of_bytes)}, {_size(rate)}/s{eta}")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop returns


# --- Files ------------------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> tuple[int, str]:
    """Return the size and SHA-256 of a file, read once."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
            size += n
    return size, digest.hexdigest()


def _copy_hashed(source: Path, target: Path, expected: str | None = None) -> tuple[int, str]:
    """Copy `source` to `target` durably (temp file, fsync, rename) hashing as it copies; return size, SHA-256.

    With `expected`, a copy whose hash differs is discarded before the rename (the target is left as it was).
    The caller fsyncs the target's folder.
    """
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)
    try:
        with source.open("rb", buffering=0) as fin, os.fdopen(fd, "wb", buffering=0) as fout:
            while n := fin.readinto(buffer):
                digest.update(view[:n])
                fout.write(view[:n])
                size += n
            os.fsync(fout.fileno())
        if expected is not None and digest.hexdigest() != expected:
            Path(tmp).unlink()
        else:
            Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _in_parallel(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """Yield fn(item) for each item, in order, computed by a few threads; stop early: the rest is cancelled.

    Hashing, reads, writes and fsyncs release the GIL, so the copies of several files overlap.
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="licita-backup")
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _blob_relpath(sha256: str) -> str:
    return f"{DOCUMENTS}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _blob_source(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


# --- Databases --------------------------------------------------------------------------------------------


def vendor_of(db: dict[str, Any]) -> str:
    """Return "sqlite" or "postgresql" for a Django database settings dict; refuse any other engine."""
    engine = str(db.get("ENGINE", ""))
    if engine.endswith("sqlite3"):
        return SQLITE
    if engine.endswith("postgresql"):
        return POSTGRESQL
    raise BackupError(f"unsupported database engine {engine!r}: Licita backs up SQLite and PostgreSQL")


def database_from_url(url: str) -> dict[str, Any]:
    """Return a Django database settings dict for a database URL (sqlite:////path or postgres://...)."""
    try:
        return dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise BackupError(f"--database-url: {exc}") from None


def _describe(db: dict[str, Any]) -> str:
    if vendor_of(db) == SQLITE:
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {db.get('USER') or ''}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def pg_tool(name: str) -> str:
    """Return the path of a PostgreSQL client program: the newest /usr/lib/postgresql/*/bin, else the PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in reversed(versions):
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found (install postgresql-client)")
    return found


def _pg_params(db: dict[str, Any], dbname: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"dbname": dbname or db["NAME"], "connect_timeout": 10}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if db.get(key):
            params[name] = str(db[key])
    return params


def _pg_connect(db: dict[str, Any], dbname: str | None = None, *, autocommit: bool = True) -> Any:
    import psycopg  # noqa: PLC0415 - only PostgreSQL runs need it

    try:
        return psycopg.connect(**_pg_params(db, dbname), autocommit=autocommit)
    except psycopg.Error as exc:
        raise BackupError(f"cannot connect to {_describe(db)}: {exc}") from None


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit status {done.returncode}): {done.stderr.strip()[-2000:]}")


def _sqlite_tables(cur: Any) -> list[str]:
    rows = cur.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [r[0] for r in rows.fetchall()]


def _pg_tables(cur: Any) -> list[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [r[0] for r in cur.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _blob_reference_sql(tables: Iterable[str]) -> str:
    """Return a query of every blob hash the database references.

    Documents, sealed bids and opened bids' documents; and the document store's own record of committed
    blobs (`documents.Blob`, when the database has that table), so that a restored store matches its records.
    """
    from licita.bidding.models import Bid, BidDocument  # noqa: PLC0415 - the apps are loaded by now
    from licita.documents import models as documents  # noqa: PLC0415

    sources: list[tuple[Any, str]] = [(documents.Document, "sha256"), (Bid, "sealed_sha256"), (BidDocument, "sha256")]
    blob = getattr(documents, "Blob", None)
    if blob is not None and blob._meta.db_table in set(tables):  # noqa: SLF001
        sources.append((blob, "sha256"))
    parts = [
        f"SELECT {_quote(model._meta.get_field(field).column)} FROM {_quote(model._meta.db_table)}"  # noqa: S608, SLF001 - names from the models
        for model, field in sources
    ]
    return " UNION ".join(parts)


@dataclasses.dataclass
class Snapshot:
    """What one consistent view of a database holds: row counts, the ledger head and the referenced blobs."""

    tables: dict[str, int]
    ledger_size: int
    ledger_root: str
    blobs: set[str]
    server_version: str


def _ledger_head(size: Any, frontier: Any) -> tuple[int, str]:
    if size is None:
        return 0, merkle.EMPTY_ROOT.hex()
    hashes = json.loads(frontier) if isinstance(frontier, str) else frontier
    return int(size), merkle.Frontier.from_json({"size": int(size), "hashes": hashes}).root().hex()


def _read_snapshot(cur: Any, vendor: str) -> Snapshot:
    """Read counts, the ledger head and blob references through `cur` (one transaction or a quiet file)."""
    tables = _sqlite_tables(cur) if vendor == SQLITE else _pg_tables(cur)
    counts: dict[str, int] = {}
    for table in tables:
        cur.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - names from the catalogue
        counts[table] = int(cur.fetchone()[0])
    size, root = 0, merkle.EMPTY_ROOT.hex()
    if "ledger_head" in counts:
        cur.execute("SELECT size, frontier FROM ledger_head WHERE id = 1")
        row = cur.fetchone()
        size, root = _ledger_head(*(row or (None, None)))
    cur.execute(_blob_reference_sql(counts))
    blobs = {r[0] for r in cur.fetchall()}
    if vendor == SQLITE:
        cur.execute("SELECT sqlite_version()")
    else:
        cur.execute("SHOW server_version")
    return Snapshot(counts, size, root, blobs, str(cur.fetchone()[0]))


# --- Backup -----------------------------------------------------------------------------------------------


def _backup_sqlite(target: Path) -> Snapshot:
    """Copy the live database with the online backup API (one step: a consistent snapshot), then read it."""
    connection.ensure_connection()
    source = connection.connection
    dest = sqlite3.connect(target)
    try:
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file: no -wal beside it
        dest.commit()
    finally:
        dest.close()
    with contextlib.closing(sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)) as copy:
        cur = copy.cursor()
        check = cur.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the database copy fails SQLite's quick_check: {check}")
        return _read_snapshot(cur, SQLITE)
    # the file is closed before it is hashed: nothing opens it again


def _backup_postgresql(db: dict[str, Any], target: Path) -> Snapshot:
    """Dump an exported snapshot with pg_dump, and read the counts and references in that same snapshot."""
    with contextlib.closing(_pg_connect(db, autocommit=False)) as conn:
        cur = conn.cursor()
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT pg_export_snapshot()")
        snapshot_id = cur.fetchone()[0]
        _run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={target}",
                f"--dbname={db['NAME']}",
            ],
            _pg_env(db),
            "pg_dump",
        )
        found = _read_snapshot(cur, POSTGRESQL)
        conn.rollback()
    with target.open("rb") as fh:
        os.fsync(fh.fileno())
    return found


def _new_name(out: Path, at: dt.datetime) -> str:
    base = f"{PREFIX}{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    name, n = base, 1
    while (out / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def backup_create(*, out: Path, write: Writer | None = None) -> Path:
    """Back up the database and every referenced document into a new folder under `out`; return the folder."""
    progress = Progress(write)
    db = dict(connection.settings_dict)
    vendor = vendor_of(db)
    docs_root = Path(settings.LICITA_DOCUMENTS_DIR)
    created = clock.now()
    out.mkdir(parents=True, exist_ok=True)
    name = _new_name(out, created)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=f"{TMP_PREFIX}{name}-"))
    started = time.monotonic()
    try:
        progress.note(f"Backing up {_describe(db)} and the documents in {docs_root} to {out / name}")
        db_file = tmp / (SQLITE_FILE if vendor == SQLITE else PG_FILE)
        snapshot = _backup_sqlite(db_file) if vendor == SQLITE else _backup_postgresql(db, db_file)
        db_seconds = time.monotonic() - started
        db_size, db_sha = _hash_file(db_file)
        progress.note(
            f"  database: {_size(db_size)} in {db_seconds:.1f} s; {sum(snapshot.tables.values()):,} rows in "
            f"{len(snapshot.tables)} tables; ledger size {snapshot.ledger_size:,}"
        )
        files: list[dict[str, Any]] = [{"path": db_file.name, "size": db_size, "sha256": db_sha}]
        files += _copy_blobs(sorted(snapshot.blobs), docs_root, tmp, progress)
        doc_files = files[1:]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": created.astimezone(dt.UTC).isoformat(),
            "database": {
                "vendor": vendor,
                "name": str(db["NAME"])
                if vendor == SQLITE
                else f"{db.get('HOST') or ''}:{db.get('PORT') or ''}/{db['NAME']}",
                "server_version": snapshot.server_version,
                "file": db_file.name,
            },
            "tables": snapshot.tables,
            "ledger": {"size": snapshot.ledger_size, "root": snapshot.ledger_root},
            "documents": {"count": len(doc_files), "bytes": sum(int(f["size"]) for f in doc_files)},
            "files": files,
            "seconds": {"database": round(db_seconds, 3), "total": round(time.monotonic() - started, 3)},
        }
        _write_json(tmp / MANIFEST, manifest)
        _fsync_tree(tmp)
        final = out / name
        tmp.replace(final)
        _fsync_dir(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.note(
        f"Backup complete: {final} ({len(doc_files):,} documents, {_size(manifest['documents']['bytes'])}, "
        f"{time.monotonic() - started:.1f} s)"
    )
    return final


def _copy_blobs(hashes: list[str], docs_root: Path, into: Path, progress: Progress) -> list[dict[str, Any]]:
    """Copy the referenced blobs into `into/documents`, re-hashing each; refuse any missing or damaged blob."""
    bad = [h for h in hashes if not _is_sha256(h)]
    if bad:
        raise BackupError(f"the database references {len(bad)} malformed blob hash(es), e.g. {bad[0]!r}")
    sizes = {}
    missing = []
    for h in hashes:
        try:
            sizes[h] = _blob_source(docs_root, h).stat().st_size
        except FileNotFoundError:
            missing.append(h)
    if missing:
        raise BackupError(
            f"{len(missing)} blob(s) referenced by the database are missing from {docs_root}, e.g. "
            f"{_blob_source(docs_root, missing[0])}; repair the document store and back up again"
        )
    total = sum(sizes.values())
    progress.note(f"  documents: {len(hashes):,} files, {_size(total)}")
    files: list[dict[str, Any]] = []
    done = 0
    started = time.monotonic()

    def copy(h: str) -> tuple[str, int, str]:
        return (h, *_copy_hashed(_blob_source(docs_root, h), into / _blob_relpath(h)))

    for n, (h, size, digest) in enumerate(_in_parallel(copy, hashes), start=1):
        rel = _blob_relpath(h)
        if digest != h:
            raise BackupError(
                f"the blob {_blob_source(docs_root, h)} is damaged (its content hashes to {digest}); "
                "repair the document store and back up again"
            )
        files.append({"path": rel, "size": size, "sha256": digest})
        done += size
        progress.advance("documents", files=n, of_files=len(hashes), done=done, of_bytes=total, started=started)
    return files


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_tree(root: Path) -> None:
    """Fsync every folder under `root` (files were fsynced as they were written), deepest first."""
    folders = [Path(dirpath) for dirpath, _dirs, _files in os.walk(root)]
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(folder)


# --- Reading and verifying a backup ----------------------------------------------------------------------


def manifest_read(backup: Path) -> dict[str, Any]:
    """Return a backup's manifest, refusing a folder that is not a complete backup of this format."""
    path = backup / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupDamaged(f"{backup} is not a complete backup: {MANIFEST} is missing", file=str(path)) from None
    except (OSError, ValueError) as exc:
        raise BackupDamaged(f"{path} cannot be read: {exc}", file=str(path)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupDamaged(f"{path} is not a {FORMAT} manifest", file=str(path))
    return manifest


def backup_latest(root: Path) -> Path:
    """Return the newest complete backup under `root` (or `root` itself when it is a backup)."""
    if (root / MANIFEST).is_file():
        return root
    found = []
    for child in root.glob(f"{PREFIX}*") if root.is_dir() else []:
        with contextlib.suppress(BackupDamaged):
            found.append((manifest_read(child)["created_at"], child.name, child))
    if not found:
        raise BackupError(f"no complete backup in {root}")
    return max(found)[2]


def backup_verify(backup: Path, *, write: Writer | None = None) -> dict[str, Any]:
    """Check every file the manifest lists (present, same size, same SHA-256); return the manifest.

    Raise `BackupDamaged` naming the first file that is missing or differs.
    """
    progress = Progress(write)
    manifest = manifest_read(backup)
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise BackupDamaged(f"{backup / MANIFEST} lists no files", file=str(backup / MANIFEST))
    for entry in files:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise BackupDamaged(f"{backup / MANIFEST} has a malformed file entry: {entry!r:.200}", file=MANIFEST)
        rel = entry["path"]
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise BackupDamaged(f"{backup / MANIFEST} names a file outside the backup: {rel}", file=rel)

    total = sum(int(f["size"]) for f in files)
    progress.note(f"Verifying {backup}: {len(files):,} files, {_size(total)}")
    done = 0
    started = time.monotonic()

    def hashed(entry: dict[str, Any]) -> tuple[int, str] | None:
        try:
            return _hash_file(backup / str(entry["path"]))
        except FileNotFoundError:
            return None

    for n, (entry, found) in enumerate(zip(files, _in_parallel(hashed, files), strict=True), start=1):
        path = backup / str(entry["path"])
        if found is None:
            raise BackupDamaged(f"damaged backup: {path} is missing", file=str(path))
        size, digest = found
        if size != int(entry["size"]) or digest != entry["sha256"]:
            raise BackupDamaged(
                f"damaged backup: {path} has {size} bytes and SHA-256 {digest}; the manifest records "
                f"{entry['size']} bytes and {entry['sha256']}",
                file=str(path),
            )
        done += size
        progress.advance("verified", files=n, of_files=len(files), done=done, of_bytes=total, started=started)
    return manifest


# --- Restore ----------------------------------------------------------------------------------------------


def _documents_present(root: Path) -> bool:
    if not root.is_dir():
        return False
    return any(any(not f.startswith(TMP_PREFIX) for f in files) for _dirpath, _dirs, files in os.walk(root))


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            return bool(_sqlite_tables(conn.cursor()))
    except sqlite3.DatabaseError:
        return True  # not a database we can read: treat as data, never overwrite it silently


def _pg_database_exists(db: dict[str, Any], admin: Any) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is not None


def _pg_has_tables(db: dict[str, Any]) -> bool:
    with contextlib.closing(_pg_connect(db)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
        return bool(row[0])


def _target_state(db: dict[str, Any], documents: Path) -> list[str]:
    """Return what already holds data in the restore target (empty: safe to restore)."""
    held = []
    if vendor_of(db) == SQLITE:
        if _sqlite_has_tables(Path(db["NAME"])):
            held.append(f"the database {db['NAME']} has tables")
    else:
        with contextlib.closing(_pg_connect(db, "postgres")) as admin:
            exists = _pg_database_exists(db, admin)
        if exists and _pg_has_tables(db):
            held.append(f"the database {_describe(db)} has tables")
    if _documents_present(documents):
        held.append(f"the document folder {documents} holds files")
    return held


def _restore_documents(backup: Path, manifest: dict[str, Any], documents: Path, progress: Progress) -> int:
    """Copy every document of the backup into the store (hash checked again as it copies); return the count."""
    entries = [f for f in manifest["files"] if str(f["path"]).startswith(f"{DOCUMENTS}/")]
    total = sum(int(f["size"]) for f in entries)
    progress.note(f"  documents: {len(entries):,} files, {_size(total)} into {documents}")
    folders: set[Path] = set()
    done = 0
    started = time.monotonic()

    def copy(entry: dict[str, Any]) -> tuple[int, str]:
        sha = str(entry["sha256"])
        return _copy_hashed(backup / str(entry["path"]), _blob_source(documents, sha), expected=sha)

    for n, (entry, (size, digest)) in enumerate(zip(entries, _in_parallel(copy, entries), strict=True), start=1):
        target = _blob_source(documents, str(entry["sha256"]))
        if digest != entry["sha256"]:
            raise BackupDamaged(f"damaged backup: {backup / entry['path']} changed while it was restored")
        folders.update((target.parent, target.parent.parent))
        done += size
        progress.advance("restored", files=n, of_files=len(entries), done=done, of_bytes=total, started=started)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(folder)
    if documents.is_dir():
        _fsync_dir(documents)
    return len(entries)


def _restore_sqlite(source: Path, target: Path) -> None:
    """Put the backup's file in place: copied beside the target, fsynced, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{TMP_PREFIX}{target.name}-")
    os.close(fd)
    try:
        _copy_hashed(source, Path(tmp))
        # A WAL left by the database this replaces would be replayed into the restored file: remove it first.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _restore_postgresql(source: Path, db: dict[str, Any], *, force: bool) -> None:
    """Create the database (dropping it first when forced) and pg_restore into it in one transaction."""
    from psycopg import sql  # noqa: PLC0415

    name = sql.Identifier(str(db["NAME"]))
    with contextlib.closing(_pg_connect(db, "postgres")) as admin:
        exists = _pg_database_exists(db, admin)
        if exists and force:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
            exists = False
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    _run(
        [
            pg_tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={db['NAME']}",
            str(source),
        ],
        _pg_env(db),
        "pg_restore",
    )


def backup_restore(
    *,
    backup: Path,
    database: dict[str, Any] | None = None,
    documents: Path | None = None,
    force: bool = False,
    write: Writer | None = None,
) -> dict[str, Any]:
    """Verify a backup, then restore its documents and its database; return its manifest.

    The target defaults to the configured database and document folder. A target holding data is refused
    unless `force` (the database is then replaced; documents are content-addressed, so existing blobs stay).
    """
    progress = Progress(write)
    db = dict(database if database is not None else settings.DATABASES["default"])
    documents = Path(documents if documents is not None else settings.LICITA_DOCUMENTS_DIR)
    started = time.monotonic()
    manifest = backup_verify(backup, write=write)
    vendor = manifest["database"]["vendor"]
    if vendor != vendor_of(db):
        raise BackupError(f"{backup} is a {vendor} backup; it cannot be restored into {_describe(db)}")
    held = _target_state(db, documents)
    if held and not force:
        raise TargetNotEmpty(
            "the restore target is not empty: " + "; ".join(held) + ". Restore elsewhere, or pass --force to "
            "replace the database (stop the platform first)",
            held=held,
        )
    progress.note(f"Restoring {backup} into {_describe(db)} and {documents}")
    _restore_documents(backup, manifest, documents, progress)
    source = backup / str(manifest["database"]["file"])
    db_started = time.monotonic()
    connections.close_all()
    if vendor == SQLITE:
        _restore_sqlite(source, Path(db["NAME"]))
    else:
        _restore_postgresql(source, db, force=force)
    progress.note(f"  database: restored in {time.monotonic() - db_started:.1f} s")
    progress.note(f"Restore complete in {time.monotonic() - started:.1f} s")
    return manifest


# --- Drill ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Check:
    """One line of the drill's table: what was compared, the backup's value, the restored value."""

    what: str
    expected: str
    found: str

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclasses.dataclass
class DrillReport:
    backup: Path
    manifest: dict[str, Any]
    checks: list[Check]
    restore_seconds: float
    verify_seconds: float
    scratch: str

    @property
    def differences(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def passed(self) -> bool:
        return not self.differences

    def table(self) -> str:
        """Return the comparison as a plain-text table."""
        rows = [("check", "backup (source)", "restored", "")] + [
            (c.what, c.expected, c.found, "ok" if c.ok else "DIFFERS") for c in self.checks
        ]
        widths = [min(max(len(r[i]) for r in rows), 66) for i in range(4)]
        lines = []
        for n, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


@contextlib.contextmanager
def _restored_cursor(db: dict[str, Any]) -> Iterator[Any]:
    """Open a read-only view of a restored database."""
    if vendor_of(db) == SQLITE:
        with contextlib.closing(sqlite3.connect(f"{Path(db['NAME']).as_uri()}?mode=ro", uri=True)) as conn:
            yield conn.cursor()
    else:
        with contextlib.closing(_pg_connect(db, autocommit=False)) as conn:
            cur = conn.cursor()
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cur
            conn.rollback()


def ledger_recompute(rows: Iterable[tuple[Any, Any, Any]]) -> tuple[int, str, list[str]]:
    """Recompute the ledger from its leaves (index, data, hash) in index order: size, root and problems found."""
    frontier = merkle.Frontier()
    problems: list[str] = []
    for position, (index, data, stored) in enumerate(rows):
        if int(index) != position:
            problems.append(f"leaf at position {position} has index {index}")
            break
        digest = merkle.leaf_hash(str(data).encode("utf-8"))
        if digest.hex() != stored and len(problems) < 5:
            problems.append(f"leaf {index}: its data hashes to {digest.hex()}, the row says {stored}")
        frontier.append(digest)
    return frontier.size, frontier.root().hex(), problems


def _rows(cur: Any, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    while rows := cur.fetchmany(batch):
        yield from rows


def _compare(manifest: dict[str, Any], db: dict[str, Any], documents: Path) -> list[Check]:
    """Compare a restored database and document folder with what the backup's manifest records."""
    checks: list[Check] = []
    vendor = vendor_of(db)
    with _restored_cursor(db) as cur:
        if vendor == SQLITE:
            check = cur.execute("PRAGMA integrity_check").fetchone()[0]
            checks.append(Check("SQLite integrity_check", "ok", str(check)))
        restored = _read_snapshot(cur, vendor)
        for table in sorted(set(manifest["tables"]) | set(restored.tables)):
            expected = manifest["tables"].get(table)
            found = restored.tables.get(table)
            checks.append(
                Check(
                    f"rows in {table}",
                    "(absent)" if expected is None else f"{expected:,}",
                    "(absent)" if found is None else f"{found:,}",
                )
            )
        backed = {
            str(f["sha256"]): int(f["size"]) for f in manifest["files"] if str(f["path"]).startswith(f"{DOCUMENTS}/")
        }
        checks.append(Check("documents referenced", f"{len(backed):,}", f"{len(restored.blobs):,}"))
        checks.append(
            Check(
                "documents referenced, by hash",
                "same set",
                "same set" if set(backed) == restored.blobs else f"{len(restored.blobs ^ set(backed)):,} differ",
            )
        )
        intact, nbytes, bad = 0, 0, []
        for sha in sorted(restored.blobs):
            try:
                size, digest = _hash_file(_blob_source(documents, sha))
            except (FileNotFoundError, ValueError):
                bad.append(f"{sha} missing")
                continue
            if digest == sha:
                intact += 1
                nbytes += size
            else:
                bad.append(f"{sha} hashes to {digest}")
        checks.append(Check("documents re-hashed intact", f"{len(backed):,}", f"{intact:,}"))
        checks.append(Check("document bytes", f"{sum(backed.values()):,}", f"{nbytes:,}"))
        if bad:
            checks.append(Check("damaged or missing documents", "none", "; ".join(bad[:3])))
        cur.execute('SELECT "index", data, hash FROM ledger_leaf ORDER BY "index"')
        size, root, problems = ledger_recompute(_rows(cur))
        checks.append(Check("ledger size (leaves)", f"{manifest['ledger']['size']:,}", f"{size:,}"))
        checks.append(Check("ledger root from the leaves", str(manifest["ledger"]["root"]), root))
        checks.append(
            Check(
                "ledger head row",
                f"{manifest['ledger']['size']:,} {manifest['ledger']['root']}",
                f"{restored.ledger_size:,} {restored.ledger_root}",
            )
        )
        checks.append(Check("ledger leaves hash as stored", "all", "all" if not problems else "; ".join(problems)))
    return checks


def _live_ledger_check(manifest: dict[str, Any]) -> Check:
    """Check that the live ledger, at the backup's size, has the backup's root (it only ever grows)."""
    from licita.ledger import selectors  # noqa: PLC0415

    size = int(manifest["ledger"]["size"])
    live = selectors.size()
    found = f"log has only {live:,} leaves" if live < size else selectors.root(size).hex()
    return Check(f"source ledger root at size {size:,}", str(manifest["ledger"]["root"]), found)


def drill_run(*, backup: Path, keep: bool = False, write: Writer | None = None) -> DrillReport:
    """Restore `backup` into a scratch location, compare it with the backup's source and clean up (unless kept).

    SQLite: a temporary file; PostgreSQL: a database `licita_drill_<timestamp>` on the configured server.
    """
    progress = Progress(write)
    manifest = manifest_read(backup)
    vendor = manifest["database"]["vendor"]
    scratch = Path(tempfile.mkdtemp(prefix="licita-drill-"))
    documents = scratch / "documents"
    if vendor == SQLITE:
        db: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(scratch / "licita.sqlite3")}
        where = str(scratch)
    else:
        live = dict(connection.settings_dict)
        if vendor_of(live) != POSTGRESQL:
            shutil.rmtree(scratch, ignore_errors=True)
            raise BackupError("a PostgreSQL backup is drilled on a PostgreSQL server: configure LICITA_DATABASE_URL")
        db = live | {"NAME": f"licita_drill_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}"}
        where = f"{scratch} and the database {db['NAME']}"
    progress.note(f"Drill: restoring {backup} into {where}")
    try:
        started = time.monotonic()
        backup_restore(backup=backup, database=db, documents=documents, write=write)
        restore_seconds = time.monotonic() - started
        progress.note("Drill: comparing the restored copy with the backup's source")
        started = time.monotonic()
        checks = _compare(manifest, db, documents)
        if vendor == vendor_of(dict(connection.settings_dict)):
            checks.append(_live_ledger_check(manifest))
        verify_seconds = time.monotonic() - started
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
            if vendor == POSTGRESQL:
                _drop_database(db)
    return DrillReport(backup, manifest, checks, restore_seconds, verify_seconds, where)


def _drop_database(db: dict[str, Any]) -> None:
    from psycopg import sql  # noqa: PLC0415

    with contextlib.suppress(BackupError), contextlib.closing(_pg_connect(db, "postgres")) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(db["NAME"]))))


def drill_record(
    *,
    backup: Path,
    started_at: dt.datetime,
    report: DrillReport | None,
    error: str = "",
    total_seconds: float,
) -> Any:
    """Record a drill (passed, failed with its differences, or error) for the status page; return the row."""
    from licita.ops.models import RestoreDrill  # noqa: PLC0415

    manifest = report.manifest if report is not None else {}
    created = manifest.get("created_at")
    if report is None:
        result = RestoreDrill.Result.ERROR
    else:
        result = RestoreDrill.Result.PASSED if report.passed else RestoreDrill.Result.FAILED
    return RestoreDrill.objects.create(
        started_at=started_at,
        finished_at=clock.now(),
        backup=str(backup)[:500],
        backup_created_at=dt.datetime.fromisoformat(created) if created else None,
        vendor=manifest.get("database", {}).get("vendor", ""),
        result=result,
        restore_seconds=report.restore_seconds if report else None,
        verify_seconds=report.verify_seconds if report else None,
        total_seconds=total_seconds,
        summary={
            "tables": len(manifest.get("tables", {})),
            "rows": sum(manifest.get("tables", {}).values()),
            "documents": manifest.get("documents", {}).get("count", 0),
            "document_bytes": manifest.get("documents", {}).get("bytes", 0),
            "ledger_size": manifest.get("ledger", {}).get("size", 0),
        },
        differences=[dataclasses.asdict(c) for c in report.differences] if report else [],
        message=error[:2000],
    )


def drill_last() -> Any:
    """Return the most recent drill (for the status page), or None."""
    from licita.ops.models import RestoreDrill  # noqa: PLC0415

    return RestoreDrill.objects.order_by("-started_at", "-id").first()
