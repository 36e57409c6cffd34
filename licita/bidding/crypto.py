"""Cryptography for sealed bids: HPKE sealing, SLIP-39 opening-key shares, Ed25519 receipts.

Sealed blob format (bids and custodian shares alike)::

    0x01 || enc (32 bytes, X25519 ephemeral public key) || AES-256-GCM ciphertext || tag (16 bytes)

Version byte 0x01 means HPKE (RFC 9180) base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
AES-256-GCM. The HPKE ``info`` is a domain prefix (``licita-bid-v1|`` or ``licita-share-v1|``) followed by the
caller's context, so a blob only opens for the same kind of object, procedure and party it was sealed for.

Receipts are ``{"payload": {str: str}, "signature": b64, "algorithm": "Ed25519", "public_key": b64}`` where the
signature covers ``canonical_json(payload)``; ``tools/verify_receipt.py`` checks them offline.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from django.utils.translation import gettext as _
from shamir_mnemonic import MnemonicError, Share, combine_mnemonics, generate_mnemonics

from licita.core.errors import LicitaError, ValidationError

SEAL_VERSION = 1
BID_INFO_PREFIX = b"licita-bid-v1|"
SHARE_INFO_PREFIX = b"licita-share-v1|"
SIGNING_KEY_FILENAME = "signing-ed25519.key"
RECEIPT_ALGORITHM = "Ed25519"
MAX_SHARES = 16

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_ENC_LENGTH = 32
_TAG_LENGTH = 16
_KEY_LENGTH = 32


class SealError(LicitaError):
    """Raised when a sealed bid or key share cannot be opened."""

    code = "seal_invalid"
    status = 422


class ShareError(LicitaError):
    """Raised when opening-key shares are too few, malformed or from different splits."""

    code = "share_invalid"
    status = 422


# --- Opening key and HPKE sealing -------------------------------------------------------------------------------


def opening_keypair_generate() -> tuple[bytes, bytes]:
    """Return a new X25519 opening key pair as (private raw 32 bytes, public raw 32 bytes)."""
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes_raw()


def _seal(*, public_key: bytes, plaintext: bytes, info: bytes) -> bytes:
    recipient = X25519PublicKey.from_public_bytes(public_key)
    return bytes([SEAL_VERSION]) + _SUITE.encrypt(plaintext, recipient, info=info)


def _unseal(*, private_key: bytes, sealed: bytes, info: bytes, kind: str) -> bytes:
    try:
        recipient = X25519PrivateKey.from_private_bytes(private_key)
    except (ValueError, TypeError):
        raise SealError(_("The private key is not a valid X25519 key (32 bytes expected)"), reason="key") from None
    if len(sealed) < 1 + _ENC_LENGTH + _TAG_LENGTH or sealed[0] != SEAL_VERSION:
        raise SealError(_("The sealed data is damaged or in an unknown format"), reason="format")
    try:
        return _SUITE.decrypt(sealed[1:], recipient, info=info)
    except (InvalidTag, ValueError):
        if kind == "bid":
            message = _(
                "The bid cannot be opened: wrong opening key, sealed for another procedure or bidder, or altered"
            )
        else:
            message = _(
                "The key share cannot be opened: wrong custodian key, sealed for another custodian, or altered"
            )
        raise SealError(message, reason="decrypt") from None


def bid_seal(*, public_key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """Seal a bid to the opening public key, bound to `context` (e.g. b"<procedure id>|<supplier rfc>")."""
    return _seal(public_key=public_key, plaintext=plaintext, info=BID_INFO_PREFIX + context)


def bid_unseal(*, private_key: bytes, sealed: bytes, context: bytes) -> bytes:
    """Open a sealed bid with the opening private key, or raise SealError."""
    return _unseal(private_key=private_key, sealed=sealed, info=BID_INFO_PREFIX + context, kind="bid")


def share_seal(*, custodian_public_key: bytes, share: str, context: bytes) -> bytes:
    """Seal one opening-key share mnemonic to a custodian's X25519 public key, bound to `context`."""
    return _seal(public_key=custodian_public_key, plaintext=share.encode("utf-8"), info=SHARE_INFO_PREFIX + context)


def share_unseal(*, custodian_private_key: bytes, sealed: bytes, context: bytes) -> str:
    """Open a sealed key share with the custodian's private key, or raise SealError."""
    plaintext = _unseal(
        private_key=custodian_private_key, sealed=sealed, info=SHARE_INFO_PREFIX + context, kind="share"
    )
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise SealError(_("The sealed data is damaged or in an unknown format"), reason="format") from None


# --- SLIP-39 splitting of the opening key -----------------------------------------------------------------------


def key_split(*, secret: bytes, threshold: int, shares: int) -> list[str]:
    """Split `secret` into `shares` SLIP-39 mnemonics (one group), any `threshold` of which recover it."""
    if not 1 <= shares <= MAX_SHARES:
        raise ValidationError(
            _("The number of key shares must be between 1 and %(max)d") % {"max": MAX_SHARES},
            field="shares",
            rule="range",
        )
    if not 1 <= threshold <= shares:
        raise ValidationError(
            _("The key share threshold must be between 1 and %(shares)d") % {"shares": shares},
            field="threshold",
            rule="range",
        )
    if threshold == 1 and shares > 1:
        raise ValidationError(
            _("A threshold of 1 is only allowed with a single key share"), field="threshold", rule="slip39"
        )
    if len(secret) < 16 or len(secret) % 2:
        msg = "SLIP-39 secrets must be at least 16 bytes long and of even length"
        raise ValueError(msg)
    groups: list[list[str]] = generate_mnemonics(group_threshold=1, groups=[(threshold, shares)], master_secret=secret)
    return groups[0]


def key_combine(*, mnemonics: list[str]) -> bytes:
    """Recover the secret from SLIP-39 share mnemonics, or raise ShareError saying what is missing or wrong."""
    if not mnemonics:
        raise ShareError(_("No key shares were given"), code="shares_insufficient", needed=None, given=0)
    decoded: dict[Any, str] = {}
    first: Any = None
    for position, mnemonic in enumerate(mnemonics, start=1):
        try:
            share = Share.from_mnemonic(mnemonic)
        except (MnemonicError, ValueError, TypeError, AttributeError):
            # The library's message may quote the mistyped word, a piece of the secret: keep it out of the error.
            raise ShareError(
                _("Key share %(position)d is not valid: a word is misspelled, missing or out of place")
                % {"position": position},
                position=position,
            ) from None
        if first is None:
            first = share
        if share.group_count != 1 or share.group_parameters() != first.group_parameters():
            raise ShareError(
                _("Key share %(position)d does not belong to the same key split as key share 1")
                % {"position": position},
                position=position,
            )
        decoded.setdefault(share, mnemonic)
    needed = int(first.member_threshold)
    given = len(decoded)
    if given < needed:
        if given < len(mnemonics):
            message = _("%(needed)d different key shares are needed; %(given)d different ones were given")
        else:
            message = _("%(needed)d key shares are needed; %(given)d were given")
        raise ShareError(
            message % {"needed": needed, "given": given}, code="shares_insufficient", needed=needed, given=given
        )
    try:
        # SLIP-39 wants exactly `needed` shares; any that many consistent shares recover the secret.
        return bytes(combine_mnemonics(list(decoded.values())[:needed]))
    except MnemonicError:
        raise ShareError(_("The key shares do not fit together; at least one of them is wrong")) from None


# --- Platform signing key and receipts --------------------------------------------------------------------------


def _b64decode_strict(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        msg = "non-canonical base64"
        raise ValueError(msg)
    return raw


def _seed_decode(text: str, *, source: str) -> bytes:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != _KEY_LENGTH:
        msg = f"The Ed25519 signing key from {source} must be the base64 of a 32-byte seed"
        raise ValueError(msg)
    return seed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key_file_create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".signing-", suffix=".tmp")  # mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(seed).decode("ascii") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # A hard link publishes the complete file atomically and never clobbers a key another process won with.
            with contextlib.suppress(FileExistsError):
                path.hardlink_to(tmp)
        except OSError:
            if not path.exists():  # filesystem without hard links
                tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


@functools.lru_cache(maxsize=8)
def _signing_key_cached(seed_b64: str, keys_dir: Path, filename: str = SIGNING_KEY_FILENAME) -> Ed25519PrivateKey:
    if seed_b64:
        return Ed25519PrivateKey.from_private_bytes(_seed_decode(seed_b64, source="the configured seed"))
    path = keys_dir / filename
    if not path.exists():
        _key_file_create(path)
    return Ed25519PrivateKey.from_private_bytes(_seed_decode(path.read_text(encoding="ascii"), source=str(path)))


def signing_key_load(*, seed_b64: str, keys_dir: Path, filename: str = SIGNING_KEY_FILENAME) -> Ed25519PrivateKey:
    """Return an Ed25519 key from `seed_b64`, else from `keys_dir / filename`, creating the key file if missing."""
    return _signing_key_cached(seed_b64, keys_dir, filename)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """Return the base64 of the raw 32-byte Ed25519 public key of `key`."""
    return base64.b64encode(key.public_key().public_bytes_raw()).decode("ascii")


def canonical_json(obj: Any) -> bytes:
    """Return `obj` as canonical JSON bytes (sorted keys, no spaces, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def receipt_sign(*, key: Ed25519PrivateKey, payload: dict[str, str]) -> dict[str, Any]:
    """Return a receipt whose Ed25519 signature covers canonical_json(payload)."""
    payload = dict(payload)
    signature = key.sign(canonical_json(payload))
    return {
        "payload": payload,
        "signature": base64.b64encode(signature).decode("ascii"),
        "algorithm": RECEIPT_ALGORITHM,
        "public_key": public_key_b64(key),
    }


def receipt_verify(*, receipt: object, public_key_b64: str) -> bool:
    """Return whether `receipt` is well formed and signed by `public_key_b64`; never raise on bad input."""
    if not isinstance(receipt, dict) or receipt.get("algorithm") != RECEIPT_ALGORITHM:
        return False
    payload, signature, embedded = receipt.get("payload"), receipt.get("signature"), receipt.get("public_key")
    if not isinstance(payload, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items()):
        return False
    if not isinstance(signature, str) or not isinstance(embedded, str) or not isinstance(public_key_b64, str):
        return False
    try:
        trusted = _b64decode_strict(public_key_b64)
        if _b64decode_strict(embedded) != trusted:
            return False
        Ed25519PublicKey.from_public_bytes(trusted).verify(_b64decode_strict(signature), canonical_json(payload))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 digest of `data`."""
    return hashlib.sha256(data).hexdigest()
