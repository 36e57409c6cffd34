"""Canonical JSON for ledger leaves and release digests (shared by the platform and the standalone verifier).

Canonical JSON here is ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
encoded as UTF-8: keys sorted, no insignificant whitespace, non-ASCII characters written as themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "canonical_text", "release_digest"]

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_text(obj: Any) -> str:
    """Return the canonical JSON of `obj` as text (NaN and infinities are refused: they are not JSON)."""
    return _ENCODER.encode(obj)


def canonical_json(obj: Any) -> bytes:
    """Return the canonical JSON bytes of `obj`: `canonical_text` encoded as UTF-8."""
    return _ENCODER.encode(obj).encode("utf-8")


def release_digest(release: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of a whole OCDS release object (the "sha256" of a release leaf)."""
    return hashlib.sha256(canonical_json(release)).hexdigest()
