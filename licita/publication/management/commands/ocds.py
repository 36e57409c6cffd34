"""`licita ocds dump --out DIR`: write the bulk OCDS files (and `licita ocds list`)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.publication.bulk import bulk_root, dump_write, dumps_list


class Command(BaseCommand):
    help = "OCDS open data: `dump --out DIR` writes bulk files; `list` shows the dumps kept."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the subcommands."""
        sub = parser.add_subparsers(dest="action", required=True)
        dump = sub.add_parser("dump", help="Write releases.jsonl.gz, records.jsonl.gz, CSV tables and a manifest.")
        dump.add_argument("--out", type=Path, default=None, help="Folder to write into (default: LICITA_BULK_DIR).")
        dump.add_argument("--name", default=None, help="Name of the dump folder (default: today's date).")
        sub.add_parser("list", help="List the dumps kept.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the subcommand."""
        if options["action"] == "list":
            for manifest in dumps_list():
                self.stdout.write(
                    f"{manifest['name']}: {manifest['releases']} releases, {manifest['records']} records"
                )
            return
        started = time.monotonic()

        def progress(what: str, count: int) -> None:
            sys.stderr.write(f"\r  {what}: {count:,}          ")
            sys.stderr.flush()

        try:
            folder = dump_write(out=options["out"] or bulk_root(), name=options["name"], progress=progress)
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write("\n")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            self.stdout.write(
                f"  {entry['name']:<20} {entry['size']:>12,} bytes  {entry['lines']:>9,} lines  {entry['sha256'][:16]}…"
            )
        self.stdout.write(f"Wrote {folder} in {time.monotonic() - started:.1f} s")
