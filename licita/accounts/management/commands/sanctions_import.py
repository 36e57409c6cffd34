"""`licita sanctions_import FILE [FILE...] [--source TEXT]`: load SFP sanctioned-suppliers CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.accounts.sanctions import ImportReport, sanctions_import
from licita.core.errors import LicitaError

SHOWN_ISSUES = 20


class Command(BaseCommand):
    help = (
        "Import SFP sanctioned-suppliers CSV files (Directorio de Proveedores y Contratistas Sancionados). "
        "Each file is imported in its own transaction; importing a file again updates, never duplicates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV file to import.")
        parser.add_argument(
            "--source",
            default="",
            help="Where the files come from, recorded on each sanction (default: the file name).",
        )

    def handle(self, *_args: Any, **options: Any) -> None:
        refused: list[str] = []
        for path in options["files"]:
            self.stdout.write(f"Importing {path} …")
            if not path.is_file():
                self.stderr.write(self.style.ERROR(f"  {path}: no such file"))
                refused.append(str(path))
                continue
            try:
                report = sanctions_import(path=path, source=options["source"] or path.name, actor=None)
            except LicitaError as error:
                self.stderr.write(self.style.ERROR(f"  refused, nothing imported: {error.message}"))
                refused.append(str(path))
                continue
            self._write_report(report)
        if refused:
            msg = f"{len(refused)} of {len(options['files'])} file(s) not imported: {', '.join(refused)}"
            raise CommandError(msg)

    def _write_report(self, report: ImportReport) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"  {report.rows} rows: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.skipped} skipped"
            )
        )
        for title, issues in (("skipped rows", report.errors), ("warnings", report.warnings)):
            if not issues:
                continue
            self.stdout.write(f"  {title} ({len(issues)}):")
            for line, column, message in issues[:SHOWN_ISSUES]:
                self.stdout.write(f"    line {line}, {column}: {message}")
            if len(issues) > SHOWN_ISSUES:
                self.stdout.write(f"    … and {len(issues) - SHOWN_ISSUES} more")
