"""`licita backup [--out DIR]`: a consistent online backup of the database and the documents, with a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.ops.backup import backup_create, failure_text, failures


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup API, or pg_dump of a snapshot) and every document it "
        "references into a new folder under --out, with manifest.json (row counts, ledger root, SHA-256 of "
        "every file). The platform can keep running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --out."""
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            help="Folder that receives the backup's folder (default: LICITA_BACKUP_DIR, var/backups).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the backup; print progress and the folder written."""
        out = options["out"] or Path(settings.LICITA_BACKUP_DIR)
        try:
            folder = backup_create(out=out, write=self._say)
        except failures() as exc:
            raise CommandError(f"backup failed, nothing was written: {failure_text(exc)}") from None
        self.stdout.write(str(folder))

    def _say(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()
