# ruff: noqa: INP001  (a standalone script, not a package)
"""Open a Licita opening-key share offline: print the custodian's SLIP-39 words (needs only `cryptography` >= 46).

A custodian of an opening committee receives their share once, sealed to the X25519 public key they registered.
The share file is the JSON the platform hands over (the opening page's download, or the answer of
``POST /api/procedures/{ref}/opening-key/share``)::

    {"procedure": "LA-...", "sealed_share": "<base64>", "context": "<base64>", "threshold": 2, "share_count": 3}

``sealed_share`` is ``0x01 || enc (32 bytes) || AES-256-GCM ciphertext || tag (16 bytes)``: HPKE (RFC 9180) base
mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, with ``info = b"licita-share-v1|" + context``
(the context binds it to the procedure and the custodian) - the parameters of ``licita/bidding/crypto.py``.

The private key file holds the custodian's X25519 private key as PKCS#8 PEM (``openssl genpkey -algorithm X25519``),
as the base64 of its 32 raw bytes, or as the 32 raw bytes themselves. It never leaves this computer.

Usage: python tools/unseal_share.py --key PRIVATE_KEY_FILE --share SEALED_SHARE.json
Prints the SLIP-39 words on standard output and exits 0, or "ERROR: reason" on standard error and exits 2.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

SEAL_VERSION = 1
SHARE_INFO_PREFIX = b"licita-share-v1|"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
ENC_LENGTH = 32
TAG_LENGTH = 16
KEY_LENGTH = 32
EXIT_ERROR = 2


class UnsealError(Exception):
    """Raised with the reason a share cannot be opened."""


def _b64(text: object, name: str) -> bytes:
    if not isinstance(text, str):
        msg = f"{name} is missing or not a string"
        raise UnsealError(msg)
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        msg = f"{name} is not valid base64"
        raise UnsealError(msg) from None


def private_key_load(path: Path) -> X25519PrivateKey:
    """Return the X25519 private key in `path` (PKCS#8 PEM, base64 of the 32 raw bytes, or the raw bytes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read the private key file: {exc.strerror} ({path})"
        raise UnsealError(msg) from None
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            msg = f"the private key file is not a readable unencrypted PEM key: {exc}"
            raise UnsealError(msg) from None
        if not isinstance(key, X25519PrivateKey):
            msg = "the private key file holds a key that is not X25519"
            raise UnsealError(msg)
        return key
    raw = data
    if len(data) != KEY_LENGTH:
        try:
            raw = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != KEY_LENGTH:
        msg = "the private key file must hold an X25519 key: PKCS#8 PEM, or 32 bytes (raw or base64)"
        raise UnsealError(msg)
    return X25519PrivateKey.from_private_bytes(raw)


def share_load(path: Path) -> tuple[bytes, bytes, str]:
    """Return (sealed share, context, procedure) from the JSON file the platform handed over."""
    try:
        claim = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read the share file: {exc.strerror} ({path})"
        raise UnsealError(msg) from None
    except ValueError:
        msg = "the share file is not JSON: save the file the platform gave you, unchanged"
        raise UnsealError(msg) from None
    if not isinstance(claim, dict):
        msg = 'the share file must be a JSON object with "sealed_share" and "context"'
        raise UnsealError(msg)
    sealed = _b64(claim.get("sealed_share"), "sealed_share")
    context = _b64(claim.get("context"), "context")
    return sealed, context, str(claim.get("procedure") or "")


def unseal(key: X25519PrivateKey, sealed: bytes, context: bytes) -> str:
    """Return the share's SLIP-39 words, or raise UnsealError saying why the share does not open."""
    if len(sealed) < 1 + ENC_LENGTH + TAG_LENGTH or sealed[0] != SEAL_VERSION:
        msg = "the sealed share is damaged or in an unknown format"
        raise UnsealError(msg)
    try:
        plaintext = SUITE.decrypt(sealed[1:], key, info=SHARE_INFO_PREFIX + context)
    except (InvalidTag, ValueError):
        msg = (
            "the share does not open with this key: it is not the private key of the public key you registered, "
            "or the share was sealed for another custodian or procedure, or it was altered"
        )
        raise UnsealError(msg) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        msg = "the sealed share is damaged or in an unknown format"
        raise UnsealError(msg) from None


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = argparse.ArgumentParser(description="Open a Licita opening-key share offline and print its words.")
    parser.add_argument("--key", required=True, type=Path, help="your X25519 private key file")
    parser.add_argument("--share", required=True, type=Path, help="the sealed share JSON file")
    args = parser.parse_args(argv)
    try:
        key = private_key_load(args.key)
        sealed, context, procedure = share_load(args.share)
        words = unseal(key, sealed, context)
    except UnsealError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR
    about = f" of {procedure}" if procedure else ""
    print(f"Your opening-key share{about}; keep it secret and type it at the opening:", file=sys.stderr)  # noqa: T201
    print(words)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
