"""RFC 9162 (RFC 6962) Merkle tree: hashing, an append-only frontier, proof generation and verification.

Hashes: a leaf is SHA-256(0x00 || data), an interior node SHA-256(0x01 || left || right), the empty tree
SHA-256(""). The tree over n leaves is RFC 9162 §2.1.1's MTH: split at the largest power of two k < n.

Storage model for proof generation: the log stores the root of every *perfect* subtree, addressed by
(level, index), covering leaves [index * 2**level, (index + 1) * 2**level); level 0 is the leaves. The
`Frontier.append` method returns exactly the perfect subtrees each append completes, so storing them as they
come keeps the store complete. Non-perfect subtrees (the right edge of a tree whose size is not a power of
two) are combined from perfect ones.

Proof generation is split into a plan (`inclusion_nodes`, `consistency_nodes`, `root_nodes`: the
(level, index) nodes needed, so a caller can fetch them in one query) and the assembly
(`inclusion_proof`, `consistency_proof`, `root_of`, `subtree_root`), which takes either a
`get_node(level, index)` callable or a mapping {(level, index): hash}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "GetNode",
    "NodeSource",
    "ProofError",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_nodes",
    "root_of",
    "roots_at",
    "subtree_nodes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256

GetNode = Callable[[int, int], bytes]
"""Returns the hash of the perfect subtree at (level, index), i.e. over leaves [index*2**level, (index+1)*2**level)."""

NodeSource = GetNode | Mapping[tuple[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify, or a proof was asked for sizes or indices that make no sense."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Root of consecutive perfect subtrees given largest first (the right-hand side folds first)."""
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = _sha256(b"\x01" + h + root).digest()
    return root


# --------------------------------------------------------------------------------------------------- frontier


class Frontier:
    """Compact range [0, size): the roots of the perfect subtrees that make up the tree, largest first."""

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hashes = [bytes(h) for h in hashes]
        if size < 0:
            raise ValueError(f"frontier size must be >= 0, got {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {size.bit_count()} hashes, got {len(hashes)}")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes")
        self._size = size
        self._hashes = hashes

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> Frontier:
        return Frontier(self._size, self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf (given by its leaf hash); return the perfect subtrees completed, as (level, index, hash).

        The first is always the leaf itself, (0, size_before, leaf_hash); appending the 4th leaf returns
        (0, 3, h), (1, 1, ...), (2, 0, ...).
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf_hash)}")
        index = self._size
        h = bytes(leaf_hash)
        completed = [(0, index, h)]
        level = 0
        hashes = self._hashes
        while index & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            index >>= 1
            level += 1
            completed.append((level, index, h))
        hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """RFC 9162 MTH of all the leaves appended so far (EMPTY_ROOT when there are none)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold(self._hashes)

    def to_json(self) -> dict[str, Any]:
        """{"size": int, "hashes": [hex, ...]} for a database row."""
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Frontier:
        try:
            size = data["size"]
            hashes = [bytes.fromhex(h) for h in data["hashes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a stored frontier: {exc}") from exc
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError("not a stored frontier: size is not an integer")
        return cls(size, hashes)


# ----------------------------------------------------------------------------------------- proof generation


def _largest_power_of_two_below(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_subtree(start: int, end: int) -> None:
    if start < 0 or end <= start:
        raise ProofError(f"subtree [{start}, {end}) is empty or negative")
    width = end - start
    alignment = 1 << (width - 1).bit_length()
    if start % alignment:
        raise ProofError(f"subtree [{start}, {end}) is not a subtree: {start} is not a multiple of {alignment}")


def _perfect(start: int, end: int) -> list[tuple[int, int]]:
    """Perfect subtrees making up [start, end) left to right, largest first (start suitably aligned)."""
    nodes = []
    width = end - start
    while width:
        level = width.bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
        width -= 1 << level
    return nodes


def subtree_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Return the perfect (level, index) nodes whose combination is MTH(D[start:end])."""
    _check_subtree(start, end)
    return _perfect(start, end)


def root_nodes(size: int) -> list[tuple[int, int]]:
    """Return the perfect (level, index) nodes whose combination is the root of the tree of `size` leaves."""
    if size < 0:
        raise ProofError(f"tree size {size} is negative")
    return _perfect(0, size)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Subtree ranges of RFC 9162 §2.1.3.1 PATH(index, D[0:size]), in proof order (bottom up)."""
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for tree size {size}")
    siblings = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start += k
    siblings.reverse()
    return siblings


def _consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """Subtree ranges of RFC 9162 §2.1.4.1 PROOF(m, D[0:n]), in proof order."""
    if not 0 < m <= n:
        raise ProofError(f"no consistency proof from size {m} to size {n} (need 0 < first <= second)")
    siblings: list[tuple[int, int]] = []
    start, end, b = 0, n, True
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            m -= k
            start += k
            b = False
    head = [] if b else [(start, end)]
    return head + siblings[::-1]


def _nodes_of(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: dict[tuple[int, int], None] = {}
    for start, end in ranges:
        for node in _perfect(start, end):
            seen[node] = None
    return list(seen)


def inclusion_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """Return the perfect (level, index) nodes `inclusion_proof(index, size, ...)` reads (fetch them in one query)."""
    return _nodes_of(_inclusion_ranges(index, size))


def consistency_nodes(m: int, n: int) -> list[tuple[int, int]]:
    """Return the perfect (level, index) nodes `consistency_proof(m, n, ...)` reads (fetch them in one query)."""
    return _nodes_of(_consistency_ranges(m, n))


def _getter(source: NodeSource) -> GetNode:
    if isinstance(source, Mapping):
        mapping = source

        def get(level: int, index: int) -> bytes:
            try:
                return mapping[level, index]
            except KeyError:
                raise ProofError(f"node (level {level}, index {index}) is not in the store") from None

        return get
    return source


def _range_hash(start: int, end: int, get: GetNode) -> bytes:
    return _fold([get(level, index) for level, index in _perfect(start, end)])


def subtree_root(start: int, end: int, get_node: NodeSource) -> bytes:
    """MTH(D[start:end]) from the stored perfect subtrees; start must be aligned as an RFC 9162 subtree."""
    _check_subtree(start, end)
    return _range_hash(start, end, _getter(get_node))


def root_of(size: int, get_node: NodeSource) -> bytes:
    """Root of the tree of `size` leaves from the stored perfect subtrees (EMPTY_ROOT for 0)."""
    if size < 0:
        raise ProofError(f"tree size {size} is negative")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, _getter(get_node))


def inclusion_proof(index: int, size: int, get_node: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
    get = _getter(get_node)
    return [_range_hash(start, end, get) for start, end in _inclusion_ranges(index, size)]


def consistency_proof(m: int, n: int, get_node: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) for 0 < m <= n (empty when m == n)."""
    get = _getter(get_node)
    return [_range_hash(start, end, get) for start, end in _consistency_ranges(m, n)]


# --------------------------------------------------------------------------------------------- verification


def _check_hash(what: str, h: bytes) -> None:
    if len(h) != HASH_SIZE:
        raise ProofError(f"{what} is {len(h)} bytes, a SHA-256 hash is {HASH_SIZE}")


def _inclusion_proof_size(index: int, size: int) -> int:
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: check that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`."""
    if index < 0 or size < 0:
        raise ProofError(f"negative index {index} or size {size}")
    if index >= size:
        raise ProofError(f"leaf index {index} is out of range for tree size {size}")
    _check_hash("the leaf hash", leaf_hash)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    want = _inclusion_proof_size(index, size)
    if len(proof) != want:
        raise ProofError(f"wrong inclusion proof length: {len(proof)} hashes, index {index} of {size} needs {want}")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # pragma: no cover - ruled out by the length check
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # pragma: no cover - ruled out by the length check
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError(
            f"root mismatch: leaf {index} of {size} with this proof gives root {r.hex()}, expected {root.hex()}"
        )


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: check that the tree (size2, root2) extends the tree (size1, root1).

    Conventions of the transparency-dev reference verifier: size1 == size2 needs an empty proof and equal
    roots; a proof from size 0 is meaningless and rejected (any tree extends the empty one: callers handle it).
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"negative tree size ({size1}, {size2})")
    if size2 < size1:
        raise ProofError(f"the second tree ({size2}) is smaller than the first ({size1})")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree (size 0) is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError(f"sizes are equal ({size1}) but the proof is not empty ({len(proof)} hashes)")
        if root1 != root2:
            raise ProofError(f"root mismatch: both trees have size {size1} but different roots")
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    _check_hash("the first root", root1)
    _check_hash("the second root", root2)

    # Expected length: the inclusion path of leaf size1-1 in size2, minus the levels under the first tree's
    # rightmost perfect subtree, plus a seed hash unless size1 is a power of two.
    shift = (size1 & -size1).bit_length() - 1
    inner = (((size1 - 1) ^ (size2 - 1)).bit_length()) - shift
    border = ((size1 - 1) >> (inner + shift)).bit_count()
    start = 0 if size1 == 1 << shift else 1
    want = start + inner + border
    if len(proof) != want:
        raise ProofError(f"wrong consistency proof length: {len(proof)} hashes, from {size1} to {size2} needs {want}")

    path = list(proof)
    if size1 == 1 << shift:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # pragma: no cover - ruled out by the length check
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # pragma: no cover - ruled out by the length check
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError(f"root mismatch: the proof gives {fr.hex()} for size {size1}, expected {root1.hex()}")
    if sr != root2:
        raise ProofError(f"root mismatch: the proof gives {sr.hex()} for size {size2}, expected {root2.hex()}")


# ------------------------------------------------------------------------------------------------ streaming


def roots_at(leaf_hashes: Iterable[bytes], sizes: Iterable[int]) -> Iterator[tuple[int, bytes]]:
    """Yield (size, root) for each requested size, in increasing order, reading the leaf hashes once.

    Sizes beyond the number of leaves are not yielded (the caller sees they are missing). Size 0 yields
    EMPTY_ROOT. Duplicate sizes are yielded once.
    """
    targets = sorted(set(sizes))
    if not targets:
        return
    if targets[0] < 0:
        raise ValueError(f"negative tree size {targets[0]}")
    t = 0
    if targets[0] == 0:
        yield 0, EMPTY_ROOT
        t = 1
    if t == len(targets):
        return
    want = targets[t]
    stack: list[bytes] = []
    push, pop = stack.append, stack.pop
    sha = _sha256
    for n, leaf in enumerate(leaf_hashes, start=1):
        h = leaf
        m = n - 1
        while m & 1:
            h = sha(b"\x01" + pop() + h).digest()
            m >>= 1
        push(h)
        if n == want:
            yield n, _fold(stack)
            t += 1
            if t == len(targets):
                return
            want = targets[t]
