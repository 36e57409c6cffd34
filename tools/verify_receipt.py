# ruff: noqa: INP001  (a standalone script, not a package)
"""Check a Licita bid receipt offline (needs only Python 3.11+ and the `cryptography` package).

A receipt is a JSON object::

    {
      "payload": {"procedure": "...", "supplier": "...", "bid_sha256": "<hex>", "received_at": "...", ...},
      "signature": "<base64 Ed25519 signature>",
      "algorithm": "Ed25519",
      "public_key": "<base64 raw 32-byte Ed25519 public key>"
    }

`payload` maps strings to strings. The signature covers the canonical JSON of `payload`: keys sorted, no
whitespace (separators "," and ":"), non-ASCII characters kept as-is, UTF-8 encoded. `bid_sha256` is the SHA-256
of the sealed bid blob exactly as uploaded. Get the platform public key from the procedure's published notice,
not from the receipt itself.

Usage: python tools/verify_receipt.py RECEIPT.json --public-key BASE64 [--sealed-bid FILE]
Prints "OK: ..." and exits 0, or "INVALID: reason" and exits 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def canonical_json(obj: object) -> bytes:
    """Return `obj` as canonical JSON bytes (the same rule the platform signs with)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class ReceiptError(Exception):
    """Raised with the reason a receipt is invalid."""


def b64(text: str) -> bytes:
    """Decode strict, canonical base64."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        msg = "non-canonical base64"
        raise ValueError(msg)
    return raw


def check(receipt_path: Path, public_key: str, sealed_bid: Path | None) -> str:
    """Return a success message, or raise ReceiptError saying why the receipt is invalid."""
    try:
        receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReceiptError(f"cannot read receipt: {exc}") from None
    if not isinstance(receipt, dict) or receipt.get("algorithm") != "Ed25519":
        raise ReceiptError("not a receipt, or algorithm is not Ed25519")
    payload, signature = receipt.get("payload"), receipt.get("signature")
    if not isinstance(payload, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items()):
        raise ReceiptError("payload must map strings to strings")
    if not isinstance(signature, str):
        raise ReceiptError("signature missing")
    if receipt.get("public_key") != public_key:
        raise ReceiptError("receipt names a different public key than the one given")
    try:
        Ed25519PublicKey.from_public_bytes(b64(public_key)).verify(b64(signature), canonical_json(payload))
    except InvalidSignature:
        raise ReceiptError("signature does not match the payload and public key") from None
    except ValueError as exc:  # bad base64, wrong key length, unencodable text
        raise ReceiptError(f"malformed key, signature or payload: {exc}") from None
    message = "signature valid"
    if sealed_bid is not None:
        try:
            digest = hashlib.sha256(sealed_bid.read_bytes()).hexdigest()
        except OSError as exc:
            raise ReceiptError(f"cannot read sealed bid: {exc}") from None
        if digest != payload.get("bid_sha256", "").lower():
            raise ReceiptError(
                f"sealed bid sha256 {digest} differs from receipt bid_sha256 {payload.get('bid_sha256')}"
            )
        message += f"; sealed bid matches bid_sha256 {digest}"
    return message


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = argparse.ArgumentParser(description="Verify a Licita bid receipt offline.")
    parser.add_argument("receipt", type=Path, help="receipt JSON file")
    parser.add_argument("--public-key", required=True, help="platform Ed25519 public key, base64")
    parser.add_argument("--sealed-bid", type=Path, help="sealed bid file to compare with payload bid_sha256")
    args = parser.parse_args(argv)
    try:
        message = check(args.receipt, args.public_key, args.sealed_bid)
    except ReceiptError as exc:
        print(f"INVALID: {exc}")  # noqa: T201
        return 1
    print(f"OK: {message}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
