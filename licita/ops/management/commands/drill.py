"""`licita drill [--from DIR] [--keep]`: restore a backup into a scratch location and prove it equals its source."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.core import clock
from licita.ops.backup import DrillReport, backup_latest, drill_record, drill_run, failure_text, failures


class Command(BaseCommand):
    help = (
        "Restore the latest backup (or --from DIR: a backup, or a folder of backups) into a scratch SQLite file "
        "or a scratch PostgreSQL database licita_drill_<timestamp>, and compare it with the backup's source: "
        "row counts per table, every document re-hashed, the ledger's root recomputed from the restored leaves. "
        "Prints the comparison, records the drill for the status page, exits 1 on any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --from and --keep."""
        parser.add_argument(
            "--from",
            dest="source",
            type=Path,
            default=None,
            help="A backup, or a folder of backups (the latest is drilled). Default: LICITA_BACKUP_DIR.",
        )
        parser.add_argument("--keep", action="store_true", help="Keep the scratch copy (its location is printed).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the drill, print the table, record it; exit 1 unless the restored copy equals the source."""
        started_at = clock.now()
        started = time.monotonic()
        source = options["source"] or Path(settings.LICITA_BACKUP_DIR)
        report: DrillReport | None = None
        backup = source
        try:
            backup = backup_latest(source)
            report = drill_run(backup=backup, keep=options["keep"], write=self._say)
        except failures() as exc:
            drill_record(
                backup=backup,
                started_at=started_at,
                report=None,
                error=failure_text(exc),
                total_seconds=self._since(started),
            )
            raise CommandError(f"drill failed: {failure_text(exc)}") from None
        total = self._since(started)
        drill_record(backup=backup, started_at=started_at, report=report, total_seconds=total)
        self.stdout.write(report.table())
        self.stdout.write(
            f"\nBackup {backup} (taken {report.manifest['created_at']}): restore {report.restore_seconds:.1f} s, "
            f"comparison {report.verify_seconds:.1f} s, total {total:.1f} s"
        )
        if options["keep"]:
            self.stdout.write(f"Scratch copy kept: {report.scratch}")
        if not report.passed:
            raise CommandError(
                f"drill FAILED: {len(report.differences)} difference(s) between the restored copy and the source",
                returncode=1,
            )
        self.stdout.write("Drill passed: the restored copy equals the backup's source.")

    def _say(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()

    @staticmethod
    def _since(started: float) -> float:
        return round(time.monotonic() - started, 3)
