"""`licita restore --from DIR [--database-url URL] [--documents-dir DIR] [--force]`: restore a verified backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.ops.backup import backup_restore, database_from_url, failure_text, failures


class Command(BaseCommand):
    help = (
        "Check every file of a backup against its manifest, then restore the documents and the database into "
        "the configured database and document folder (or --database-url / --documents-dir). A target that "
        "holds data is refused unless --force; stop the platform before restoring over its own database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the backup, the target and --force."""
        parser.add_argument("--from", dest="source", type=Path, required=True, help="The backup's folder.")
        parser.add_argument("--database-url", default="", help="Restore into this database instead.")
        parser.add_argument("--documents-dir", type=Path, default=None, help="Restore the documents here instead.")
        parser.add_argument("--force", action="store_true", help="Replace a target database that holds data.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Verify and restore; exit 1 naming the damaged file or the non-empty target."""
        try:
            database = database_from_url(options["database_url"]) if options["database_url"] else None
            manifest = backup_restore(
                backup=options["source"],
                database=database,
                documents=options["documents_dir"],
                force=options["force"],
                write=self._say,
            )
        except failures() as exc:
            raise CommandError(f"restore refused: {failure_text(exc)}") from None
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']}: {sum(manifest['tables'].values()):,} rows, "
            f"{manifest['documents']['count']:,} documents, ledger size {manifest['ledger']['size']:,}"
        )

    def _say(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()
