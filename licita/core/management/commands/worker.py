"""The background worker: time-driven transitions, the feed sequence, ledger checkpoints, daily bulk files, scrubs."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections

from licita.continuity.services import contingency_overdue_check, extension_releases_publish
from licita.documents.scrub import scrub_due, scrub_if_due
from licita.ledger.services import checkpoint_tick
from licita.ops import capacity
from licita.ops import state as write_state
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
        scrubber: threading.Thread | None = None
        while True:
            close_old_connections()
            try:
                moved = procedures_tick(actor=None)
                if moved or options["once"]:
                    self.stdout.write(f"worker: {moved} procedure(s) closed at their deadline")
                write_state.probe(force=True)  # read-only mode starts and ends here too, every tick
                capacity.sample()
                capacity.warn_operator()
                releases_sequence()
                extension_releases_publish()  # deadline extensions of an outage not yet published (large outages)
                contingency_overdue_check(actor=None)  # offline procedures past their upload deadline → auditors
                if checkpoint_tick() is not None and options["once"]:
                    self.stdout.write("worker: ledger checkpoint signed")
                folder = dump_daily()
                if folder is not None:
                    self.stdout.write(f"worker: daily OCDS bulk files written to {folder}")
                # The document scrub (at most once per LICITA_SCRUB_INTERVAL_HOURS) reads every blob: it runs in
                # a thread of its own so that deadlines keep being ticked meanwhile (--once: in the foreground).
                if (scrubber is None or not scrubber.is_alive()) and scrub_due():
                    if options["once"]:
                        self._scrub()
                    else:
                        scrubber = threading.Thread(target=self._scrub, name="scrub", daemon=True)
                        scrubber.start()
            except (DatabaseError, OSError) as exc:
                self.stderr.write(f"worker: database unavailable, will retry: {exc}")
            if options["once"] or stop:
                return
            for _ in range(int(interval * 10)):
                if stop:
                    return
                time.sleep(0.1)

    def _scrub(self) -> None:
        """Scrub the document store if due, and report; close this thread's database connections."""
        try:
            report = scrub_if_due()
            if report is not None:
                self.stdout.write("worker: document scrub done: " + report.summary().replace("\n", "; "))
        except (DatabaseError, OSError) as exc:
            self.stderr.write(f"worker: document scrub failed, will retry after the interval: {exc}")
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()
