r"""C2SP signed notes (https://c2sp.org/signed-note) and checkpoints (https://c2sp.org/tlog-checkpoint).

A signed note is a UTF-8 text body ending in a newline, a blank line, and one or more signature lines
``— <key name> <base64(4-byte key id || signature)>``. Only Ed25519 keys (type 0x01) are supported: the key
id is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key), the verifier key is written
``<name>+<8 hex digits of the key id>+<base64(0x01 || public key)>``, and the signature covers the body's
bytes. A checkpoint is a note whose body is ``origin\nsize\nbase64(root)\n`` plus optional extension lines.

A note may carry several signatures (`cosign`), which lets a log rotate its key: checkpoints signed by the
old and the new key verify with either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_ED25519",
    "MAX_NOTE_BYTES",
    "Checkpoint",
    "Note",
    "NoteError",
    "Signature",
    "Verifier",
    "checkpoint_body",
    "cosign",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint_body",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 0x01
MAX_NOTE_BYTES = 1_000_000
MAX_SIGNATURES = 100
SIG_PREFIX = "\u2014 "  # em dash and a space
HASH_SIZE = 32

_SIZE_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z", re.ASCII)


class NoteError(ValueError):
    """A note, checkpoint or verifier key is malformed, or its signatures do not verify."""


# ------------------------------------------------------------------------------------------------------ keys


def _b64decode(text: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


def _check_name(name: str) -> None:
    if not name:
        raise NoteError("the key name is empty")
    if "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"invalid key name {name!r}: it must not contain '+' or spaces")
    if any(ord(ch) < 0x20 for ch in name):
        raise NoteError(f"invalid key name {name!r}: it contains control characters")


def key_id(name: str, public_key: bytes) -> int:
    """Ed25519 key id: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes_raw()
    return bytes(key)


@dataclass(frozen=True)
class Verifier:
    """A trusted key: the signer's name, the key id and the 32-byte Ed25519 public key."""

    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def from_key(cls, name: str, key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> Verifier:
        _check_name(name)
        public = _public_bytes(key)
        if len(public) != 32:
            raise NoteError(f"an Ed25519 public key is 32 bytes, got {len(public)}")
        return cls(name, key_id(name, public), public)

    @property
    def key(self) -> str:
        """The verifier key string."""
        return verifier_key(self.name, self.public_key)

    def verify(self, body: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, body)
        except (InvalidSignature, ValueError):
            return False
        return True


def verifier_key(name: str, public_key: bytes | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``<name>+<8 hex key id>+<base64(0x01 || public key)>``."""
    _check_name(name)
    public = _public_bytes(public_key)
    if len(public) != 32:
        raise NoteError(f"an Ed25519 public key is 32 bytes, got {len(public)}")
    material = base64.b64encode(bytes([ALG_ED25519]) + public).decode("ascii")
    return f"{name}+{key_id(name, public):08x}+{material}"


def parse_verifier_key(text: str) -> Verifier:
    """Parse a verifier key string; the key id must match the name and key."""
    text = text.strip()
    name, sep1, rest = text.partition("+")
    hex_id, sep2, material = rest.partition("+")
    if not sep1 or not sep2:
        raise NoteError(f"malformed verifier key {text!r}: expected <name>+<key id>+<base64 key>")
    _check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"malformed verifier key {text!r}: the key id must be 8 lowercase hex digits")
    raw = _b64decode(material, f"the key material of verifier key {text!r}")
    if not raw or raw[0] != ALG_ED25519:
        raise NoteError(f"verifier key {text!r}: unsupported key type (only Ed25519, 0x01)")
    public = raw[1:]
    if len(public) != 32:
        raise NoteError(f"verifier key {text!r}: an Ed25519 public key is 32 bytes, got {len(public)}")
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise NoteError(f"verifier key {text!r}: invalid Ed25519 public key") from exc
    expected = key_id(name, public)
    if int(hex_id, 16) != expected:
        raise NoteError(f"verifier key {text!r}: key id {hex_id} does not match the key (expected {expected:08x})")
    return Verifier(name, expected, public)


# ----------------------------------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        blob = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode("ascii")
        return f"{SIG_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: the body (text that is signed), every signature, and the names that verified."""

    body: str
    signatures: tuple[Signature, ...]
    verified_by: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.body + "\n" + "".join(s.line for s in self.signatures)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteError(f"the note is {len(raw)} bytes, more than the {MAX_NOTE_BYTES} allowed")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"the note is not valid UTF-8 (byte {exc.start})") from exc
    if len(text) > MAX_NOTE_BYTES:
        raise NoteError(f"the note is more than {MAX_NOTE_BYTES} bytes")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise NoteError("the note is not valid UTF-8 (it contains a lone surrogate)") from exc
    if size > MAX_NOTE_BYTES:
        raise NoteError(f"the note is {size} bytes, more than the {MAX_NOTE_BYTES} allowed")
    return text


def _check_text(text: str, what: str) -> None:
    for i, ch in enumerate(text):
        if ch < " " and ch != "\n":
            raise NoteError(f"malformed note: {what} has control character {ch!r} at position {i}")


def _check_body(body: str) -> None:
    if not body:
        raise NoteError("malformed note: the body is empty")
    if not body.endswith("\n"):
        raise NoteError("malformed note: the body must end with a newline")
    _check_text(body, "the body")


def parse_note(text: str | bytes) -> Note:
    """Split a signed note into its body and signatures, checking the syntax only (nothing is verified)."""
    text = _decode(text)
    _check_text(text, "the note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signature lines (is it signed?)")
    body, sigs = text[: split + 1], text[split + 2 :]
    if not sigs:
        raise NoteError("malformed note: no signature line after the blank line")
    if not sigs.endswith("\n"):
        raise NoteError("malformed note: the last signature line does not end with a newline")
    signatures = []
    for number, line in enumerate(sigs[:-1].split("\n"), start=1):
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed note: signature line {number} does not start with '— ': {line[:80]!r}")
        name, sep, blob = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not blob:
            raise NoteError(f"malformed note: signature line {number} has no signature after the name")
        try:
            _check_name(name)
        except NoteError as exc:
            raise NoteError(f"malformed note: signature line {number}: {exc}") from None
        raw = _b64decode(blob, f"the signature on line {number}")
        if len(raw) < 5:
            raise NoteError(f"malformed note: the signature on line {number} is too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    if not body:
        raise NoteError("malformed note: the body is empty")
    return Note(body, tuple(signatures))


def open_note(text: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a note and verify its signatures: at least one by a known key, and none bad by a known key.

    Signatures by unknown keys are ignored when a known key has signed; when none has, `NoteError` says
    which keys signed.
    """
    note = parse_note(text)
    known = {(v.name, v.key_id): v for v in verifiers}
    if not known:
        raise NoteError("no verifier keys given")
    body = note.body.encode("utf-8")
    verified: list[str] = []
    unknown: list[str] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unknown.append(f"{sig.name}+{sig.key_id:08x}")
            continue
        if not verifier.verify(body, sig.signature):
            raise NoteError(f"bad signature by {sig.name}+{sig.key_id:08x}: it does not verify over the note body")
        if sig.name not in verified:
            verified.append(sig.name)
    if not verified:
        raise NoteError(
            f"unknown key: the note is signed only by {', '.join(unknown)}, not by any of the trusted keys "
            f"({', '.join(f'{n}+{k:08x}' for n, k in known)})"
        )
    return Note(note.body, note.signatures, tuple(verified))


def _signature_line(body: str, name: str, private_key: Ed25519PrivateKey) -> Signature:
    _check_name(name)
    public = private_key.public_key().public_bytes_raw()
    return Signature(name, key_id(name, public), private_key.sign(body.encode("utf-8")))


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    r"""Sign a note body: body + "\n" + "— <name> <base64(key id || Ed25519 signature over the body)>\n"."""
    _check_body(body)
    return body + "\n" + _signature_line(body, name, private_key).line


def cosign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Add a signature to an already signed note (key rotation, witnesses); idempotent for the same key."""
    note = parse_note(text)
    sig = _signature_line(note.body, name, private_key)
    if any(s.name == sig.name and s.key_id == sig.key_id for s in note.signatures):
        return note.text
    return Note(note.body, (*note.signatures, sig)).text


# ------------------------------------------------------------------------------------------------ checkpoints


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    verified_by: tuple[str, ...] = ()
    text: str = field(default="", repr=False)

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode("ascii")


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    r"""``origin\nsize\nbase64(root)\n`` followed by one line per extension."""
    if not origin or "\n" in origin:
        raise NoteError("the checkpoint origin must be a non-empty single line")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise NoteError(f"the checkpoint size must be a non-negative integer, got {size!r}")
    if len(root) != HASH_SIZE:
        raise NoteError(f"the checkpoint root must be {HASH_SIZE} bytes, got {len(root)}")
    for ext in extensions:
        if not ext or "\n" in ext:
            raise NoteError(f"a checkpoint extension line must be a non-empty single line, got {ext!r}")
    lines = [origin, str(size), base64.b64encode(root).decode("ascii"), *extensions]
    body = "".join(line + "\n" for line in lines)
    _check_body(body)
    return body


def parse_checkpoint_body(body: str) -> tuple[str, int, bytes, tuple[str, ...]]:
    """(origin, size, root, extensions) of a checkpoint body."""
    if not body.endswith("\n"):
        raise NoteError("malformed checkpoint: the body must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"malformed checkpoint: {len(lines)} lines, need origin, size and root hash")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("malformed checkpoint: the origin line is empty")
    if not _SIZE_RE.match(size_text):
        raise NoteError(f"malformed checkpoint size {size_text[:40]!r}: expected a decimal number")
    root = _b64decode(root_text, "the checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise NoteError(f"malformed checkpoint root: {len(root)} bytes, expected {HASH_SIZE}")
    for number, ext in enumerate(extensions, start=4):
        if not ext:
            raise NoteError(f"malformed checkpoint: line {number} (an extension line) is empty")
    return origin, int(size_text), root, tuple(extensions)


def open_checkpoint(
    text: str | bytes,
    verifiers: Iterable[Verifier],
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint; `origin`, when given, must match its first line."""
    note = open_note(text, verifiers)
    cp_origin, size, root, extensions = parse_checkpoint_body(note.body)
    if origin is not None and cp_origin != origin:
        raise NoteError(f"origin mismatch: the checkpoint is for {cp_origin!r}, expected {origin!r}")
    return Checkpoint(cp_origin, size, root, extensions, note.verified_by, note.text)
