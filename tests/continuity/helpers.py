"""Helpers of the continuity tests: an outage closed through the services, a unit official's key, rows."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licita.continuity import services as cont
from licita.continuity.models import OfficialKey, Outage
from licita.core import clock
from tests.factories import Office

#: Thursday 5 March 2026, 16:00 UTC: the fault; Monday 9 March, 16:00 UTC: writes resume.
START = dt.datetime(2026, 3, 5, 16, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)


def declare(office: Office, *, end: dt.datetime | None = None, **overrides: Any) -> Outage:
    data: dict[str, Any] = {
        "start": START,
        "end": end,
        "affected": "Toda la plataforma",
        "cause": "Falla de almacenamiento",
    } | overrides
    return cont.outage_declare(actor=office.auditor, **data)


def official_key(office: Office) -> tuple[Ed25519PrivateKey, OfficialKey]:
    private = Ed25519PrivateKey.generate()
    public = base64.b64encode(private.public_key().public_bytes_raw()).decode()
    key = cont.official_key_register(actor=office.admin, unit=office.unit, user=office.operator, public_key=public)
    return private, key


def row(
    ref: str, *, amount: str = "150000.00", at: dt.datetime | None = None, rfc: str = "", **kw: Any
) -> cont.ContingencyInput:
    data: dict[str, Any] = {
        "ref": ref,
        "title": f"Adquisición en persona {ref}",
        "procedure_type": "adjudicacion",
        "contract_type": "adquisiciones",
        "legal_basis": "art41",
        "supplier_rfc": rfc or "PRV900102AB1",
        "amount": Decimal(amount),
        "carried_out_at": at or START + dt.timedelta(days=1),
    } | kw
    return cont.ContingencyInput(**data)


def signed_file(private: Ed25519PrivateKey, outage: Outage, unit: str, rows: list[cont.ContingencyInput]) -> bytes:
    body = cont.contingency_file_sign(
        key=private, payload={"outage": outage.pk, "unit": unit, "procedures": [r.as_json() for r in rows]}
    )
    return json.dumps(body).encode()


def now() -> dt.datetime:
    return clock.now()
