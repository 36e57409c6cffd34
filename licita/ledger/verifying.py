"""Checks the portal shows: a procedure's leaves and a pasted bid receipt, proven against the latest checkpoint.

These run on the server, with the same code as the standalone verifier (`licita.ledger.merkle` and
`note`); anyone can repeat them independently with `licita verify` or `python -m licita.ledger.verify`.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from licita.bidding import crypto
from licita.bidding.services import platform_signing_key
from licita.core.errors import NotFound
from licita.ledger import merkle, note, selectors
from licita.ledger.canonical import release_digest
from licita.ledger.models import Checkpoint, Leaf, LeafKind
from licita.ledger.services import b64, receipt_digest, verifier_keys

RECEIPT_MAX_BYTES = 64 * 1024


def _latest() -> tuple[Any, note.Checkpoint]:
    """Return the latest checkpoint row and its verified content (signature checked with the published keys)."""
    row = selectors.checkpoint_latest()
    verifiers = [note.parse_verifier_key(key) for key in verifier_keys()]
    return row, note.open_checkpoint(row.note, verifiers, origin=settings.LICITA_LEDGER_ORIGIN)


def ledger_summary() -> dict[str, Any]:
    """Return what the ledger page shows: size, latest checkpoint, keys, and the commands to verify."""
    latest = Checkpoint.objects.order_by("-size").first()
    return {
        "ledger_size": selectors.size(),
        "checkpoint": latest,
        "checkpoint_count": Checkpoint.objects.count(),
        "verifier_keys": verifier_keys(),
        "origin": settings.LICITA_LEDGER_ORIGIN,
        "public_url": settings.LICITA_PUBLIC_URL,
    }


def _prove(leaf: Leaf, size: int, root: bytes) -> dict[str, Any]:
    """Return the inclusion proof of `leaf` in the tree of `size` leaves, checked against `root`."""
    proof = selectors.inclusion(index=leaf.index, tree_size=size)
    ok = True
    message = _("Included in checkpoint %(size)s") % {"size": size}
    try:
        merkle.verify_inclusion(leaf.index, size, merkle.leaf_hash(leaf.data.encode("utf-8")), proof["proof"], root)
    except merkle.ProofError as exc:
        ok, message = False, str(exc)
    return {
        "index": leaf.index,
        "kind": leaf.kind,
        "data": json.loads(leaf.data),
        "proof": [b64(h) for h in proof["proof"]],
        "included": ok,
        "message": message,
    }


def procedure_check(*, ocid: str) -> dict[str, Any]:
    """Prove every leaf of a procedure against the latest checkpoint; compare each release with its leaf."""
    from licita.publication.models import Release  # noqa: PLC0415

    leaves = selectors.leaves_of_ocid(ocid)
    if not leaves:
        raise NotFound(_("No ledger entries for %(ocid)s") % {"ocid": ocid})
    row, checkpoint = _latest()
    releases = dict(Release.objects.filter(ocid=ocid).values_list("release_id", "data"))
    results = []
    for leaf in leaves:
        if leaf.index >= checkpoint.size:
            results.append(
                {
                    "index": leaf.index,
                    "kind": leaf.kind,
                    "data": json.loads(leaf.data),
                    "included": None,
                    "message": _("Not yet covered by a checkpoint (one is signed every minute)"),
                }
            )
            continue
        result = _prove(leaf, checkpoint.size, checkpoint.root)
        if leaf.kind == LeafKind.RELEASE:
            data = releases.get(leaf.ref)
            same = data is not None and release_digest(data) == result["data"].get("sha256")
            result["release_matches"] = same
            if not same:
                result["included"] = False
                result["message"] = _("The published release %(id)s does not match its ledger entry") % {
                    "id": leaf.ref
                }
        results.append(result)
    return {
        "ocid": ocid,
        "checkpoint": {"size": checkpoint.size, "root": b64(checkpoint.root), "note": row.note},
        "verified": all(r["included"] is not False for r in results),
        "leaves": results,
    }


def receipt_check(*, raw: bytes | str) -> dict[str, Any]:
    """Check a bid receipt: its signature, the leaf it names (same digest) and that leaf's inclusion proof."""
    if isinstance(raw, bytes):
        if len(raw) > RECEIPT_MAX_BYTES:
            raise selectors.InvalidParameter(_("The receipt is too large"), field="receipt", rule="max_size")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise selectors.InvalidParameter(
                _("The receipt must be UTF-8 text"), field="receipt", rule="utf8"
            ) from None
    try:
        receipt = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be a receipt
        raise selectors.InvalidParameter(
            _("The receipt must be the JSON you were given when you submitted the bid"), field="receipt", rule="json"
        ) from None
    if not isinstance(receipt, dict) or not isinstance(receipt.get("payload"), dict):
        raise selectors.InvalidParameter(_("The receipt has no payload"), field="receipt", rule="format")
    checks: list[dict[str, Any]] = []
    signed = crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(platform_signing_key()))
    checks.append(
        {
            "check": "signature",
            "ok": signed,
            "message": _("Signed by the platform")
            if signed
            else _("The signature does not verify: the receipt was altered or is not from this platform"),
        }
    )
    payload = receipt["payload"]
    index_text = payload.get("ledger_index")
    leaf = None
    if isinstance(index_text, str) and index_text.isascii() and index_text.isdigit():  # not "²"
        leaf = Leaf.objects.filter(index=int(index_text)).first()
    if leaf is None or leaf.kind != LeafKind.BID_RECEIPT:
        checks.append(
            {
                "check": "leaf",
                "ok": False,
                "message": _("The ledger has no bid-receipt entry at the index this receipt names"),
            }
        )
        return {"valid": False, "checks": checks}
    entry = json.loads(leaf.data)
    try:
        digest = receipt_digest(payload)
    except (ValueError, RecursionError):  # NaN or Infinity in the payload: not canonical JSON, not a receipt
        digest = None
    same = digest is not None and entry.get("receipt_sha256") == digest
    checks.append(
        {
            "check": "leaf",
            "ok": same,
            "index": leaf.index,
            "message": _("Entry %(index)s of the ledger holds this receipt's digest") % {"index": leaf.index}
            if same
            else _("Entry %(index)s of the ledger holds a different digest") % {"index": leaf.index},
        }
    )
    try:
        row, checkpoint = _latest()
    except NotFound:
        checks.append({"check": "inclusion", "ok": None, "message": _("No checkpoint yet")})
        return {"valid": False, "checks": checks}
    if leaf.index >= checkpoint.size:
        checks.append(
            {
                "check": "inclusion",
                "ok": None,
                "message": _("Not yet covered by a checkpoint (one is signed every minute)"),
            }
        )
        return {"valid": False, "checks": checks}
    proven = _prove(leaf, checkpoint.size, checkpoint.root)
    checks.append(
        {"check": "inclusion", "ok": proven["included"], "message": proven["message"], "proof": proven["proof"]}
    )
    return {
        "valid": all(c["ok"] for c in checks),
        "checks": checks,
        "checkpoint": {"size": checkpoint.size, "root": b64(checkpoint.root), "note": row.note},
    }
