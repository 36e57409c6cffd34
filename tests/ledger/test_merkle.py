"""RFC 9162 Merkle tree: the transparency-dev vectors, the reference roots, and generated proofs for sizes 1..70."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from licita.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_nodes,
    root_of,
    roots_at,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

SHARED = Path(os.environ.get("LICITA_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
VECTORS = SHARED / "ct-vectors"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"


def _vector_files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json"))


def _require_vectors() -> None:
    if not TESTDATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the CT test vectors are missing at {TESTDATA}; CI must have ../shared")
        pytest.skip(f"CT test vectors not present at {TESTDATA} (set LICITA_SHARED_DIR)")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(TESTDATA)) for p in paths]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


INCLUSION = _vector_files("inclusion")
CONSISTENCY = _vector_files("consistency")


def test_vectors_are_all_there():
    _require_vectors()
    # 196 probes: 12 that verify and 184 that must fail (PROVENANCE.md).
    assert len(INCLUSION) + len(CONSISTENCY) == 196


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path):
    _require_vectors()
    probe = json.loads(path.read_text())
    args = (
        probe["leafIdx"],
        probe["treeSize"],
        _b64(probe["leafHash"]),
        [_b64(p) for p in probe["proof"] or []],
        _b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path):
    _require_vectors()
    probe = json.loads(path.read_text())
    args = (
        probe["size1"],
        probe["size2"],
        _b64(probe["root1"]),
        _b64(probe["root2"]),
        [_b64(p) for p in probe["proof"] or []],
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_reference_8_leaves():
    _require_vectors()
    ref = json.loads((VECTORS / "reference-8-leaves.json").read_text())
    leaves = [bytes.fromhex(x) for x in ref["leaf_inputs_hex"]]
    hashes = [leaf_hash(d) for d in leaves]
    assert [h.hex() for h in hashes] == ref["leaf_hashes_hex"]
    roots = [bytes.fromhex(x) for x in ref["root_hashes_by_tree_size_hex"]]
    frontier = Frontier()
    store: dict[tuple[int, int], bytes] = {}
    assert frontier.root() == roots[0] == EMPTY_ROOT
    for size, h in enumerate(hashes, start=1):
        for level, index, node in frontier.append(h):
            store[level, index] = node
        assert frontier.root() == roots[size]
        assert root_of(size, store) == roots[size]
    assert [r for _, r in roots_at(hashes, range(9))] == roots
    for vector in ref["hasher_vectors"]:
        want = bytes.fromhex(vector["want"])
        if "leaf_utf8" in vector:
            assert leaf_hash(vector["leaf_utf8"].encode()) == want
        elif "left_utf8" in vector:
            assert node_hash(vector["left_utf8"].encode(), vector["right_utf8"].encode()) == want
        else:
            assert want == EMPTY_ROOT


# ------------------------------------------------------------------------------------ generated proofs, 1..70


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written naively and recursively."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


N = 70
LEAVES = [leaf_hash(f"leaf {i}".encode()) for i in range(N)]
ROOTS = [_mth(LEAVES[:n]) for n in range(N + 1)]


@pytest.fixture(scope="module")
def store():
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    for n, h in enumerate(LEAVES, start=1):
        for level, index, node in frontier.append(h):
            assert (level, index) not in nodes
            assert index * 2**level + 2**level == n  # the subtree completed ends at the new leaf
            nodes[level, index] = node
        assert frontier.size == n
        assert frontier.root() == ROOTS[n]
    return nodes


def test_frontier_root_matches_naive_mth_and_round_trips():
    frontier = Frontier()
    for n, h in enumerate(LEAVES, start=1):
        frontier.append(h)
        assert frontier.root() == ROOTS[n]
        assert len(frontier.hashes) == n.bit_count()
        again = Frontier.from_json(json.loads(json.dumps(frontier.to_json())))
        assert again == frontier
        assert again.root() == ROOTS[n]


def test_frontier_append_reports_completed_subtrees():
    frontier = Frontier()
    for h in LEAVES[:3]:
        frontier.append(h)
    completed = frontier.append(LEAVES[3])
    assert [(level, index) for level, index, _ in completed] == [(0, 3), (1, 1), (2, 0)]
    assert completed[0][2] == LEAVES[3]
    assert completed[1][2] == node_hash(LEAVES[2], LEAVES[3])
    assert completed[2][2] == ROOTS[4]
    assert [(lv, ix) for lv, ix, _ in frontier.append(LEAVES[4])] == [(0, 4)]


def test_frontier_rejects_inconsistent_state():
    with pytest.raises(ValueError):
        Frontier(3, [EMPTY_ROOT])
    with pytest.raises(ValueError):
        Frontier.from_json({"size": 1, "hashes": ["zz"]})


def test_all_generated_inclusion_proofs_verify(store):
    for size in range(1, N + 1):
        for index in range(size):
            needed = inclusion_nodes(index, size)
            fetched = {node: store[node] for node in needed}  # what one query would return
            proof = inclusion_proof(index, size, fetched)
            assert proof == inclusion_proof(index, size, lambda lv, ix: store[lv, ix])
            verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
            if proof:
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, LEAVES[index], proof[:-1], ROOTS[size])
            wrong = LEAVES[(index + 1) % N]
            with pytest.raises(ProofError):
                verify_inclusion(index, size, wrong, proof, ROOTS[size])


def test_all_generated_consistency_proofs_verify(store):
    for n in range(1, N + 1):
        for m in range(1, n + 1):
            fetched = {node: store[node] for node in consistency_nodes(m, n)}
            proof = consistency_proof(m, n, fetched)
            verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)
            if m < n:
                with pytest.raises(ProofError):
                    verify_consistency(m, n, ROOTS[m - 1] if m > 1 else LEAVES[1], ROOTS[n], proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, ROOTS[m], ROOTS[n - 1], proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, ROOTS[m], ROOTS[n], [*proof, proof[0]])


def test_proofs_match_rfc_examples(store):
    # RFC 9162 §2.1.5: the tree of 7 leaves a..g (here leaves 0..6).
    h = LEAVES
    ab, cd, ef = node_hash(h[0], h[1]), node_hash(h[2], h[3]), node_hash(h[4], h[5])
    abcd = node_hash(ab, cd)
    assert inclusion_proof(0, 7, store) == [h[1], cd, _mth(h[4:7])]
    assert inclusion_proof(3, 7, store) == [h[2], ab, _mth(h[4:7])]
    assert inclusion_proof(4, 7, store) == [h[5], h[6], abcd]
    assert inclusion_proof(6, 7, store) == [ef, abcd]
    assert consistency_proof(3, 7, store) == [h[2], h[3], ab, _mth(h[4:7])]
    assert consistency_proof(4, 7, store) == [_mth(h[4:7])]
    assert consistency_proof(6, 7, store) == [ef, h[6], abcd]


def test_root_and_subtree_from_store(store):
    for size in range(N + 1):
        assert root_of(size, store) == ROOTS[size]
        assert all(store.get(node) for node in root_nodes(size))
    assert subtree_root(64, 70, store) == _mth(LEAVES[64:70])
    assert subtree_root(8, 16, store) == _mth(LEAVES[8:16])
    assert subtree_root(32, 37, store) == _mth(LEAVES[32:37])
    with pytest.raises(ProofError, match="not a subtree"):
        subtree_root(4, 9, store)
    with pytest.raises(ProofError, match="not in the store"):
        root_of(71, store)


def test_generation_rejects_bad_arguments(store):
    with pytest.raises(ProofError, match="out of range"):
        inclusion_proof(5, 5, store)
    with pytest.raises(ProofError):
        consistency_proof(0, 5, store)
    with pytest.raises(ProofError):
        consistency_proof(6, 5, store)
    assert consistency_proof(5, 5, store) == []


def test_verification_messages():
    with pytest.raises(ProofError, match="out of range"):
        verify_inclusion(3, 3, LEAVES[0], [], ROOTS[3])
    with pytest.raises(ProofError, match="wrong inclusion proof length"):
        verify_inclusion(0, 3, LEAVES[0], [], ROOTS[3])
    with pytest.raises(ProofError, match="root mismatch"):
        verify_inclusion(0, 1, LEAVES[0], [], ROOTS[2])
    with pytest.raises(ProofError, match="smaller"):
        verify_consistency(3, 2, ROOTS[3], ROOTS[2], [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 3, EMPTY_ROOT, ROOTS[3], [])
    with pytest.raises(ProofError, match="proof is not empty"):
        verify_consistency(3, 3, ROOTS[3], ROOTS[3], [LEAVES[0]])
    verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])


def test_roots_at_streams_requested_sizes_only():
    got = list(roots_at(iter(LEAVES), [70, 0, 5, 5, 100, 1]))
    assert got == [(0, EMPTY_ROOT), (1, ROOTS[1]), (5, ROOTS[5]), (70, ROOTS[70])]
    assert list(roots_at(iter(LEAVES), [])) == []
