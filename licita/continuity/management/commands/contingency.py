"""`licita contingency`: outages, officials' keys, signed offline files and the overdue check.

licita contingency keygen --key FILE                       # on the unit's laptop: make a key, print its public half
licita contingency register-key --unit KEY --user NAME --public-key B64
licita contingency export --key FILE --outage N --unit KEY --input ROWS.json --output SIGNED.json
licita contingency import SIGNED.json [--user NAME]
licita contingency declare --start ISO [--end ISO] --affected TEXT --cause TEXT [--user NAME]
licita contingency close --outage N --end ISO [--user NAME]
licita contingency overdue                                  # escalate overdue back-captures to the auditor
licita contingency backcapture ACTS.json --user NAME        # back-capture the acts of one registered procedure
licita contingency backcapture-status --outage N --unit KEY --ref REF

ACTS.json names the procedure and its acts, each with the date it happened (all are written, or none):
{"outage": 3, "unit": "009J3B001", "ref": "LP-7", "steps": [
  {"act": "convocatoria", "date": "2026-03-06T10:00-06:00", "submission_deadline": "2026-03-22T10:00-06:00",
   "invited": ["RFC1", "RFC2", "RFC3"],                       # invited: only for an invitación
   "lots": [{"title": "Partida 1", "estimated_value": "100000.00", "items": [{"cucop": "25100001",
     "description": "Gasas", "quantity": "10", "unit": "caja"}]}]},  # lots: optional (one lot, the registered amount)
  {"act": "bids", "date": "2026-03-22T10:00-06:00",
   "bids": [{"supplier_rfc": "RFC1", "lots": [{"lot": 1, "price": "95000.00"}]}]},
  {"act": "fallo", "date": "2026-03-24T12:00-06:00",
   "evaluations": [{"supplier_rfc": "RFC1", "lot": 1, "compliant": true}]},
  {"act": "award", "date": "...", "exception_fraction": "V"},   # a direct award instead of the three above
  {"act": "contract", "date": "2026-03-26T12:00-06:00", "start_date": "2026-04-01", "end_date": "2026-12-31"},
  {"act": "document", "of": "fallo", "date": "2026-03-24T12:00-06:00", "title": "Acta de fallo",
   "file": "acta-fallo.pdf"}]}                                # file: relative to ACTS.json
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licita.accounts.models import PurchasingUnit, User
from licita.continuity import backcapture, selectors, services
from licita.continuity.models import UploadStatus
from licita.core.errors import LicitaError


def _user(name: str | None) -> User | None:
    if not name:
        return None
    user = User.objects.filter(username=name).first()
    if user is None:
        msg = f"user {name!r} not found"
        raise CommandError(msg)
    return user


def _when(text: str, field: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        msg = f"{field} must be an ISO date and time with its offset, e.g. 2022-07-15T16:00-05:00"
        raise CommandError(msg) from None
    if value.tzinfo is None:
        msg = f"{field} must include a time zone offset"
        raise CommandError(msg)
    return value


class Command(BaseCommand):
    help = "Outages, officials' keys, signed offline contingency files, and the overdue check."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the subcommands."""
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("keygen")
        p.add_argument("--key", required=True)
        p = sub.add_parser("register-key")
        p.add_argument("--unit", required=True)
        p.add_argument("--user", required=True)
        p.add_argument("--public-key", required=True)
        p = sub.add_parser("export")
        p.add_argument("--key", required=True)
        p.add_argument("--outage", type=int, required=True)
        p.add_argument("--unit", required=True)
        p.add_argument("--input", required=True, help="JSON list of procedures (ref, title, procedure_type, ...).")
        p.add_argument("--output", required=True)
        p = sub.add_parser("import")
        p.add_argument("file")
        p.add_argument("--user")
        p = sub.add_parser("declare")
        p.add_argument("--start", required=True)
        p.add_argument("--end")
        p.add_argument("--affected", required=True)
        p.add_argument("--cause", required=True)
        p.add_argument("--user")
        p = sub.add_parser("close")
        p.add_argument("--outage", type=int, required=True)
        p.add_argument("--end", required=True)
        p.add_argument("--user")
        sub.add_parser("overdue")
        sub.add_parser("publish-extensions")
        p = sub.add_parser("backcapture", help="Back-capture the acts of one registered procedure from a JSON file.")
        p.add_argument("file")
        p.add_argument("--user", required=True, help="The unit's buyer who uploads the acts.")
        p = sub.add_parser("backcapture-status", help="Show how much of a registered procedure is back-captured.")
        p.add_argument("--outage", type=int, required=True)
        p.add_argument("--unit", required=True)
        p.add_argument("--ref", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the subcommand; a refusal is printed with its field and rule, and nothing is written."""
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except LicitaError as exc:
            detail = ", ".join(f"{k}={v}" for k, v in exc.detail.items())
            msg = f"{exc.message} ({exc.code}{'; ' + detail if detail else ''})"
            raise CommandError(msg) from None

    def _keygen(self, options: dict[str, Any]) -> None:
        path = Path(options["key"])
        if path.exists():
            msg = f"{path} exists: not overwritten"
            raise CommandError(msg)
        key = Ed25519PrivateKey.generate()
        path.write_text(base64.b64encode(key.private_bytes_raw()).decode() + "\n", encoding="ascii")
        path.chmod(0o600)
        self.stdout.write(base64.b64encode(key.public_key().public_bytes_raw()).decode())

    def _register_key(self, options: dict[str, Any]) -> None:
        unit = PurchasingUnit.objects.filter(key=options["unit"].upper()).first()
        if unit is None:
            msg = f"unit {options['unit']!r} not found"
            raise CommandError(msg)
        user = _user(options["user"])
        assert user is not None
        key = services.official_key_register(actor=None, unit=unit, user=user, public_key=options["public_key"])
        self.stdout.write(f"key {key.key_id} registered for {user.username} of {unit.key}")

    def _export(self, options: dict[str, Any]) -> None:
        seed = base64.b64decode(Path(options["key"]).read_text(encoding="ascii").strip())
        key = Ed25519PrivateKey.from_private_bytes(seed)
        rows = json.loads(Path(options["input"]).read_text(encoding="utf-8"))
        signed = services.contingency_file_sign(
            key=key, payload={"outage": options["outage"], "unit": options["unit"].upper(), "procedures": rows}
        )
        Path(options["output"]).write_text(json.dumps(signed, ensure_ascii=False, indent=1), encoding="utf-8")
        self.stdout.write(f"{len(rows)} procedure(s) signed with key {signed['key_id']} into {options['output']}")

    def _import(self, options: dict[str, Any]) -> None:
        items = services.contingency_import(actor=_user(options.get("user")), raw=Path(options["file"]).read_bytes())
        self.stdout.write(f"{len(items)} contingency procedure(s) registered")

    def _declare(self, options: dict[str, Any]) -> None:
        outage = services.outage_declare(
            actor=_user(options.get("user")),
            start=_when(options["start"], "--start"),
            end=_when(options["end"], "--end") if options.get("end") else None,
            affected=options["affected"],
            cause=options["cause"],
        )
        self.stdout.write(f"outage {outage.pk} recorded; {outage.extended_count} procedure(s) extended")

    def _close(self, options: dict[str, Any]) -> None:
        outage = services.outage_close(
            actor=_user(options.get("user")),
            outage=selectors.outage_get(pk=options["outage"]),
            end=_when(options["end"], "--end"),
        )
        self.stdout.write(f"outage {outage.pk} closed; {outage.extended_count} procedure(s) extended")

    def _publish_extensions(self, options: dict[str, Any]) -> None:
        count = services.extension_releases_publish()
        self.stdout.write(f"{count} extension release(s) published")

    def _overdue(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"{services.contingency_overdue_check()} contingency procedure(s) escalated to the auditor")

    def _backcapture(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"{path}: not a readable JSON file ({exc})"
            raise CommandError(msg) from None

        def read(name: str) -> bytes | None:
            try:
                return (path.parent / name).read_bytes()
            except OSError as exc:
                self.stderr.write(f"{path.parent / name}: {exc}")
                return None

        backcapture.attach_files(data, read)
        item, done = backcapture.contingency_backcapture_file(actor=_user(options["user"]), data=data)
        for i, what in enumerate(done):
            self.stdout.write(f"steps[{i}] {data['steps'][i].get('act')}: {what}")
        self.stdout.write(f"{item.unit.key} {item.ref}: {UploadStatus(item.upload_status).label}")

    def _backcapture_status(self, options: dict[str, Any]) -> None:
        item = services.contingency_get(
            outage=selectors.outage_get(pk=options["outage"]), unit_key=options["unit"], ref=options["ref"]
        )
        procedure = item.procedure
        self.stdout.write(f"{item.unit.key} {item.ref}: {UploadStatus(item.upload_status).label}")
        if procedure is not None:
            self.stdout.write(f"{procedure.number} ({procedure.get_status_display()})")
