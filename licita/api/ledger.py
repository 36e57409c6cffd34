"""Public ledger endpoints: key, checkpoints, leaves and RFC 9162 proofs (docs/ledger.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router

from licita.ledger import selectors
from licita.ledger.services import b64, verifier_keys
from licita.ledger.verifying import procedure_check, receipt_check

router = Router(tags=["ledger"])


def _checkpoint(row: Any) -> dict[str, Any]:
    return {
        "size": row.size,
        "root": b64(bytes.fromhex(row.root)),
        "note": row.note,
        "created_at": row.created_at.isoformat(),
    }


@router.get("/ledger/key", response=dict[str, Any])
def key(request: HttpRequest) -> dict[str, Any]:
    """Return the log's origin and verifier keys (the current one first; earlier ones after a rotation)."""
    return {
        "origin": settings.LICITA_LEDGER_ORIGIN,
        "verifier_keys": verifier_keys(),
        "algorithm": "Ed25519 (C2SP signed note, https://c2sp.org/signed-note)",
        "hashing": "RFC 9162: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right)",
    }


@router.get("/ledger/checkpoint")
def checkpoint(request: HttpRequest) -> HttpResponse:
    """Return the latest signed checkpoint as text (C2SP tlog-checkpoint)."""
    latest = selectors.checkpoint_latest()
    return HttpResponse(latest.note, content_type="text/plain; charset=utf-8")


@router.get("/ledger/checkpoints", response=dict[str, Any])
def checkpoints(request: HttpRequest, after: int = -1, limit: int = 100) -> dict[str, Any]:
    """Return every checkpoint ever signed, oldest first, from the first of size greater than `after`."""
    page = selectors.checkpoints_page(after=after, limit=limit)
    return {"checkpoints": [_checkpoint(row) for row in page["checkpoints"]], "next": page["next"]}


@router.get("/ledger/leaves", response=dict[str, Any])
def leaves(request: HttpRequest, start: int = 0, limit: int = 100) -> dict[str, Any]:
    """Return leaves from index `start` (each with its data, the exact bytes that were hashed, and its hash)."""
    page = selectors.leaves_page(start=start, limit=limit)
    return {
        "size": page["size"],
        "leaves": [
            {"index": leaf.index, "kind": leaf.kind, "data": leaf.data, "hash": leaf.hash} for leaf in page["leaves"]
        ],
        "next": page["next"],
    }


@router.get("/ledger/proof/inclusion", response=dict[str, Any])
def inclusion(request: HttpRequest, index: int, size: int | None = None) -> dict[str, Any]:
    """Return the proof that leaf `index` is in the tree of `size` leaves (RFC 9162 §2.1.3)."""
    proof = selectors.inclusion(index=index, tree_size=size)
    return {
        "index": proof["index"],
        "size": proof["size"],
        "leaf_hash": b64(proof["leaf_hash"]),
        "root": b64(proof["root"]),
        "proof": [b64(h) for h in proof["proof"]],
    }


@router.get("/ledger/proof/consistency", response=dict[str, Any])
def consistency(request: HttpRequest, first: int, second: int | None = None) -> dict[str, Any]:
    """Return the proof that the tree of `first` leaves is a prefix of that of `second` (RFC 9162 §2.1.4)."""
    proof = selectors.consistency(first=first, second=second)
    return {
        "first": proof["first"],
        "second": proof["second"],
        "first_root": b64(proof["first_root"]),
        "second_root": b64(proof["second_root"]),
        "proof": [b64(h) for h in proof["proof"]],
    }


@router.get("/ledger/procedures/{ocid}", response=dict[str, Any])
def procedure(request: HttpRequest, ocid: str) -> dict[str, Any]:
    """Return a procedure's leaves, each proven against the latest checkpoint."""
    return procedure_check(ocid=ocid)


@router.post("/ledger/receipts/verify", response=dict[str, Any])
def receipt_verify(request: HttpRequest) -> dict[str, Any]:
    """Check a bid receipt (the JSON the bidder was given): signature, its leaf, and the leaf's inclusion proof."""
    return receipt_check(raw=request.body)
