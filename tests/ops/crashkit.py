"""Helpers of the crash and failover tests (and bench/backup.py): scratch databases, servers, bid bursts, clusters.

Run as a module, it plays the parts that need Django set up against a scratch database, in their own process:

    python -m tests.ops.crashkit scene --suppliers N            set the scene; print it as JSON
    python -m tests.ops.crashkit burst --scene FILE --threads N  submit bids through the service until the
                                                                database goes away; print one JSON line per
                                                                acknowledged bid (after its commit returned)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SCRIPT = ROOT / "scripts" / "pg-standby.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def licita(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run `python -m licita ARGS` (or `python -m tests.ops.crashkit ...`) and return its stdout; raise on failure."""
    cmd = [PYTHON, "-m", *args] if args[0].startswith(("tests.", "bench.")) else [PYTHON, "-m", "licita", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        msg = f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        raise RuntimeError(msg)
    return done.stdout


# --- Scratch databases -------------------------------------------------------------------------------------


@dataclass
class Scratch:
    """A scratch platform: its environment (database, documents, keys) and how to read its database."""

    env: dict[str, str]
    var: Path
    pg_url: str = ""  #: postgres://... when the database is PostgreSQL, "" for SQLite in var/licita.sqlite3
    cleanup: list[Any] = field(default_factory=list)

    @property
    def documents(self) -> Path:
        return self.var / "documents"

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read query on the scratch database (outside any server)."""
        if self.pg_url:
            import psycopg  # noqa: PLC0415

            with psycopg.connect(self.pg_url, connect_timeout=10) as conn:
                return list(conn.execute(sql.replace("?", "%s"), params or None).fetchall())
        with contextlib.closing(sqlite3.connect(self.var / "licita.sqlite3", timeout=20)) as conn:
            return list(conn.execute(sql, params).fetchall())


def base_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICITA_") and k != "DJANGO_SETTINGS_MODULE"}
    return env | {
        "LICITA_VAR_DIR": str(var),
        "LICITA_RUNTIME_DIR": str(var / "run"),
        "LICITA_MIN_FREE_BYTES": "0",
        "LICITA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def pg_admin(url: str, sql: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def scratch_create(var: Path, *, pg_server_url: str = "", name: str = "") -> Scratch:
    """Create and migrate a scratch database: SQLite in `var`, or database `name` on a PostgreSQL server."""
    var.mkdir(parents=True, exist_ok=True)
    env = base_env(var)
    scratch = Scratch(env=env, var=var)
    if pg_server_url:
        server = pg_server_url.rsplit("/", 1)[0]
        admin = f"{server}/postgres".replace("postgres://", "postgresql://", 1)
        pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(admin, f'CREATE DATABASE "{name}"')
        scratch.pg_url = f"{server}/{name}".replace("postgres://", "postgresql://", 1)
        env["LICITA_DATABASE_URL"] = scratch.pg_url
        scratch.cleanup.append(lambda: pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    licita(["migrate", "--noinput", "-v0"], env, timeout=180)
    return scratch


def scratch_drop(scratch: Scratch) -> None:
    for undo in reversed(scratch.cleanup):
        with contextlib.suppress(Exception):
            undo()


# --- The scene (run in a subprocess, Django set up against the scratch database) ---------------------------


def scene_make(suppliers: int) -> dict[str, Any]:
    """Create a unit with its custodians, a licitación open for bids for a day, and suppliers with API tokens."""
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415
    from django.contrib.auth.hashers import get_hashers  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # they use tokens, never sign in
    get_hashers.cache_clear()

    from licita.api.auth import token_create  # noqa: PLC0415
    from licita.core import clock  # noqa: PLC0415
    from tests import factories  # noqa: PLC0415

    office = factories.make_office()
    procedure = factories.make_procedure(office)
    real_now = timezone.now()
    clock.set_now(real_now - dt.timedelta(days=16))  # the legal minimum period: published 16 days ago
    try:
        factories.publish(office, procedure, days=17)
    finally:
        clock.set_now(None)
    people = []
    for _ in range(suppliers):
        supplier, rep = factories.make_supplier()
        _row, secret = token_create(user=rep, name="crash-test")
        people.append({"rfc": supplier.rfc, "username": rep.username, "token": secret})
    return {"procedure": procedure.number, "pk": procedure.pk, "suppliers": people}


def burst_run(scene: dict[str, Any], threads: int, limit: float) -> None:
    """Submit bids through `bid_submit` from threads until the database fails; print each acknowledged bid."""
    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection  # noqa: PLC0415

    from licita.accounts.models import User  # noqa: PLC0415
    from licita.bidding import services as bidding  # noqa: PLC0415
    from licita.procurement.models import Procedure  # noqa: PLC0415

    procedure = Procedure.objects.get(pk=scene["pk"])
    users = [User.objects.get(username=p["username"]) for p in scene["suppliers"]]
    connection.close()
    lock = threading.Lock()
    deadline = time.monotonic() + limit

    def bidder(n: int) -> None:
        mine = users[n::threads]
        i = 0
        try:
            while time.monotonic() < deadline:
                user = mine[i % len(mine)]
                i += 1
                bid = bidding.bid_submit(
                    actor=user,
                    procedure=procedure,
                    lots=[bidding.BidLotInput(lot=1, price=f"{1000 + n}.{i % 100:02d}")],
                )
                line = json.dumps({"id": bid.pk, "sha256": bid.sealed_sha256, "signature": bid.receipt["signature"]})
                with lock:
                    print(line, flush=True)  # noqa: T201 - the protocol with the test
        except Exception as exc:  # the database went away: this is the end of the burst
            with lock:
                print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}), flush=True)  # noqa: T201

    workers = [threading.Thread(target=bidder, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


# --- Servers ------------------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def kill(self) -> None:
        """kill -9 the server's whole process group (gunicorn master, workers, the `licita serve` parent)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def server_start(
    env: dict[str, str], port: int, log: Path, *, workers: int = 2, threads: int = 4, via: str = "gunicorn"
) -> Server:
    """Start the production server in its own process group: gunicorn as `licita serve` runs it, or `licita serve`.

    `licita serve` first sets Django up and runs the system checks in its own process (about 2.8 s here)
    before it starts the same gunicorn command line; "gunicorn" starts that command line directly.
    """
    if via == "serve":
        cmd = [PYTHON, "-m", "licita", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(workers), "--threads", str(threads)]
    else:  # the command line licita/core/management/commands/serve.py builds
        cmd = [PYTHON, "-m", "gunicorn", "licita.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        cmd += ["--workers", str(workers), "--threads", str(threads), "--access-logfile", "-"]
        cmd += ["--graceful-timeout", "10"]
    fh = log.open("ab")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    fh.close()
    return Server(process=process, port=port, log=log)


def request(
    port: int, method: str, path: str, body: Any = None, *, token: str = "", timeout: float = 10
) -> tuple[int, Any]:
    """Return (status, parsed JSON body or None) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None
    finally:
        conn.close()


def wait_ready(port: int, path: str, timeout: float) -> float:
    """Poll GET `path` every 20 ms until it answers 200; return the seconds it took (raise after `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if request(port, "GET", path, timeout=2)[0] == 200:
                return time.monotonic() - started
        time.sleep(0.02)
    msg = f"GET {path} on port {port} did not answer 200 within {timeout} s"
    raise TimeoutError(msg)


def bid_body(n: int) -> dict[str, Any]:
    content = hashlib.sha256(str(n).encode()).digest() * 64
    return {
        "lots": [{"lot": 1, "price": f"{100000 + n}.00"}],
        "documents": [
            {"kind": "technical", "filename": f"propuesta-{n}.pdf", "content_b64": base64.b64encode(content).decode()}
        ],
    }


@dataclass
class Burst:
    """Bids fired over HTTP from threads; every 201 is kept with the bid the server answered."""

    port: int
    scene: dict[str, Any]
    threads: int = 8
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def _run(self, n: int) -> None:
        people = self.scene["suppliers"][n :: self.threads]
        path = f"/api/procedures/{self.scene['procedure']}/bids"
        i = 0
        while not self.stop.is_set():
            person = people[i % len(people)]
            i += 1
            try:
                status, body = request(self.port, "POST", path, bid_body(n * 100000 + i), token=person["token"])
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.failures.append(type(exc).__name__)
                time.sleep(0.01)
                continue
            with self._lock:
                if status == 201:
                    self.acknowledged.append(body)
                else:
                    self.failures.append(str(status))

    def wait_for(self, count: int, timeout: float) -> None:
        started = time.monotonic()
        while len(self.acknowledged) < count and time.monotonic() - started < timeout:
            time.sleep(0.01)

    def finish(self) -> None:
        self.stop.set()
        for worker in self._workers:
            worker.join(timeout=15)


# --- PostgreSQL primary + synchronous standby (scripts/pg-standby.sh) ---------------------------------------


@dataclass
class Cluster:
    base: Path
    primary_port: int
    standby_port: int

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ) | {
            "PG_STANDBY_DIR": str(self.base),
            "PRIMARY_PORT": str(self.primary_port),
            "STANDBY_PORT": str(self.standby_port),
        }

    def script(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            msg = f"pg-standby.sh {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            raise RuntimeError(msg)
        return done.stdout

    def url(self, port: int, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{db}"

    def postmaster_pid(self) -> int:
        return int((self.base / "primary" / "postmaster.pid").read_text().split("\n", 1)[0])


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """Set up a primary and a synchronous standby on free loopback ports in a scratch folder; stop and remove it."""
    base = Path(tempfile.mkdtemp(prefix="licita-pg-", dir="/tmp"))
    base.chmod(0o755)  # the postgres user must reach the clusters' folder inside
    c = Cluster(base=base / "pg", primary_port=free_port(), standby_port=free_port())
    try:
        c.script("setup")
        yield c
    finally:
        # Immediate shutdown (SIGQUIT): the clusters are thrown away, so no shutdown checkpoint is worth waiting for.
        pids = [pid for pid_file in base.rglob("postmaster.pid") if (pid := _stop_postmaster(pid_file.parent))]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.05)
        shutil.rmtree(base, ignore_errors=True)


def _stop_postmaster(data: Path) -> int:
    """Send SIGQUIT (immediate shutdown) to the postmaster of `data` if it runs; return its pid (0: none).

    The pid file of a killed server outlives it, and its pid may belong to another process by now: only a
    process whose command line names this data folder is signalled.
    """
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return 0
    if str(data).encode() not in cmdline or not _alive(pid):
        return 0
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGQUIT)
    return pid


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_writable(url: str, timeout: float) -> float:
    """Poll until the server at `url` takes a committed write; return the seconds it took."""
    import psycopg  # noqa: PLC0415

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS licita_failover_probe (at timestamptz)")
                conn.execute("INSERT INTO licita_failover_probe VALUES (now())")
                return time.monotonic() - started
        except psycopg.Error:
            time.sleep(0.01)
    msg = f"{url} took no write within {timeout} s"
    raise TimeoutError(msg)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.ops.crashkit")
    sub = parser.add_subparsers(dest="part", required=True)
    scene = sub.add_parser("scene")
    scene.add_argument("--suppliers", type=int, default=8)
    burst = sub.add_parser("burst")
    burst.add_argument("--scene", type=Path, required=True)
    burst.add_argument("--threads", type=int, default=4)
    burst.add_argument("--limit", type=float, default=30.0, help="stop after this many seconds in any case")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    if args.part == "scene":
        print(json.dumps(scene_make(args.suppliers)))  # noqa: T201 - the scene, read by the test
    else:
        burst_run(json.loads(args.scene.read_text()), args.threads, args.limit)


if __name__ == "__main__":
    main()
