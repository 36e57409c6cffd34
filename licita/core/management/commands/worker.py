"""The background worker: time-driven transitions, the feed sequence, ledger checkpoints, daily bulk files."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from licita.ledger.services import checkpoint_tick
from licita.procurement.services import procedures_tick
from licita.publication.bulk import dump_daily
from licita.publication.feed import releases_sequence


class Command(BaseCommand):
    help = "Run the background worker (ticks every LICITA_WORKER_INTERVAL seconds)."

    def add_arguments(self, parser: Any) -> None:
        """Declare --once and --interval."""
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument("--interval", type=float, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        """Tick until stopped."""
        interval = options["interval"] or settings.LICITA_WORKER_INTERVAL
        stop = False

        def _stop(*_: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        while True:
            close_old_connections()
            try:
                moved = procedures_tick(actor=None)
                if moved or options["once"]:
                    self.stdout.write(f"worker: {moved} procedure(s) closed at their deadline")
                releases_sequence()
                if checkpoint_tick() is not None and options["once"]:
                    self.stdout.write("worker: ledger checkpoint signed")
                folder = dump_daily()
                if folder is not None:
                    self.stdout.write(f"worker: daily OCDS bulk files written to {folder}")
            except (DatabaseError, OSError) as exc:
                self.stderr.write(f"worker: database unavailable, will retry: {exc}")
            if options["once"] or stop:
                return
            for _ in range(int(interval * 10)):
                if stop:
                    return
                time.sleep(0.1)
