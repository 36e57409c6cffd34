import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from shamir_mnemonic.wordlist import WORDLIST

from licita.bidding import crypto
from licita.bidding.crypto import SealError, ShareError
from licita.core.errors import LicitaError, ValidationError

VERIFY_TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_receipt.py"
BID_CONTEXT = b"LP-2025-001|ABC010101AB1"


@pytest.fixture
def opening_keys():
    return crypto.opening_keypair_generate()


@pytest.fixture
def split():
    secret, _public = crypto.opening_keypair_generate()
    return secret, crypto.key_split(secret=secret, threshold=3, shares=5)


@pytest.fixture
def signing_key():
    return Ed25519PrivateKey.generate()


def _receipt(key):
    payload = {"procedure": "LP-2025-001", "supplier": "ABC010101AB1", "bid_sha256": "ab" * 32, "note": "añadido"}
    return crypto.receipt_sign(key=key, payload=payload)


def _run_tool(*args):
    return subprocess.run(
        [sys.executable, str(VERIFY_TOOL), *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )


# --- HPKE sealing -----------------------------------------------------------------------------------------------


def test_opening_keypair_generate_returns_raw_32_byte_keys(opening_keys):
    private, public = opening_keys
    assert len(private) == 32
    assert len(public) == 32


def test_bid_seal_round_trips_with_same_context(opening_keys):
    private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"precio: 1,000.00 MXN", context=BID_CONTEXT)
    assert crypto.bid_unseal(private_key=private, sealed=sealed, context=BID_CONTEXT) == b"precio: 1,000.00 MXN"


def test_bid_seal_output_is_versioned_blob(opening_keys):
    _private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"x" * 10, context=BID_CONTEXT)
    assert sealed[0] == crypto.SEAL_VERSION
    assert len(sealed) == 1 + 32 + 10 + 16


def test_bid_unseal_fails_with_other_supplier_context(opening_keys):
    private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT)
    with pytest.raises(SealError) as excinfo:
        crypto.bid_unseal(private_key=private, sealed=sealed, context=b"LP-2025-001|XYZ010101AB1")
    assert excinfo.value.code == "seal_invalid"
    assert excinfo.value.status == 422
    assert isinstance(excinfo.value, LicitaError)


def test_bid_unseal_fails_when_ciphertext_tampered(opening_keys):
    private, public = opening_keys
    sealed = bytearray(crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT))
    sealed[-5] ^= 0x01
    with pytest.raises(SealError):
        crypto.bid_unseal(private_key=private, sealed=bytes(sealed), context=BID_CONTEXT)


def test_bid_unseal_fails_with_wrong_private_key(opening_keys):
    _private, public = opening_keys
    other_private, _other_public = crypto.opening_keypair_generate()
    sealed = crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT)
    with pytest.raises(SealError):
        crypto.bid_unseal(private_key=other_private, sealed=sealed, context=BID_CONTEXT)


def test_bid_unseal_fails_when_blob_truncated(opening_keys):
    private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT)
    with pytest.raises(SealError) as excinfo:
        crypto.bid_unseal(private_key=private, sealed=sealed[:20], context=BID_CONTEXT)
    assert excinfo.value.detail["reason"] == "format"


def test_bid_unseal_fails_with_unknown_version(opening_keys):
    private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT)
    with pytest.raises(SealError):
        crypto.bid_unseal(private_key=private, sealed=b"\x02" + sealed[1:], context=BID_CONTEXT)


def test_share_seal_round_trips_with_custodian_key(split):
    _secret, mnemonics = split
    custodian_private, custodian_public = crypto.opening_keypair_generate()
    sealed = crypto.share_seal(custodian_public_key=custodian_public, share=mnemonics[0], context=b"LP-2025-001|c1")
    opened = crypto.share_unseal(custodian_private_key=custodian_private, sealed=sealed, context=b"LP-2025-001|c1")
    assert opened == mnemonics[0]


def test_share_unseal_fails_with_other_custodian_context(split):
    _secret, mnemonics = split
    custodian_private, custodian_public = crypto.opening_keypair_generate()
    sealed = crypto.share_seal(custodian_public_key=custodian_public, share=mnemonics[0], context=b"LP-2025-001|c1")
    with pytest.raises(SealError):
        crypto.share_unseal(custodian_private_key=custodian_private, sealed=sealed, context=b"LP-2025-001|c2")


def test_bid_unseal_fails_on_share_blob_with_same_context(opening_keys):
    private, public = opening_keys
    sealed = crypto.share_seal(custodian_public_key=public, share="word", context=BID_CONTEXT)
    with pytest.raises(SealError):
        crypto.bid_unseal(private_key=private, sealed=sealed, context=BID_CONTEXT)


# --- SLIP-39 shares ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chosen", [(0, 1, 2), (0, 2, 4), (1, 3, 4), (4, 3, 2), (2, 3, 4)])
def test_key_combine_recovers_secret_from_any_three_of_five(split, chosen):
    secret, mnemonics = split
    assert crypto.key_combine(mnemonics=[mnemonics[i] for i in chosen]) == secret


def test_key_combine_recovers_secret_from_all_five(split):
    secret, mnemonics = split
    assert crypto.key_combine(mnemonics=mnemonics) == secret


def test_key_combine_raises_insufficient_with_two_shares(split):
    _secret, mnemonics = split
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=mnemonics[:2])
    assert excinfo.value.code == "shares_insufficient"
    assert excinfo.value.detail == {"needed": 3, "given": 2}
    assert "3" in str(excinfo.value.message)
    assert "2" in str(excinfo.value.message)


def test_key_combine_counts_repeated_share_once(split):
    _secret, mnemonics = split
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=[mnemonics[0], mnemonics[1], mnemonics[0]])
    assert excinfo.value.code == "shares_insufficient"
    assert excinfo.value.detail == {"needed": 3, "given": 2}


def test_key_combine_raises_insufficient_when_empty():
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=[])
    assert excinfo.value.code == "shares_insufficient"


def test_key_combine_raises_share_invalid_on_corrupted_word(split):
    _secret, mnemonics = split
    words = mnemonics[1].split()
    words[10] = next(w for w in WORDLIST if w != words[10])
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=[mnemonics[0], " ".join(words), mnemonics[2]])
    assert excinfo.value.code == "share_invalid"
    assert excinfo.value.detail == {"position": 2}


def test_key_combine_raises_share_invalid_on_unknown_word(split):
    _secret, mnemonics = split
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=[mnemonics[0], mnemonics[1], mnemonics[2] + " notaword"])
    assert excinfo.value.code == "share_invalid"
    assert "notaword" not in str(excinfo.value.message)


def test_key_combine_raises_share_invalid_on_shares_from_two_splits(split):
    secret, mnemonics = split
    other = crypto.key_split(secret=secret, threshold=3, shares=5)
    with pytest.raises(ShareError) as excinfo:
        crypto.key_combine(mnemonics=[mnemonics[0], mnemonics[1], other[2]])
    assert excinfo.value.code == "share_invalid"


def test_key_split_allows_one_of_one():
    secret, _public = crypto.opening_keypair_generate()
    mnemonics = crypto.key_split(secret=secret, threshold=1, shares=1)
    assert crypto.key_combine(mnemonics=mnemonics) == secret


@pytest.mark.parametrize(("threshold", "shares"), [(1, 3), (0, 3), (4, 3), (2, 17)])
def test_key_split_rejects_invalid_threshold_or_count(threshold, shares):
    with pytest.raises(ValidationError):
        crypto.key_split(secret=bytes(32), threshold=threshold, shares=shares)


# --- Signing key and receipts -----------------------------------------------------------------------------------


def test_signing_key_load_creates_key_file_with_mode_0600(tmp_path):
    keys_dir = tmp_path / "keys"
    crypto.signing_key_load(seed_b64="", keys_dir=keys_dir)
    key_file = keys_dir / crypto.SIGNING_KEY_FILENAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in keys_dir.iterdir()] == [crypto.SIGNING_KEY_FILENAME]


def test_signing_key_load_returns_same_key_on_second_load(tmp_path):
    first = crypto.signing_key_load(seed_b64="", keys_dir=tmp_path)
    crypto._signing_key_cached.cache_clear()
    second = crypto.signing_key_load(seed_b64="", keys_dir=tmp_path)
    assert crypto.public_key_b64(first) == crypto.public_key_b64(second)


def test_signing_key_load_uses_seed_without_touching_dir(tmp_path):
    seed_b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    key = crypto.signing_key_load(seed_b64=seed_b64, keys_dir=tmp_path)
    assert key.private_bytes_raw() == bytes(range(32))
    assert not list(tmp_path.iterdir())


def test_signing_key_load_rejects_short_seed(tmp_path):
    with pytest.raises(ValueError, match="32-byte seed"):
        crypto.signing_key_load(seed_b64="AAEC", keys_dir=tmp_path)


def test_canonical_json_sorts_keys_without_spaces_keeping_utf8():
    assert crypto.canonical_json({"b": "ñ", "a": "1"}) == '{"a":"1","b":"ñ"}'.encode()


def test_sha256_hex_matches_known_digest():
    assert crypto.sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_receipt_verify_accepts_untouched_receipt(signing_key):
    receipt = _receipt(signing_key)
    assert receipt["algorithm"] == "Ed25519"
    assert crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key))


def test_receipt_verify_rejects_changed_payload_field(signing_key):
    receipt = _receipt(signing_key)
    receipt["payload"]["bid_sha256"] = "cd" * 32
    assert not crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key))


def test_receipt_verify_rejects_changed_signature(signing_key):
    receipt = _receipt(signing_key)
    signature = receipt["signature"]
    receipt["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert not crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key))


def test_receipt_verify_rejects_other_public_key(signing_key):
    receipt = _receipt(signing_key)
    other = crypto.public_key_b64(Ed25519PrivateKey.generate())
    assert not crypto.receipt_verify(receipt=receipt, public_key_b64=other)


def test_receipt_verify_rejects_receipt_signed_by_other_key(signing_key):
    receipt = _receipt(Ed25519PrivateKey.generate())
    assert not crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key))


@pytest.mark.parametrize(
    "receipt",
    [None, "text", [], {}, {"payload": "x", "signature": 1, "algorithm": "Ed25519", "public_key": None}],
)
def test_receipt_verify_returns_false_on_bad_input_types(signing_key, receipt):
    assert crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key)) is False


def test_receipt_verify_returns_false_on_non_string_payload_value(signing_key):
    receipt = _receipt(signing_key)
    receipt["payload"]["amount"] = 1.5
    assert crypto.receipt_verify(receipt=receipt, public_key_b64=crypto.public_key_b64(signing_key)) is False


# --- Offline verifier -------------------------------------------------------------------------------------------


def test_verify_tool_says_ok_on_real_receipt(tmp_path, signing_key):
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(_receipt(signing_key), ensure_ascii=False, indent=2), encoding="utf-8")
    result = _run_tool(receipt_file, "--public-key", crypto.public_key_b64(signing_key))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK:")


def test_verify_tool_says_invalid_on_tampered_receipt(tmp_path, signing_key):
    receipt = _receipt(signing_key)
    receipt["payload"]["supplier"] = "XYZ010101AB1"
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(receipt), encoding="utf-8")
    result = _run_tool(receipt_file, "--public-key", crypto.public_key_b64(signing_key))
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID:")


def test_verify_tool_checks_sealed_bid_hash(tmp_path, signing_key, opening_keys):
    _private, public = opening_keys
    sealed = crypto.bid_seal(public_key=public, plaintext=b"bid", context=BID_CONTEXT)
    (tmp_path / "bid.bin").write_bytes(sealed)
    receipt = crypto.receipt_sign(key=signing_key, payload={"bid_sha256": crypto.sha256_hex(sealed)})
    (tmp_path / "receipt.json").write_text(json.dumps(receipt), encoding="utf-8")
    result = _run_tool(
        tmp_path / "receipt.json",
        "--public-key",
        crypto.public_key_b64(signing_key),
        "--sealed-bid",
        tmp_path / "bid.bin",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_tool_says_invalid_on_other_sealed_bid(tmp_path, signing_key):
    (tmp_path / "bid.bin").write_bytes(b"another bid")
    receipt = crypto.receipt_sign(key=signing_key, payload={"bid_sha256": crypto.sha256_hex(b"the bid")})
    (tmp_path / "receipt.json").write_text(json.dumps(receipt), encoding="utf-8")
    result = _run_tool(
        tmp_path / "receipt.json",
        "--public-key",
        crypto.public_key_b64(signing_key),
        "--sealed-bid",
        tmp_path / "bid.bin",
    )
    assert result.returncode == 1
    assert "sha256" in result.stdout
