"""`licita scrub`: re-hash every stored blob locally and on the replica, repair what can be repaired, report."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from licita.documents.scrub import ScrubReport, scrub


class Command(BaseCommand):
    help = (
        "Re-hash every blob the database refers to, locally and on the replica; repair a damaged or missing copy "
        "from a good one, copy blobs not yet replicated, and report. Never deletes anything. Exit status 1 if a "
        "blob has no good copy left."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Scrub, printing progress every few seconds and the report at the end."""

        def progress(report: ScrubReport) -> None:
            if report.finished_at is None:
                self.stdout.write(
                    f"scrub: {report.checked:,}/{report.total:,} blobs, {report.bytes / 1e6:,.1f} MB, "
                    f"{report.mb_per_s:.1f} MB/s"
                )

        report = scrub(progress=progress)
        self.stdout.write(report.summary(limit=None))
        if report.unrecoverable:
            msg = f"{len(report.unrecoverable)} blob(s) have no good copy left (see above)"
            raise CommandError(msg)
