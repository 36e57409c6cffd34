"""Bid burst: N suppliers submit sealed bids in the final minute before a licitación's deadline.

Usage (from the project root)::

    .venv/bin/python bench/bid_burst.py [--bids 500] [--late 50] [--concurrency 32]
        [--db-url postgres://postgres@127.0.0.1:5432/licita_bench] [--port 8765] [--spread 55] [--acts 200]
        [--no-record] [--save-raw timings.json]

What it does, end to end (every step bounded in time; the database and server are always cleaned up):

1. Drops and creates the PostgreSQL database named by --db-url (its name must contain "bench") and a fresh
   LICITA_VAR_DIR, runs `licita migrate`.
2. Starts the production server, `licita serve` (gunicorn + the background worker), LICITA_ENV unset.
3. In a subprocess with the same environment, sets the scene through the services: one institution, one unit,
   buyer operator/admin, auditor and a third custodian (with custodian keys), N + late suppliers each with its
   representative and API token, and one licitación published with the clock frozen 16 days in the past so its
   submission deadline is real now + --lead seconds. A second licitación of the same unit is published too (its
   deadline an hour later), with an API token for the unit's buyer operator: the publisher of step 4.
4. From deadline - 60 s, the N suppliers bid concurrently over the API (spread evenly over --spread seconds, or
   all at once with --spread 0); after the deadline the late suppliers bid, and each must get 409 deadline_passed.
   Meanwhile (publication latency) a publisher thread performs --acts acts on the second procedure, spread over
   the same --spread seconds (over 10 s with --spread 0): each attaches a small distinct document
   (POST /api/procedures/{ref}/documents), which publishes a tenderUpdate release in the act's transaction; the
   time its 201 arrives is recorded. A feed-follower thread polls GET /api/ocds/feed with the cursor every 50 ms
   (limit 1000) and records when each release id is first seen (and how many times).
5. Counts the stored bids in the database, checks every receipt with tools/verify_receipt.py's logic against
   GET /api/platform/keys (and the sealed blob against the receipt's bid_sha256). Reads the release packages of
   both procedures (GET /api/ocds/releases/{ocid}), maps each act to its release by the newest document's title
   (cross-checked against commit order), and checks that the follower saw every release exactly once and in
   order. Publication latency = first seen in the feed - 201 received (clamped at 0). Prints the figures and
   appends a row to each of the two tables in docs/benchmarks.md.

Exit status: 0 when every check passes and both p99 (bid latency, publication latency) < 1 s, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
STEP_TIMEOUT = 300  # seconds: any one step taking longer aborts the run
P99_TARGET = 1.0  # seconds
BURST_WINDOW = 60.0  # the burst starts this many seconds before the deadline
FEED_INTERVAL = 0.05  # seconds between the feed follower's polls
FEED_LIMIT = 1000  # releases per feed page (the API's maximum)
FLOOD_ACTS_SPAN = 10.0  # with --spread 0 the acts are spread over this many seconds (a flood lasts ~10 s)


class BenchAbort(Exception):
    """Raised to stop the run with a clear message (cleanup still happens)."""


# --- Bounded steps -------------------------------------------------------------------------------


def _on_term(signum: int, frame: Any) -> None:
    raise BenchAbort(f"received signal {signum}; aborting")


@contextmanager
def step(name: str, seconds: int = STEP_TIMEOUT):
    """Run a step under a wall-clock alarm; print its duration."""
    started = time.monotonic()
    print(f"-- {name} ...", flush=True)

    def _alarm(signum: int, frame: Any) -> None:
        raise BenchAbort(f"step '{name}' took more than {seconds} s; aborting")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    print(f"   {name}: {time.monotonic() - started:.1f} s", flush=True)


def run(cmd: list[str], env: dict[str, str], what: str, timeout: int = STEP_TIMEOUT) -> str:
    """Run a subprocess to completion; abort with its output when it fails or overruns."""
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchAbort(f"{what} took more than {timeout} s; aborting") from None
    if done.returncode != 0:
        raise BenchAbort(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


# --- Database ------------------------------------------------------------------------------------


def _split_db_url(url: str) -> tuple[str, str]:
    """Return (database name, URL of the maintenance database `postgres` on the same server)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchAbort(f"--db-url must be a postgres:// URL, got {url!r}")
    name = parts.path.lstrip("/")
    if not name:
        raise BenchAbort("--db-url must name a database")
    return name, urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def _pg(admin_url: str, sql: Any, *, fetch: bool = False) -> Any:
    import psycopg  # noqa: PLC0415 - a Licita dependency, imported where needed

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(sql)
        return cur.fetchone()[0] if fetch else None


def db_recreate(name: str, admin_url: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    _pg(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _pg(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def db_drop(name: str, admin_url: str) -> None:
    from psycopg import sql  # noqa: PLC0415

    _pg(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- In-process phases run in subprocesses (Django set up against the bench database) --------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    import django  # noqa: PLC0415

    django.setup()


def internal_setup(out: Path, suppliers: int, late: int, lots: int, lead: float) -> None:
    """Create the unit, custodians, suppliers with tokens and publish the procedure (deadline = now + lead).

    Also publish a second procedure of the unit (deadline an hour later) and give its buyer operator an API
    token: the publication-latency publisher attaches documents to it during the burst.
    """
    _django()
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from licita.accounts import services as accounts  # noqa: PLC0415
    from licita.accounts.models import Role  # noqa: PLC0415
    from licita.accounts.rfc import rfc_generate  # noqa: PLC0415
    from licita.api.auth import token_create  # noqa: PLC0415
    from licita.bidding import services as bidding  # noqa: PLC0415
    from licita.core import clock  # noqa: PLC0415
    from licita.procurement import services as proc  # noqa: PLC0415
    from licita.publication.build import ocid_for  # noqa: PLC0415
    from licita.publication.models import Release  # noqa: PLC0415

    started = time.monotonic()
    with transaction.atomic():
        institution = accounts.institution_create(
            actor=None, name="Secretaría de Pruebas de Carga", siglas="SPC", ramo="09"
        )
        unit = accounts.unit_create(
            actor=None, institution=institution, key="009T00001", name="Dirección de Recursos Materiales"
        )

        def user(username: str, role: str, **scope: Any) -> Any:
            u = accounts.user_create(actor=None, username=username, password=None)
            accounts.membership_grant(actor=None, user=u, role=role, **scope)
            return u

        operator = user("bench-operador", Role.BUYER_OPERATOR, unit=unit)
        admin = user("bench-admin", Role.BUYER_ADMIN, unit=unit)
        auditor = user("bench-auditor", Role.AUDITOR, institution=institution)
        third = user("bench-tercero", Role.BUYER_OPERATOR, unit=unit)
        for custodian in (admin, auditor, third):
            public = X25519PrivateKey.generate().public_key().public_bytes_raw()
            bidding.custodian_key_register(actor=custodian, public_key_b64=base64.b64encode(public).decode())

        people = []
        for i in range(suppliers + late):
            rep = accounts.user_create(actor=None, username=f"bench-proveedor-{i:05d}", password=None)
            rfc = rfc_generate(
                name_letters="BNC", date=dt.date(1960, 1, 1) + dt.timedelta(days=i), person=False, seed=i
            )
            accounts.supplier_register(actor=rep, rfc=rfc, name=f"Proveedora de Carga {i}, S.A. de C.V.")
            _row, secret = token_create(user=rep, name="bid-burst")
            people.append({"rfc": rfc, "token": secret})

        procedure = proc.procedure_create(
            actor=operator,
            unit_key=unit.key,
            title="Adquisición de material de curación (prueba de carga)",
            law="LAASSP",
            procedure_type="licitacion",
            contract_type="adquisiciones",
            legal_basis="art26",
            lots=[
                proc.LotInput(
                    title=f"Partida {n}",
                    estimated_value="1000000.00",
                    items=[
                        proc.ItemInput(
                            cucop="25100001", description=f"Bien de la partida {n}", quantity="10", unit="pieza"
                        )
                    ],
                )
                for n in range(1, lots + 1)
            ],
        )
        # The publication-latency publisher's procedure and the buyer operator's token.
        second = proc.procedure_create(
            actor=operator,
            unit_key=unit.key,
            title="Servicio de mantenimiento de equipo médico (prueba de publicación)",
            law="LAASSP",
            procedure_type="licitacion",
            contract_type="servicios",
            legal_basis="art26",
            lots=[
                proc.LotInput(
                    title="Partida única",
                    estimated_value="500000.00",
                    items=[
                        proc.ItemInput(cucop="25100001", description="Mantenimiento", quantity="1", unit="servicio")
                    ],
                )
            ],
        )
        _row, operator_token = token_create(user=operator, name="publication-latency")
    # Publication needs the legal minimum period (15 days): publish "16 days ago" so the deadline is
    # real now + lead. The deadline is taken last so setup time does not eat into the burst.
    real_now = timezone.now()
    clock.set_now(real_now - dt.timedelta(days=16))
    try:
        second = proc.procedure_publish(
            actor=admin,
            procedure=second,
            submission_deadline=real_now + dt.timedelta(seconds=lead + 3600),
            committee=[admin.pk, auditor.pk, third.pk],
            threshold=2,
        )
    finally:
        clock.set_now(None)
    real_now = timezone.now()
    deadline = real_now + dt.timedelta(seconds=lead)
    clock.set_now(real_now - dt.timedelta(days=16))
    try:
        procedure = proc.procedure_publish(
            actor=admin,
            procedure=procedure,
            submission_deadline=deadline,
            committee=[admin.pk, auditor.pk, third.pk],
            threshold=2,
        )
    finally:
        clock.set_now(None)
    procedure.refresh_from_db()
    second.refresh_from_db()
    out.write_text(
        json.dumps(
            {
                "procedure": procedure.number,
                "ocid": ocid_for(procedure),
                "deadline": procedure.submission_deadline.isoformat(),
                "publisher": {
                    "procedure": second.number,
                    "ocid": ocid_for(second),
                    "username": operator.username,
                    "token": operator_token,
                    "releases": Release.objects.filter(ocid=ocid_for(second)).count(),
                },
                "lots": lots,
                "bidders": people[:suppliers],
                "late": people[suppliers:],
                "setup_seconds": round(time.monotonic() - started, 1),
            }
        ),
        encoding="utf-8",
    )


def internal_verify(out: Path, number: str) -> None:
    """Write what the database holds for the procedure: bids by status, ids in force, late commits."""
    _django()
    from django.db import connection  # noqa: PLC0415
    from django.db.models import Count  # noqa: PLC0415

    from licita.bidding.models import Bid  # noqa: PLC0415
    from licita.procurement.models import Procedure  # noqa: PLC0415

    procedure = Procedure.objects.get(number=number)
    bids = Bid.objects.filter(procedure=procedure)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    out.write_text(
        json.dumps(
            {
                "status": procedure.status,
                "by_status": dict(bids.values_list("status").annotate(n=Count("id")).order_by()),
                "submitted_ids": sorted(bids.filter(status="submitted").values_list("id", flat=True)),
                "committed_after_deadline": bids.filter(committed_at__gte=procedure.submission_deadline).count(),
                "server_version": server_version,
            }
        ),
        encoding="utf-8",
    )


# --- Server --------------------------------------------------------------------------------------


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def server_start(env: dict[str, str], *, host: str, port: int, workers: int, threads: int, log: Path):
    cmd = [sys.executable, "-m", "licita", "serve", "--host", host, "--port", str(port)]
    cmd += ["--workers", str(workers), "--threads", str(threads)]
    with log.open("wb") as fh:
        # A session of its own, so stopping it reaches gunicorn's workers and the background worker too.
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def server_wait(proc: subprocess.Popen, base: str, log: Path, seconds: float = 60) -> dict[str, Any]:
    import httpx  # noqa: PLC0415

    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise BenchAbort(f"the server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with suppress(httpx.HTTPError):
            r = httpx.get(f"{base}/api/platform/keys", timeout=2)
            if r.status_code == 200:
                return r.json()
        time.sleep(0.2)
    raise BenchAbort(f"the server did not answer /api/platform/keys within {seconds:.0f} s")


def server_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # gunicorn's arbiter and the worker are in the same session; give them a moment, then make sure.
    time.sleep(0.5)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


# --- Load ----------------------------------------------------------------------------------------


class Bidder:
    """Thread-local httpx clients posting bids."""

    def __init__(self, base: str, number: str, lots: int, doc_bytes: int) -> None:
        self.base = base
        self.url = f"/api/procedures/{number}/bids"
        self.lots = lots
        self.doc_bytes = doc_bytes
        self.local = threading.local()
        self.clients: list[Any] = []
        self.lock = threading.Lock()

    def client(self) -> Any:
        import httpx  # noqa: PLC0415

        c = getattr(self.local, "client", None)
        if c is None:
            c = httpx.Client(base_url=self.base, timeout=httpx.Timeout(30.0))
            self.local.client = c
            with self.lock:
                self.clients.append(c)
        return c

    def body(self, rng: random.Random) -> dict[str, Any]:
        lots = [{"lot": n, "price": f"{rng.uniform(500_000, 1_000_000):.2f}"} for n in range(1, self.lots + 1)]
        documents = []
        if self.doc_bytes:
            content = base64.b64encode(rng.randbytes(self.doc_bytes)).decode()
            documents.append({"kind": "technical", "filename": "propuesta-tecnica.pdf", "content_b64": content})
        return {"lots": lots, "documents": documents}

    def submit(self, person: dict[str, str], at: float | None, seed: int) -> dict[str, Any]:
        """Post one bid at monotonic time `at` (or now); return what happened and how long it took."""
        import httpx  # noqa: PLC0415

        body = self.body(random.Random(seed))
        if at is not None:
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        client = self.client()
        sent = time.monotonic()
        result: dict[str, Any] = {"rfc": person["rfc"], "scheduled": at, "sent": sent, "status": None, "code": None}
        try:
            r = client.post(self.url, json=body, headers={"Authorization": f"Bearer {person['token']}"})
            result["status"] = r.status_code
            data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            result["code"] = data.get("code")
            if r.status_code == 201:
                result["bid"] = data
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
            result["error"] = f"{type(exc).__name__}: {exc}"
        result["done"] = time.monotonic()
        result["latency"] = result["done"] - sent
        return result

    def close(self) -> None:
        for c in self.clients:
            c.close()


class Publisher:
    """A buyer operator performing acts on a procedure: attaching small distinct documents, one by one.

    Each act publishes one tenderUpdate release in its transaction; `results` holds, per act, the document
    title and the monotonic time its 201 response was received (`done`).
    """

    def __init__(self, base: str, number: str, token: str, tag: str) -> None:
        import httpx  # noqa: PLC0415

        self.url = f"/api/procedures/{number}/documents"
        self.number = number
        self.headers = {"Authorization": f"Bearer {token}"}
        self.tag = tag
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(30.0))
        self.results: list[dict[str, Any]] = []
        self.error: str | None = None
        self.stop = threading.Event()

    def title(self, i: int) -> str:
        return f"Anexo de prueba de publicación {i + 1:04d} ({self.tag})"

    def warm(self) -> None:
        self.client.get(f"/api/procedures/{self.number}", headers=self.headers)

    def act(self, i: int, at: float) -> dict[str, Any]:
        """Attach document i at monotonic time `at`; return what happened and when the answer arrived."""
        import httpx  # noqa: PLC0415

        content = f"%PDF-1.4\n% Licita bench {self.tag}: anexo {i + 1} {random.randbytes(16).hex()}\n%%EOF\n"
        body = {
            "kind": "biddingDocuments",
            "title": self.title(i),
            "filename": f"anexo-{i + 1:04d}.pdf",
            "content_b64": base64.b64encode(content.encode()).decode(),
        }
        delay = at - time.monotonic()
        if delay > 0:
            self.stop.wait(delay)
        sent = time.monotonic()
        result: dict[str, Any] = {"i": i, "title": body["title"], "scheduled": at, "sent": sent, "status": None}
        try:
            r = self.client.post(self.url, json=body, headers=self.headers)
            result["done"] = time.monotonic()
            result["status"] = r.status_code
            if r.status_code != 201:
                result["error"] = r.text[:300]
        except httpx.HTTPError as exc:
            result["done"] = time.monotonic()
            result["error"] = f"{type(exc).__name__}: {exc}"
        result["latency"] = result["done"] - sent
        return result

    def run(self, start: float, span: float, acts: int) -> None:
        """Perform `acts` acts evenly spread over `span` seconds from monotonic `start` (thread target)."""
        gap = span / (acts - 1) if acts > 1 else 0.0
        try:
            for i in range(acts):
                if self.stop.is_set():
                    return
                self.results.append(self.act(i, start + i * gap))
        except Exception as exc:  # reported by the main thread
            self.error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.client.close()


class FeedFollower:
    """Follows GET /api/ocds/feed with its cursor, polling every FEED_INTERVAL seconds (thread target: run).

    Records the monotonic time each release id was first seen (when the page holding it was received), how
    many times each id was seen, and the order in which ids arrived.
    """

    def __init__(self, base: str) -> None:
        import httpx  # noqa: PLC0415

        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(30.0))
        self.cursor: str | None = None
        self.first_seen: dict[str, float] = {}
        self.times_seen: Counter[str] = Counter()
        self.order: list[tuple[str, str]] = []  # (ocid, release id)
        self.polls = 0
        self.poll_seconds: list[float] = []
        self.poll_log: list[tuple[float, float, int]] = []  # (sent, received, releases) per answered poll
        self.errors: list[str] = []
        self.stop = threading.Event()

    def poll(self) -> bool:
        """Fetch the next page; return has_more."""
        import httpx  # noqa: PLC0415

        params: dict[str, Any] = {"limit": FEED_LIMIT}
        if self.cursor:
            params["cursor"] = self.cursor
        sent = time.monotonic()
        try:
            r = self.client.get("/api/ocds/feed", params=params)
        except httpx.HTTPError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return False
        received = time.monotonic()
        self.polls += 1
        self.poll_seconds.append(received - sent)
        if r.status_code != 200:
            self.errors.append(f"{r.status_code}: {r.text[:300]}")
            return False
        page = r.json()
        self.poll_log.append((sent, received, len(page["releases"])))
        for release in page["releases"]:
            rid = release["id"]
            self.times_seen[rid] += 1
            self.first_seen.setdefault(rid, received)
            self.order.append((release["ocid"], rid))
        self.cursor = page["next_cursor"]
        return bool(page["has_more"])

    def drain(self) -> None:
        """Poll until the feed has nothing more (bounded by the caller's step alarm)."""
        while self.poll():
            pass

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                more = self.poll()
            except Exception as exc:  # a malformed page: record it and keep following
                self.errors.append(f"{type(exc).__name__}: {exc}")
                more = False
            if not more:
                self.stop.wait(max(0.0, FEED_INTERVAL - (time.monotonic() - started)))

    def wait_for(self, ids: set[str], seconds: float) -> set[str]:
        """Wait until every id in `ids` has been seen (at most `seconds`); return those still unseen."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            missing = {rid for rid in ids if rid not in self.first_seen}
            if not missing:
                return missing
            time.sleep(FEED_INTERVAL)
        return {rid for rid in ids if rid not in self.first_seen}

    def close(self) -> None:
        self.client.close()


def release_packages(base: str, ocids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Return the release package of each ocid (GET /api/ocds/releases/{ocid})."""
    import httpx  # noqa: PLC0415

    packages = {}
    for ocid in ocids:
        r = httpx.get(f"{base}/api/ocds/releases/{ocid}", timeout=30)
        if r.status_code != 200:
            raise BenchAbort(f"GET /api/ocds/releases/{ocid} answered {r.status_code}: {r.text[:300]}")
        packages[ocid] = r.json()
    return packages


def release_number(release_id: str) -> int:
    """Return the sequence number of a Licita release id ({ocid}-{number:04d})."""
    return int(release_id.rsplit("-", 1)[1])


def newest_document_title(release: dict[str, Any]) -> str | None:
    """Return the title of the newest procedure document in a release (highest pk, the suffix of its id)."""
    documents = (release.get("tender") or {}).get("documents") or []
    if not documents:
        return None
    return max(documents, key=lambda d: int(str(d["id"]).rsplit("-", 1)[1]))["title"]


def publication_match(
    acts: list[dict[str, Any]], package: dict[str, Any], baseline: int
) -> tuple[dict[str, str], int, list[str]]:
    """Map each acknowledged act's title to its release id; return (map, agreeing with commit order, problems).

    The map is by the newest document's title in each release of the procedure; the cross-check is the
    order: the k-th acknowledged act (the publisher is sequential) must be release baseline + k.
    """
    titles = {a["title"] for a in acts if a["status"] == 201}
    mapped: dict[str, str] = {}
    problems: list[str] = []
    for release in package.get("releases", []):
        title = newest_document_title(release)
        if title not in titles:
            continue
        if title in mapped:
            problems.append(f"two releases carry {title!r} as their newest document: {mapped[title]}, {release['id']}")
            continue
        mapped[title] = release["id"]
    acked = [a for a in acts if a["status"] == 201]
    agree = sum(
        1
        for k, a in enumerate(acked)
        if a["title"] in mapped and release_number(mapped[a["title"]]) == baseline + k + 1
    )
    problems += [f"act {a['i'] + 1} ({a['title']!r}) has no release" for a in acked if a["title"] not in mapped]
    return mapped, agree, problems


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# --- Receipts ------------------------------------------------------------------------------------


def _verify_tool() -> Any:
    spec = importlib.util.spec_from_file_location("verify_receipt", ROOT / "tools" / "verify_receipt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def receipts_verify(
    acked: list[dict[str, Any]], *, base: str, public_key: str, number: str, deadline: dt.datetime, var_dir: Path
) -> tuple[int, list[str]]:
    """Check each receipt offline (signature, sealed blob, payload fields); return (verified, problems)."""
    import httpx  # noqa: PLC0415

    if httpx.get(f"{base}/api/platform/keys", timeout=10).json()["receipt_signing_key"] != public_key:
        raise BenchAbort("the platform key changed during the run")
    tool = _verify_tool()
    verified, problems = 0, []
    receipt_file = var_dir.parent / "receipt.json"
    for r in acked:
        bid = r["bid"]
        receipt = bid.get("receipt") or {}
        payload = receipt.get("payload") or {}
        sealed = var_dir / "documents" / bid["sealed_sha256"][:2] / bid["sealed_sha256"][2:4] / bid["sealed_sha256"]
        receipt_file.write_text(json.dumps(receipt), encoding="utf-8")
        try:
            tool.check(receipt_file, public_key, sealed)
        except tool.ReceiptError as exc:
            problems.append(f"{r['rfc']}: {exc}")
            continue
        expected = {
            "procedure": number,
            "bidder_rfc": r["rfc"],
            "bid_id": str(bid["id"]),
            "bid_sha256": bid["sealed_sha256"],
        }
        wrong = {k: payload.get(k) for k, v in expected.items() if payload.get(k) != v}
        if wrong:
            problems.append(f"{r['rfc']}: receipt payload differs: {wrong}")
            continue
        if dt.datetime.fromisoformat(payload["committed_at"]) >= deadline:
            problems.append(f"{r['rfc']}: receipt committed_at {payload['committed_at']} is not before the deadline")
            continue
        verified += 1
    return verified, problems


# --- Machine -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    nproc = str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else str(os.cpu_count())
    commit = "unknown"
    with suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        # Uncommitted changes to tracked files make the commit alone misleading (read-only: no index refresh).
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if changed:
            commit += "+dirty"
    return {"nproc": nproc, "cpu": cpu, "ram": ram, "python": platform.python_version(), "commit": commit}


TABLE_HEADER = (
    "| Date (UTC) | Commit | Machine | Server | Bids × lots (doc) | Spread / conc. | Throughput | "
    "p50 | p95 | p99 | max | Ack / stored | Late accepted | Receipts verified | p99 < 1 s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


PUBLICATION_HEADING = "## Publication latency during the bid burst (bench/bid_burst.py)"
PUBLICATION_INTRO = """\
Requirement: from a service returning to the release being visible in the feed, under 1 s at the 99th
percentile during the bid burst. While the bids of the burst arrive (same run, same server), a buyer operator
performs `--acts` acts (default 200) on a second licitación of the unit, spread over the same `--spread` seconds
(10 s with `--spread 0`): each attaches a small distinct document (`POST /api/procedures/{ref}/documents`, 201),
which publishes a `tenderUpdate` release in the act's transaction. A follower polls `GET /api/ocds/feed` with its
cursor every 50 ms (limit 1000). Each act is matched to its release by the newest document's title in the
procedure's release package (`GET /api/ocds/releases/{ocid}`), cross-checked against commit order.
Latency = time the follower first received the release − time the act's 201 was received, both on the client's
monotonic clock; it includes up to one polling interval (≤ 50 ms) plus the feed request. Negative values (the
page arrived before the 201 did) are clamped at 0 and counted. "Skipped / repeated" counts the releases of both
procedures the follower never saw or saw more than once (must be 0 / 0), "out of order" those seen after a later
release of the same ocid.

"""
PUBLICATION_HEADER = (
    "| Date (UTC) | Commit | Machine | Server | Bid burst (spread / conc.) | Acts (span) | Acts ack / matched "
    "| Releases seen | Feed polls (errors, p99 poll) | p50 | p95 | p99 | max | ≤ 0 (clamped) "
    "| Skipped / repeated / out of order | p99 < 1 s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def _placement(text: str, row: str, heading: str, intro: str, header: str) -> tuple[list[str], int, str]:
    """Return (lines of `text`, index where `chunk` goes, chunk) to put `row` at the end of its table."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = next((i for i, line in enumerate(lines) if line.rstrip("\n") == heading), None)
    if at is None:
        return lines, len(lines), f"\n{heading}\n\n{intro}{header}{row}\n"
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    where = next((i for i in range(at + 1, end) if lines[i].startswith("|")), None)
    if where is None:
        return lines, end, f"{header}{row}\n"
    while where < end and lines[where].startswith("|"):
        where += 1
    return lines, where, f"{row}\n"


def record(row: str, *, heading: str = "## Results", intro: str = "", header: str = TABLE_HEADER) -> None:
    """Add a row at the end of the table under `heading` in docs/benchmarks.md.

    Other benchmarks append their own sections to the file, so its end is not necessarily this table's end.
    When the table ends the file, the row is appended; a missing section is appended with `intro` and the
    table header. When a section follows the table, the row is inserted after the table's last row and the
    rest of the file is kept byte for byte; the file is replaced only if nobody changed it meanwhile.
    """
    if not DOCS.exists():
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text("# Benchmarks\n", encoding="utf-8")
    for _attempt in range(5):
        text = DOCS.read_text(encoding="utf-8")
        lines, where, chunk = _placement(text, row, heading, intro, header)
        if where == len(lines):
            with DOCS.open("a", encoding="utf-8") as fh:
                fh.write(("" if text.endswith("\n") or not text else "\n") + chunk)
            return
        lines.insert(where, chunk)
        scratch = DOCS.with_name(f"{DOCS.name}.{os.getpid()}.tmp")
        scratch.write_text("".join(lines), encoding="utf-8")
        if DOCS.read_text(encoding="utf-8") == text:  # another engineer's append in between: start again
            scratch.replace(DOCS)
            return
        scratch.unlink()
        time.sleep(0.2)
    raise BenchAbort(f"{DOCS} kept changing; add this row by hand:\n{row}")


# --- Main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Bid burst: N sealed bids in the last minute before a deadline.")
    p.add_argument("--bids", type=int, default=500, help="suppliers bidding in the final minute (default 500)")
    p.add_argument("--late", type=int, default=50, help="bids sent after the deadline; all must be refused")
    p.add_argument("--concurrency", type=int, default=32, help="client threads (default 32)")
    p.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/licita_bench")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    p.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (default 8)")
    p.add_argument("--lots", type=int, default=2, choices=(1, 2, 3, 4), help="lots priced by every bid")
    p.add_argument("--doc-bytes", type=int, default=4096, help="size of the technical document in each bid")
    p.add_argument(
        "--spread",
        type=float,
        default=55.0,
        help="seconds over which the bids are spread, from deadline - 60 s (0 = all at once, as fast as possible)",
    )
    p.add_argument(
        "--acts",
        type=int,
        default=200,
        help="acts (documents attached to a second procedure) during the burst, for publication latency",
    )
    p.add_argument("--lead", type=float, default=75.0, help="seconds from publication to the deadline")
    p.add_argument("--debug", action="store_true", help="serve with LICITA_DEBUG=1 (default 0)")
    p.add_argument("--no-record", action="store_true", help="do not append the results to docs/benchmarks.md")
    p.add_argument("--save-raw", type=Path, help="write every bid's, act's and feed poll's timings to this JSON file")
    p.add_argument("--internal-setup", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--internal-verify", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--internal-number", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.bids < 1 or args.late < 0 or args.concurrency < 1 or args.acts < 1:
        p.error("--bids must be >= 1, --late >= 0, --concurrency >= 1, --acts >= 1")
    if not 0 <= args.spread <= BURST_WINDOW - 1:
        p.error(f"--spread must be between 0 and {BURST_WINDOW - 1:.0f} seconds")
    if args.lead < BURST_WINDOW + 5:
        p.error(f"--lead must leave at least 5 s before the burst ({BURST_WINDOW + 5:.0f} s or more)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.internal_setup:
        internal_setup(args.internal_setup, args.bids, args.late, args.lots, args.lead)
        return 0
    if args.internal_verify:
        internal_verify(args.internal_verify, args.internal_number)
        return 0

    db_name, admin_url = _split_db_url(args.db_url)
    if "bench" not in db_name:
        raise BenchAbort(f"refusing to drop and recreate database {db_name!r}: its name must contain 'bench'")
    if not port_free(args.host, args.port):
        raise BenchAbort(f"{args.host}:{args.port} is already in use; choose another --port")
    signal.signal(signal.SIGTERM, _on_term)

    tmp = Path(tempfile.mkdtemp(prefix="licita-bench-"))
    var_dir = tmp / "var"
    var_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICITA_") and k != "DJANGO_SETTINGS_MODULE"}
    env |= {
        "LICITA_DATABASE_URL": args.db_url,
        "LICITA_VAR_DIR": str(var_dir),
        "LICITA_DEBUG": "1" if args.debug else "0",
        "LICITA_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "licita.settings",
    }
    if os.environ.get("LICITA_SIGNING_KEY"):
        env["LICITA_SIGNING_KEY"] = os.environ["LICITA_SIGNING_KEY"]
    base = f"http://{args.host}:{args.port}"
    log = tmp / "server.log"
    server = None
    db_created = False
    ok = False
    me = str(Path(__file__).resolve())
    info = machine()
    try:
        with step("create database and migrate"):
            db_recreate(db_name, admin_url)
            db_created = True
            run([sys.executable, "-m", "licita", "migrate", "--noinput"], env, "licita migrate")

        with step("start gunicorn (licita serve)", 90):
            server = server_start(
                env, host=args.host, port=args.port, workers=args.workers, threads=args.threads, log=log
            )
            keys = server_wait(server, base, log)
            public_key = keys["receipt_signing_key"]

        with step(f"set up {args.bids + args.late} suppliers and publish the procedure"):
            scene_file = tmp / "scene.json"
            cmd = [sys.executable, me, "--internal-setup", str(scene_file), "--bids", str(args.bids)]
            cmd += ["--late", str(args.late), "--lots", str(args.lots), "--lead", str(args.lead)]
            run(cmd, env, "setup")
            scene = json.loads(scene_file.read_text(encoding="utf-8"))
        number = scene["procedure"]
        deadline = dt.datetime.fromisoformat(scene["deadline"])
        print(f"   procedure {number}, deadline {deadline.isoformat()} (setup {scene['setup_seconds']} s)")

        pub_scene = scene["publisher"]
        print(f"   publisher: {pub_scene['username']} on {pub_scene['procedure']} ({pub_scene['ocid']})")

        bidder = Bidder(base, number, args.lots, args.doc_bytes)
        pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="bidder")
        publisher = Publisher(base, pub_scene["procedure"], pub_scene["token"], tag=f"{time.time():.0f}")
        follower = FeedFollower(base)
        threads: list[threading.Thread] = []
        acts_span = args.spread or FLOOD_ACTS_SPAN
        ocids = (scene["ocid"], pub_scene["ocid"])
        try:
            with step("warm up and wait for deadline - 60 s", int(args.lead) + 30):
                # A platform in production is warm: open the keep-alive and DB connections first.
                list(pool.map(lambda _: bidder.client().get(f"/api/procedures/{number}"), range(args.concurrency * 2)))
                publisher.warm()
                # The follower catches up with the releases of the setup, then follows the feed from here on.
                follower.drain()
                threads.append(threading.Thread(target=follower.run, name="feed-follower", daemon=True))
                threads[-1].start()
                to_deadline = deadline.timestamp() - time.time()
                if to_deadline < BURST_WINDOW:
                    raise BenchAbort(
                        f"only {to_deadline:.1f} s left before the deadline after setup; raise --lead (now {args.lead})"
                    )
                deadline_mono = time.monotonic() + to_deadline
                start = deadline_mono - BURST_WINDOW
                time.sleep(max(0.0, start - time.monotonic()))

            with step(f"burst: {args.bids} bids and {args.acts} acts", int(BURST_WINDOW) + 60):
                threads.append(
                    threading.Thread(
                        target=publisher.run, args=(start, acts_span, args.acts), name="publisher", daemon=True
                    )
                )
                threads[-1].start()
                gap = args.spread / (args.bids - 1) if args.bids > 1 and args.spread else 0.0
                futures = [
                    pool.submit(bidder.submit, person, start + i * gap if gap else None, i)
                    for i, person in enumerate(scene["bidders"])
                ]
                burst = [f.result() for f in futures]
                threads[-1].join()
                if publisher.error:
                    raise BenchAbort(f"the publisher thread failed: {publisher.error}")

            with step(f"after the deadline: {args.late} late bids", 120):
                time.sleep(max(0.0, deadline_mono + 1.0 - time.monotonic()))
                late = [
                    f.result()
                    for f in [
                        pool.submit(bidder.submit, person, None, 100_000 + i) for i, person in enumerate(scene["late"])
                    ]
                ]

            with step("feed: wait until the follower has seen every release of both procedures", 90):
                # Every release published so far must reach the follower; then it stops and takes one last
                # look (nothing may come twice). The packages are read again after that: they hold every
                # release the follower can have seen (the worker may close the bid procedure meanwhile).
                published = {rel["id"] for pkg in release_packages(base, ocids).values() for rel in pkg["releases"]}
                follower.wait_for(published, 30)
                follower.stop.set()
                threads[0].join(10)
                if not threads[0].is_alive():
                    follower.drain()
                packages = release_packages(base, ocids)
        finally:
            publisher.stop.set()
            follower.stop.set()
            for t in threads:
                t.join(10)
            pool.shutdown(wait=True, cancel_futures=True)
            bidder.close()
            publisher.close()
            follower.close()

        with step("verify: database and receipts"):
            stored_file = tmp / "stored.json"
            cmd = [sys.executable, me, "--internal-verify", str(stored_file), "--internal-number", number]
            run(cmd, env, "verify")
            stored = json.loads(stored_file.read_text(encoding="utf-8"))
            acked = [r for r in burst if r["status"] == 201 and (r.get("bid") or {}).get("receipt")]
            verified, problems = receipts_verify(
                acked, base=base, public_key=public_key, number=number, deadline=deadline, var_dir=var_dir
            )

        # --- Figures ---
        latencies = [r["latency"] for r in burst if r["status"] is not None]
        first = min(r["sent"] for r in burst)
        last = max(r["done"] for r in burst)
        elapsed = last - first
        throughput = len(acked) / elapsed if elapsed > 0 else math.nan
        lag = max((r["sent"] - r["scheduled"]) for r in burst) if gap else 0.0
        p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
        worst = max(latencies) if latencies else math.nan
        refused = {}
        for r in burst:
            if r["status"] != 201:
                key = f"{r['status']} {r.get('code') or r.get('error', '')}".strip()
                refused[key] = refused.get(key, 0) + 1
        late_accepted = sum(1 for r in late if r["status"] == 201)
        late_409 = sum(1 for r in late if r["status"] == 409 and r["code"] == "deadline_passed")
        acked_ids = sorted(r["bid"]["id"] for r in acked)
        stored_ids = stored["submitted_ids"]
        last_commit = max((r["bid"]["committed_at"] for r in acked), default="-")

        # --- Publication latency ---
        acts = publisher.results
        acts_acked = [a for a in acts if a["status"] == 201]
        act_refused: dict[str, int] = {}
        for a in acts:
            if a["status"] != 201:
                key = f"{a['status']} {a.get('error', '')[:80]}".strip()
                act_refused[key] = act_refused.get(key, 0) + 1
        title_map, order_agree, match_problems = publication_match(
            acts, packages[pub_scene["ocid"]], pub_scene["releases"]
        )
        pub_latencies, clamped, unseen_acts = [], 0, 0
        for a in acts_acked:
            rid = title_map.get(a["title"])
            if rid is None:
                continue
            if rid not in follower.first_seen:
                unseen_acts += 1
                continue
            a["release"] = rid
            a["pub_latency"] = follower.first_seen[rid] - a["done"]
            clamped += a["pub_latency"] <= 0
            pub_latencies.append(max(0.0, a["pub_latency"]))
        skipped = sorted(published - set(follower.first_seen))
        repeated = sorted(rid for rid, n in follower.times_seen.items() if n > 1)
        final = {rel["id"] for pkg in packages.values() for rel in pkg["releases"]}
        unknown = sorted(set(follower.first_seen) - final)  # seen, but in neither package
        out_of_order = 0
        last_number: dict[str, int] = {}
        for ocid, rid in follower.order:
            n = release_number(rid)
            out_of_order += n <= last_number.get(ocid, 0)
            last_number[ocid] = max(n, last_number.get(ocid, 0))
        pub_seen = sum(1 for rid in follower.first_seen if rid.startswith(pub_scene["ocid"] + "-"))
        pp50, pp95, pp99 = (percentile(pub_latencies, q) for q in (50, 95, 99))
        pworst = max(pub_latencies) if pub_latencies else math.nan
        poll_p99 = percentile(follower.poll_seconds, 99)
        act_p99 = percentile([a["latency"] for a in acts_acked], 99)
        act_lag = max((a["sent"] - a["scheduled"]) for a in acts) if acts else 0.0
        pub_target = pp99 < P99_TARGET
        if args.save_raw:
            raw = {
                "scene": {k: v for k, v in scene.items() if k not in ("bidders", "late", "publisher")},
                "start": start,
                "deadline_mono": deadline_mono,
                "bids": [
                    {k: v for k, v in r.items() if k != "bid"} | {"id": (r.get("bid") or {}).get("id")} for r in burst
                ],
                "acts": acts,
                "feed": {
                    "first_seen": follower.first_seen,
                    "times_seen": dict(follower.times_seen),
                    "polls": follower.poll_log,
                    "errors": follower.errors,
                },
            }
            args.save_raw.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")

        checks = {
            f"all {args.bids} burst bids acknowledged with a receipt": len(acked) == args.bids,
            "bids in force in the database == acknowledged (same ids)": stored_ids == acked_ids,
            "no bid committed at or after the deadline": stored["committed_after_deadline"] == 0,
            "late bids accepted == 0": late_accepted == 0,
            f"all {args.late} late bids refused with 409 deadline_passed": late_409 == len(late),
            "every receipt verifies offline": verified == len(acked) and not problems,
            f"all {args.acts} acts acknowledged (201)": len(acts_acked) == args.acts,
            "every act matched to its own release (newest document title == commit order)": (
                len(title_map) == len(acts_acked) == order_agree and not match_problems
            ),
            "feed: every release of both procedures seen exactly once, in order per ocid": (
                not skipped and not repeated and not unknown and out_of_order == 0
            ),
            "feed: every poll answered 200": not follower.errors,
        }
        target = p99 < P99_TARGET
        ok = all(checks.values()) and target and pub_target

        mode = f"spread over {args.spread:.0f} s" if args.spread else "all at once"
        offered = f"{args.bids / args.spread:.1f} bids/s offered" if args.spread else "as fast as possible"
        print()
        print("=" * 78)
        print(f"Bid burst on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {info['commit']}")
        print(
            f"Machine: {info['nproc']} CPU ({info['cpu']}), {info['ram']} RAM, Python {info['python']}, "
            f"PostgreSQL {stored['server_version']}"
        )
        print(
            f"Server: licita serve (gunicorn) --workers {args.workers} --threads {args.threads}, "
            f"LICITA_DEBUG={env['LICITA_DEBUG']}, worker on"
        )
        print(
            f"Load: {args.bids} bids × {args.lots} lots + {args.doc_bytes} B document, {mode} ({offered}), "
            f"{args.concurrency} client threads; {args.late} late bids"
        )
        print(f"Procedure {number}, deadline {deadline.isoformat()}, last acknowledged commit {last_commit}")
        print(f"Throughput: {throughput:.1f} bids/s ({len(acked)} acknowledged in {elapsed:.1f} s)")
        print(
            f"Latency: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms (client schedule lag max {lag * 1000:.0f} ms)"
        )
        print(f"Refused in the burst: {refused or 'none'}")
        print(f"Database: {stored['by_status']} (procedure now {stored['status']})")
        print(f"Late: {late_accepted} accepted, {late_409}/{len(late)} refused with 409 deadline_passed")
        print(f"Receipts verified offline: {verified}/{len(acked)}")
        for p in problems[:10]:
            print(f"   receipt problem: {p}")
        print(
            f"Publication: {args.acts} acts (documents attached to {pub_scene['procedure']}) over "
            f"{acts_span:.0f} s, {len(acts_acked)} acknowledged (act p99 {act_p99 * 1000:.0f} ms, schedule lag "
            f"max {act_lag * 1000:.0f} ms), refused: {act_refused or 'none'}; {len(title_map)} matched to releases "
            f"by title, {order_agree} agreeing with commit order"
        )
        print(
            f"Feed: {follower.polls} polls every {FEED_INTERVAL * 1000:.0f} ms (p99 poll "
            f"{poll_p99 * 1000:.0f} ms, {len(follower.errors)} errors), {len(follower.first_seen)} releases seen "
            f"({pub_seen} of {pub_scene['ocid']}); of {len(published)} published: {len(skipped)} skipped, "
            f"{len(repeated)} repeated, {len(unknown)} unknown, {out_of_order} out of order"
        )
        print(
            f"Publication latency (201 received -> first seen in the feed): p50 {pp50 * 1000:.0f} ms, "
            f"p95 {pp95 * 1000:.0f} ms, p99 {pp99 * 1000:.0f} ms, max {pworst * 1000:.0f} ms over "
            f"{len(pub_latencies)} acts ({clamped} <= 0, clamped to 0; {unseen_acts} never seen)"
        )
        for p in (match_problems + follower.errors)[:10]:
            print(f"   publication problem: {p}")
        for label, ids in (("skipped", skipped), ("repeated", repeated), ("unknown", unknown)):
            if ids:
                print(f"   {label}: {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}")
        for name, passed in checks.items():
            print(f"[{'PASS' if passed else 'FAIL'}] {name}")
        print(f"[{'PASS' if target else 'MISS'}] p99 < {P99_TARGET * 1000:.0f} ms (target)")
        print(f"[{'PASS' if pub_target else 'MISS'}] publication latency p99 < {P99_TARGET * 1000:.0f} ms (target)")
        print("=" * 78)

        if not args.no_record:
            row = (
                f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {info['commit']} "
                f"| {info['nproc']}× {info['cpu']}, {info['ram']}, Py {info['python']}, "
                f"PG {stored['server_version'].split()[0]} "
                f"| gunicorn {args.workers}w×{args.threads}t "
                f"| {args.bids} × {args.lots} ({args.doc_bytes} B) "
                f"| {f'{args.spread:.0f} s' if args.spread else 'flood'} / {args.concurrency} "
                f"| {throughput:.1f} bids/s "
                f"| {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {p99 * 1000:.0f} ms | {worst * 1000:.0f} ms "
                f"| {len(acked)} / {len(stored_ids)} "
                f"| {late_accepted} of {len(late)} ({late_409} × 409) "
                f"| {verified}/{len(acked)} "
                f"| {'yes' if target else 'NO'} |"
            )
            record(row)
            machine_cell = (
                f"{info['nproc']}× {info['cpu']}, {info['ram']}, Py {info['python']}, "
                f"PG {stored['server_version'].split()[0]}"
            )
            pub_row = (
                f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} | {info['commit']} | {machine_cell} "
                f"| gunicorn {args.workers}w×{args.threads}t "
                f"| {args.bids} bids ({f'{args.spread:.0f} s' if args.spread else 'flood'} / {args.concurrency}) "
                f"| {args.acts} ({acts_span:.0f} s) "
                f"| {len(acts_acked)} / {len(title_map)} "
                f"| {pub_seen} of {len(packages[pub_scene['ocid']]['releases'])} "
                f"| {follower.polls} ({len(follower.errors)}, {poll_p99 * 1000:.0f} ms) "
                f"| {pp50 * 1000:.0f} ms | {pp95 * 1000:.0f} ms | {pp99 * 1000:.0f} ms | {pworst * 1000:.0f} ms "
                f"| {clamped} "
                f"| {len(skipped)} / {len(repeated)} / {out_of_order} "
                f"| {'yes' if pub_target else 'NO'} |"
            )
            record(pub_row, heading=PUBLICATION_HEADING, intro=PUBLICATION_INTRO, header=PUBLICATION_HEADER)
            print(f"Appended to {DOCS.relative_to(ROOT)} (bid burst and publication latency tables)")
    except BenchAbort as exc:
        print(f"\nABORTED: {exc}", file=sys.stderr)
        if server is not None and log.exists():
            print("--- server log (tail) ---", file=sys.stderr)
            print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
    finally:
        signal.alarm(0)
        if server is not None:
            server_stop(server)
        if db_created:
            try:
                db_drop(db_name, admin_url)
            except Exception as exc:
                print(f"WARNING: could not drop database {db_name}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchAbort as exc:
        print(f"ABORTED: {exc}", file=sys.stderr)
        sys.exit(1)
