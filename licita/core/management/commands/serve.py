"""Serve Licita with a production WSGI server (gunicorn) plus the background worker."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the portal and API with gunicorn and run the background worker beside it."
    # Checks run in `licita check --deploy` (CI); skipping them here brings a restarted server back ~3 s sooner.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        """Declare host, port and workers."""
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=int(os.environ.get("LICITA_WEB_WORKERS", "3")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("LICITA_WEB_THREADS", "4")))
        parser.add_argument("--no-worker", action="store_true", help="Do not start the background worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Start the worker, then gunicorn in the foreground; stop the worker when gunicorn ends."""
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "licita", "worker"])
        self.stdout.write(f"Licita: http://{options['host']}:{options['port']}/api/docs")
        try:
            subprocess.call(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "licita.wsgi:application",
                    "--bind",
                    f"{options['host']}:{options['port']}",
                    "--workers",
                    str(options["workers"]),
                    "--threads",
                    str(options["threads"]),
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "10",
                ]
            )
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=15)
