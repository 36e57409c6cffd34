"""Concurrent writers on PostgreSQL build one consistent tree: no gap, no fork, every stored node right."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from licita.ledger import merkle, note, selectors, services
from licita.ledger.models import Checkpoint, Head, Leaf, LeafKind, Node
from licita.ledger.services import checkpoint_sign, checkpoint_tick, ledger_append

THREADS = 8
APPENDS = 25  # per thread
ROLLBACK_ONE_IN = 4


class _RolledBack(Exception):
    """Raised inside a writer's transaction to undo its append on purpose."""


def _act(number: int, n: int, *, pause: float, undo: bool) -> Leaf:
    """One act in its own transaction: append, do the rest of the act (the head still locked), maybe fail."""
    with transaction.atomic():
        leaf = ledger_append(kind=LeafKind.OUTAGE, entry={"writer": number, "n": n}, ref=f"{number}:{n}")
        time.sleep(pause)
        if undo:
            raise _RolledBack
    return leaf


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appends_and_rollbacks_build_one_consistent_tree():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: the in-memory SQLite test database has one writer at a time")
    errors: list[BaseException] = []
    committed: dict[tuple[int, int], int] = {}  # (writer, n) -> the index ledger_append gave it
    rolled_back: list[tuple[int, int]] = []
    signed: list[int] = []
    start = threading.Barrier(THREADS + 1)  # the writers and the signer set off together
    writing = threading.Event()
    lock = threading.Lock()

    def writer(number: int) -> None:
        rng = random.Random(number)
        try:
            start.wait(timeout=60)
            for n in range(APPENDS):
                try:
                    leaf = _act(number, n, pause=rng.uniform(0, 0.002), undo=rng.randrange(ROLLBACK_ONE_IN) == 0)
                except _RolledBack:
                    with lock:
                        rolled_back.append((number, n))
                else:
                    with lock:
                        committed[number, n] = leaf.index
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def signer() -> None:
        """The worker's checkpoint tick, running while the writers commit."""
        try:
            start.wait(timeout=60)
            while writing.is_set():
                checkpoint = checkpoint_tick()
                if checkpoint is not None:
                    signed.append(checkpoint.size)
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writing.set()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    ticker = threading.Thread(target=signer)
    for thread in [*threads, ticker]:
        thread.start()
    for thread in threads:
        thread.join()
    writing.clear()
    ticker.join()

    assert errors == []
    k = len(committed)
    assert rolled_back  # some appends were undone on purpose...
    assert k + len(rolled_back) == THREADS * APPENDS
    assert k > 0

    # ...and left no trace: indexes 0..k-1, each committed append once, nothing of the rolled-back ones.
    leaves = list(Leaf.objects.order_by("index"))
    assert [leaf.index for leaf in leaves] == list(range(k))
    entries = [json.loads(leaf.data) for leaf in leaves]
    assert {(e["writer"], e["n"]): e["index"] for e in entries} == committed
    assert all(e["index"] == leaf.index for e, leaf in zip(entries, leaves, strict=True))
    # Each writer's own appends are in its order (the head lock serialises them).
    for number in range(THREADS):
        mine = [e["n"] for e in entries if e["writer"] == number]
        assert mine == sorted(mine)

    # One tree: the root from the leaves is the head's, and every stored node is the recomputed one.
    hashes = [merkle.leaf_hash(leaf.data.encode("utf-8")) for leaf in leaves]
    assert [bytes.fromhex(leaf.hash) for leaf in leaves] == hashes
    ((_, root),) = merkle.roots_at(iter(hashes), [k])
    head = Head.objects.get(pk=1)
    assert head.size == k
    assert merkle.Frontier.from_json({"size": head.size, "hashes": head.frontier}).root() == root
    assert _stored_nodes() == _perfect_subtrees(hashes)

    # A checkpoint signed now verifies; so does every one the ticker signed meanwhile, against the final tree.
    latest = checkpoint_sign()
    assert latest is not None
    verifiers = [note.parse_verifier_key(services.verifier_key())]
    opened = note.open_checkpoint(latest.note, verifiers, origin=settings.LICITA_LEDGER_ORIGIN)
    assert (opened.size, opened.root) == (k, root)
    sizes = list(Checkpoint.objects.values_list("size", flat=True))
    assert set(signed) <= set(sizes)
    roots = dict(merkle.roots_at(iter(hashes), sizes))
    for row in Checkpoint.objects.all():
        checkpoint = note.open_checkpoint(row.note, verifiers, origin=settings.LICITA_LEDGER_ORIGIN)
        assert checkpoint.root == roots[row.size]
        if row.size < k:
            proof = selectors.consistency(first=row.size, second=k)
            merkle.verify_consistency(row.size, k, checkpoint.root, root, proof["proof"])


def _stored_nodes() -> set[tuple[int, int, bytes]]:
    return {(level, index, bytes(h)) for level, index, h in Node.objects.values_list("level", "index", "hash")}


def _perfect_subtrees(hashes: list[bytes]) -> set[tuple[int, int, bytes]]:
    nodes = {(0, i, h) for i, h in enumerate(hashes)}
    level, row = 0, hashes
    while len(row) > 1:
        row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
        nodes |= {(level, i, h) for i, h in enumerate(row)}
    return nodes
