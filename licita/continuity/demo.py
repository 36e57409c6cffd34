"""`licita demo --outage`: July 2022, replayed on the demo data.

The storage fault stops writes for three days; the health monitor opens the outage; writes resume and it
closes, extending the periods of the open procedures; three units register what they bought in person (one
through a file signed on a laptop) and back-capture all, part or none of it. The accountability page then
shows what is missing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from licita.accounts.models import Membership, PurchasingUnit, Supplier
from licita.continuity import backcapture
from licita.continuity import services as cont
from licita.continuity.models import Outage
from licita.core import clock


def _operator(unit: PurchasingUnit) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(unit=unit, role="buyer_operator", is_active=True)
        .order_by("pk")
        .first()
    )
    assert membership is not None
    return membership


def replay(out: Callable[[str], None]) -> Outage:
    """Replay the outage on the demo data (three days ago until an hour ago); return the outage."""
    real_now = clock.now()
    start = (real_now - dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    end = real_now - dt.timedelta(hours=1)
    units = [
        unit
        for unit in PurchasingUnit.objects.order_by("key")
        if Membership.objects.filter(unit=unit, role="buyer_operator", is_active=True).exists()
    ][:3]
    suppliers = list(Supplier.objects.order_by("rfc")[:6])
    if len(units) < 3 or len(suppliers) < 6:
        msg = "the demo data needs 3 purchasing units with operators and 6 suppliers"
        raise RuntimeError(msg)
    try:
        clock.set_now(start)
        outage = cont.outage_monitor_open(since=start, reason="documents: ENOSPC: No space left on device")
        out(f"  {start:%Y-%m-%d %H:%M} UTC: storage fault; the health monitor opened outage {outage.pk}")
        clock.set_now(end)
        outage = cont.outage_monitor_close(since=start, end=end, reason="")
        out(
            f"  {end:%Y-%m-%d %H:%M} UTC: writes resume; {outage.extended_count} procedure(s) had their periods extended"
        )
        clock.set_now(end + dt.timedelta(minutes=30))
        day = start + dt.timedelta(days=1)
        plan = [
            # CONT-01 of the first unit is a licitación held in person: convocatoria, paper bids, fallo, acta, contract
            (units[0], [("CONT-01", "1850000.00", suppliers[0]), ("CONT-02", "420000.00", suppliers[1])], "all"),
            (units[1], [("CONT-01", "3100000.00", suppliers[2]), ("CONT-02", "275000.00", suppliers[3])], "part"),
            (units[2], [("CONT-01", "990000.00", suppliers[4]), ("CONT-02", "130000.00", suppliers[5])], "none"),
        ]
        for unit, items, upload in plan:
            operator = _operator(unit).user
            rows = [
                cont.ContingencyInput(
                    ref=ref,
                    title=f"Adquisición urgente en persona durante la contingencia ({ref})",
                    procedure_type="licitacion" if tender else "adjudicacion",
                    contract_type="adquisiciones",
                    legal_basis="art26" if tender else "art41",
                    supplier_rfc=supplier.rfc,
                    amount=Decimal(amount),
                    carried_out_at=day + dt.timedelta(hours=i),
                )
                for i, (ref, amount, supplier) in enumerate(items)
                for tender in [upload == "all" and i == 0]
            ]
            if upload == "part":
                key = Ed25519PrivateKey.generate()
                admin = Membership.objects.filter(unit=unit, role="buyer_admin", is_active=True).first()
                cont.official_key_register(
                    actor=admin.user if admin else None,
                    unit=unit,
                    user=operator,
                    public_key=base64.b64encode(key.public_key().public_bytes_raw()).decode(),
                )
                signed = cont.contingency_file_sign(
                    key=key, payload={"outage": outage.pk, "unit": unit.key, "procedures": [r.as_json() for r in rows]}
                )
                path = settings.VAR_DIR / "demo" / f"contingencia-{unit.key}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(signed, ensure_ascii=False, indent=1), encoding="utf-8")
                registered = cont.contingency_import(actor=operator, raw=path.read_bytes())
                out(f"  {unit.key}: {len(registered)} procedures registered from the signed file {path}")
            else:
                registered = [
                    cont.contingency_register(actor=operator, outage=outage, unit_key=unit.key, procedure=r)
                    for r in rows
                ]
                out(f"  {unit.key}: {len(registered)} procedures registered on the form")
            for n, item in enumerate(registered):
                if upload == "none" or (upload == "part" and n > 0):
                    continue
                if item.procedure_type == "licitacion":
                    _tender_backcapture(operator, item, rival=suppliers[3], out=out)
                    continue
                backcapture.contingency_backcapture_award(
                    actor=operator, item=item, awarded_at=item.carried_out_at, exception_fraction="V"
                )
                if upload == "all":
                    backcapture.contingency_backcapture_contract(
                        actor=operator,
                        item=item,
                        signed_at=item.carried_out_at + dt.timedelta(hours=2),
                        start_date=end.date(),
                        end_date=end.date() + dt.timedelta(days=180),
                    )
            out(f"  {unit.key}: back-captured {upload}")
    finally:
        clock.set_now(None)
    out(f"Accountability page: {settings.LICITA_PUBLIC_URL}/interrupciones/{outage.pk}/")
    return outage


#: A one-page PDF: the scanned acta de fallo of the demo's licitación held in person.
ACTA_PDF = b"%PDF-1.4\n% Acta de fallo (demo)\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _tender_backcapture(operator: Any, item: Any, *, rival: Supplier, out: Callable[[str], None]) -> None:
    """Back-capture a licitación held in person, act by act, from a file of acts (as a unit would upload it)."""
    at = item.carried_out_at
    when = {name: (at + dt.timedelta(hours=h)).isoformat() for name, h in (("pub", 0), ("open", 6), ("fallo", 20))}
    acts = {
        "outage": item.outage_id,
        "unit": item.unit.key,
        "ref": item.ref,
        "steps": [
            {"act": "convocatoria", "date": when["pub"], "submission_deadline": when["open"]},
            {
                "act": "bids",
                "date": when["open"],
                "bids": [
                    {"supplier_rfc": item.supplier_rfc, "lots": [{"lot": 1, "price": str(item.amount)}]},
                    {
                        "supplier_rfc": rival.rfc,
                        "lots": [{"lot": 1, "price": str((item.amount * Decimal("1.08")).quantize(Decimal("0.01")))}],
                    },
                ],
            },
            {
                "act": "fallo",
                "date": when["fallo"],
                "evaluations": [
                    {"supplier_rfc": item.supplier_rfc, "lot": 1, "compliant": True},
                    {"supplier_rfc": rival.rfc, "lot": 1, "compliant": True},
                ],
            },
            {"act": "document", "of": "fallo", "date": when["fallo"], "title": "Acta de fallo", "file": "fallo.pdf"},
            {
                "act": "contract",
                "date": (at + dt.timedelta(hours=22)).isoformat(),
                "start_date": (at + dt.timedelta(days=1)).date().isoformat(),
                "end_date": (at + dt.timedelta(days=180)).date().isoformat(),
            },
        ],
    }
    backcapture.attach_files(acts, {"fallo.pdf": ACTA_PDF}.get)
    item, done = backcapture.contingency_backcapture_file(actor=operator, data=acts)
    out(f"  {item.unit.key}: {item.ref}, a licitación held in person, back-captured act by act ({len(done)} acts)")
