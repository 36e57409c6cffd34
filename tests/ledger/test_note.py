"""C2SP signed notes and checkpoints: key ids, signing, opening, rejection, cosigning."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licita.ledger.note import (
    NoteError,
    checkpoint_body,
    cosign,
    open_checkpoint,
    open_note,
    parse_verifier_key,
    sign_note,
    verifier_key,
)

ORIGIN = "licita.example.mx/ledger"
ROOT = hashlib.sha256(b"root").digest()

# golang.org/x/mod/sumdb/note's documented example (Ed25519 signatures are deterministic).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def _signed_checkpoint(key: Ed25519PrivateKey, name: str = ORIGIN, size: int = 10, root: bytes = ROOT) -> str:
    return sign_note(checkpoint_body(ORIGIN, size, root), name, key)


def test_key_id_computed_from_the_spec():
    key = _key(7)
    public = _public(key)
    # c2sp.org/signed-note: key id = SHA-256(name || 0x0A || signature type 0x01 || public key)[:4].
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\x0a" + b"\x01" + public).digest()[:4]
    material = base64.b64encode(b"\x01" + public).decode()
    expected = f"{ORIGIN}+{expected_id.hex()}+{material}"
    assert verifier_key(ORIGIN, public) == expected
    verifier = parse_verifier_key(expected)
    assert (verifier.name, verifier.key_id, verifier.public_key) == (
        ORIGIN,
        int.from_bytes(expected_id, "big"),
        public,
    )
    assert verifier.key == expected


def test_go_reference_note_byte_for_byte():
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert verifier_key("PeterNeumann", _public(key)) == GO_VKEY
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    note = open_note(GO_NOTE, [parse_verifier_key(GO_VKEY)])
    assert note.body == GO_TEXT
    assert note.verified_by == ("PeterNeumann",)
    with pytest.raises(NoteError, match="bad signature"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [parse_verifier_key(GO_VKEY)])


def test_checkpoint_round_trip():
    key = _key(1)
    body = checkpoint_body(ORIGIN, 1234, ROOT, ["Timestamp: 2026-03-02T16:00:00Z"])
    assert body == f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\nTimestamp: 2026-03-02T16:00:00Z\n"
    text = sign_note(body, ORIGIN, key)
    assert text.startswith(body + "\n\u2014 " + ORIGIN + " ")
    assert text.endswith("\n")
    cp = open_checkpoint(text, [parse_verifier_key(verifier_key(ORIGIN, _public(key)))], origin=ORIGIN)
    assert (cp.origin, cp.size, cp.root, cp.extensions) == (ORIGIN, 1234, ROOT, ("Timestamp: 2026-03-02T16:00:00Z",))
    assert cp.verified_by == (ORIGIN,)
    assert cp.text == text
    # bytes in, same result
    assert open_checkpoint(text.encode(), [parse_verifier_key(verifier_key(ORIGIN, _public(key)))]).size == 1234


def test_rejects_bad_signature():
    key = _key(1)
    verifiers = [parse_verifier_key(verifier_key(ORIGIN, _public(key)))]
    text = _signed_checkpoint(key)
    tampered = text.replace("\n10\n", "\n11\n")
    with pytest.raises(NoteError, match="bad signature"):
        open_checkpoint(tampered, verifiers)
    sig_line = text.rsplit("\n", 2)[1]
    blob = bytearray(base64.b64decode(sig_line.split(" ")[2]))
    blob[10] ^= 1
    broken = text.replace(sig_line.split(" ")[2], base64.b64encode(bytes(blob)).decode())
    with pytest.raises(NoteError, match="bad signature"):
        open_checkpoint(broken, verifiers)


def test_rejects_other_key():
    text = _signed_checkpoint(_key(2))
    with pytest.raises(NoteError, match="unknown key"):
        open_checkpoint(text, [parse_verifier_key(verifier_key(ORIGIN, _public(_key(1))))])
    # same key under another name: the key id differs, so it is unknown too
    with pytest.raises(NoteError, match="unknown key"):
        open_checkpoint(text, [parse_verifier_key(verifier_key("other.example", _public(_key(2))))])


def test_rejects_wrong_origin():
    key = _key(1)
    verifiers = [parse_verifier_key(verifier_key(ORIGIN, _public(key)))]
    with pytest.raises(NoteError, match="origin mismatch"):
        open_checkpoint(_signed_checkpoint(key), verifiers, origin="another.example/log")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no signature at all\n", "blank line"),
        ("body\n\n", "no signature line"),
        ("body\n\n\u2014 name AAAA", "newline"),
        ("body\n\n- name AAAAAAAAAAAA\n", "does not start"),
        ("body\n\n\u2014 name\n", "no signature after"),
        ("body\n\n\u2014 name !!!!\n", "base64"),
        ("body\n\n\u2014 name AAAA\n", "too short"),
        ("bo\rdy\n\n\u2014 name AAAAAAAAAAAA\n", "control character"),
        ("body\n\n\u2014 na+me AAAAAAAAAAAA\n", "key name"),
    ],
)
def test_rejects_malformed_notes(text, message):
    verifiers = [parse_verifier_key(verifier_key(ORIGIN, _public(_key(1))))]
    with pytest.raises(NoteError, match=message):
        open_note(text, verifiers)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n", "need origin, size and root"),
        (f"{ORIGIN}\n010\n{base64.b64encode(ROOT).decode()}\n", "size"),
        (f"{ORIGIN}\n+10\n{base64.b64encode(ROOT).decode()}\n", "size"),
        (f"{ORIGIN}\n10\nnot base64!\n", "base64"),
        (f"{ORIGIN}\n10\n{base64.b64encode(ROOT[:16]).decode()}\n", "16 bytes"),
        (f"\n10\n{base64.b64encode(ROOT).decode()}\n", "origin"),
    ],
)
def test_rejects_malformed_checkpoints(body, message):
    key = _key(1)
    verifiers = [parse_verifier_key(verifier_key(ORIGIN, _public(key)))]
    with pytest.raises(NoteError, match=message):
        open_checkpoint(sign_note(body, ORIGIN, key), verifiers)


def test_rejects_large_and_non_utf8_notes():
    verifiers = [parse_verifier_key(verifier_key(ORIGIN, _public(_key(1))))]
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"caf\xe9\n\n\xe2\x80\x94 name AAAAAAAAAAAA\n", verifiers)
    with pytest.raises(NoteError, match="more than"):
        open_note("x" * 1_000_001, verifiers)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "name",
        "name+c74f20a3",
        "name+c74f20a3+" + base64.b64encode(b"\x01" + b"0" * 32).decode(),  # key id does not match
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case id
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # bad length
        "PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not type 0x01
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_rejects_bad_verifier_keys(key):
    with pytest.raises(NoteError):
        parse_verifier_key(key)


def test_cosign_for_key_rotation():
    old, new = _key(1), _key(2)
    old_v = parse_verifier_key(verifier_key(ORIGIN, _public(old)))
    new_v = parse_verifier_key(verifier_key(ORIGIN, _public(new)))
    text = _signed_checkpoint(old)
    both = cosign(text, ORIGIN, new)
    assert both.startswith(text)
    assert both.count("\n\u2014 ") == 2
    assert cosign(both, ORIGIN, new) == both  # idempotent
    assert open_checkpoint(both, [old_v]).verified_by == (ORIGIN,)
    assert open_checkpoint(both, [new_v]).size == 10
    assert open_checkpoint(both, [old_v, new_v]).verified_by == (ORIGIN,)
    witness = cosign(both, "witness.example", _key(3))
    witness_v = parse_verifier_key(verifier_key("witness.example", _public(_key(3))))
    assert open_checkpoint(witness, [new_v, witness_v]).verified_by == (ORIGIN, "witness.example")
    # a bad signature by a trusted key is an error even if another trusted key signed correctly
    lines = both.split("\n")
    forged = "\n".join([*lines[:-2], lines[-2][:-8] + "AAAAAAA=", ""])
    with pytest.raises(NoteError, match="bad signature"):
        open_checkpoint(forged, [old_v, new_v])


def test_sign_rejects_bad_input():
    key = _key(1)
    with pytest.raises(NoteError, match="newline"):
        sign_note("no newline", ORIGIN, key)
    with pytest.raises(NoteError, match="key name"):
        sign_note("body\n", "bad name", key)
    with pytest.raises(NoteError):
        checkpoint_body(ORIGIN, -1, ROOT)
    with pytest.raises(NoteError):
        checkpoint_body(ORIGIN, 1, ROOT, [""])
