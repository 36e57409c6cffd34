"""Public ledger endpoints: key, checkpoints, leaves and RFC 9162 proofs (docs/ledger.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from pydantic import WithJsonSchema

from licita.ledger import selectors
from licita.ledger.services import b64, verifier_keys
from licita.ledger.verifying import procedure_check, receipt_check

router = Router(tags=["ledger"])

# Whole-number query parameters are parsed here rather than by ninja, so that a malformed one is a 400 that
# names the field, like every other bad ledger parameter (ninja's own validation answers 422).
QueryInt = Annotated[str, WithJsonSchema({"type": "integer"})]
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


def _int(value: str, field: str) -> int:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise selectors.InvalidParameter(
            _("%(field)s must be a whole number") % {"field": field}, field=field, rule="integer"
        )
    return int(text)


def _int_or(value: str | None, field: str, default: int) -> int:
    return default if value is None else _int(value, field)


def _int_or_none(value: str | None, field: str) -> int | None:
    return None if value is None else _int(value, field)


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
def checkpoints(request: HttpRequest, after: QueryInt | None = None, limit: QueryInt | None = None) -> dict[str, Any]:
    """Return every checkpoint ever signed, oldest first, from the first of size greater than `after`."""
    page = selectors.checkpoints_page(after=_int_or(after, "after", -1), limit=_int_or(limit, "limit", 100))
    return {"checkpoints": [_checkpoint(row) for row in page["checkpoints"]], "next": page["next"]}


@router.get("/ledger/leaves", response=dict[str, Any])
def leaves(request: HttpRequest, start: QueryInt | None = None, limit: QueryInt | None = None) -> dict[str, Any]:
    """Return leaves from index `start` (each with its data, the exact bytes that were hashed, and its hash)."""
    page = selectors.leaves_page(start=_int_or(start, "start", 0), limit=_int_or(limit, "limit", 100))
    return {
        "size": page["size"],
        "leaves": [
            {"index": leaf.index, "kind": leaf.kind, "data": leaf.data, "hash": leaf.hash} for leaf in page["leaves"]
        ],
        "next": page["next"],
    }


@router.get("/ledger/proof/inclusion", response=dict[str, Any])
def inclusion(request: HttpRequest, index: QueryInt, size: QueryInt | None = None) -> dict[str, Any]:
    """Return the proof that leaf `index` is in the tree of `size` leaves (RFC 9162 §2.1.3)."""
    proof = selectors.inclusion(index=_int(index, "index"), tree_size=_int_or_none(size, "size"))
    return {
        "index": proof["index"],
        "size": proof["size"],
        "leaf_hash": b64(proof["leaf_hash"]),
        "root": b64(proof["root"]),
        "proof": [b64(h) for h in proof["proof"]],
    }


@router.get("/ledger/proof/consistency", response=dict[str, Any])
def consistency(request: HttpRequest, first: QueryInt, second: QueryInt | None = None) -> dict[str, Any]:
    """Return the proof that the tree of `first` leaves is a prefix of that of `second` (RFC 9162 §2.1.4)."""
    proof = selectors.consistency(first=_int(first, "first"), second=_int_or_none(second, "second"))
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
