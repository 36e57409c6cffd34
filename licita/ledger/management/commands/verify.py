"""`licita verify`: check the public ledger from the public endpoints or a bulk download (no database used)."""

from __future__ import annotations

import sys
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from licita.ledger import verify


class Command(BaseCommand):
    help = (
        "Verifica la bitácora pública / Verify the public ledger: --url http://host:port or --bulk DIR, "
        "[--key VERIFIER_KEY] [--witness STATE_FILE] [--json]. Same as `python -m licita.ledger.verify`."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand every argument to the standalone verifier, which owns the options, and exit with its status."""
        sys.exit(verify.main(argv[2:], stdout=sys.stdout, stderr=sys.stderr))

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the verifier with `args` (only reached through `call_command`)."""
        status = verify.main(list(args), stdout=cast("TextIO", self.stdout), stderr=cast("TextIO", self.stderr))
        if status:
            raise CommandError(f"verification failed (exit status {status})", returncode=status)
