"""Append to the public ledger inside the act's transaction, and sign checkpoints of it.

Every append locks the one `Head` row until the act commits, so concurrent writers (PostgreSQL) take
their turns: each leaf gets the next index, the perfect subtrees it completes are stored, and the head's
compact range moves on. A leaf is therefore committed, or rolled back, with the act that wrote it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from licita.bidding import crypto
from licita.core import clock
from licita.ledger import merkle, note
from licita.ledger.canonical import canonical_json, release_digest
from licita.ledger.models import Checkpoint, Head, Leaf, LeafKind, Node

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

LEDGER_KEY_FILENAME = "ledger-ed25519.key"


def ledger_key() -> Ed25519PrivateKey:
    """Return the ledger's Ed25519 signing key (LICITA_LEDGER_KEY, else a key file made on first use)."""
    return crypto.signing_key_load(
        seed_b64=settings.LICITA_LEDGER_KEY, keys_dir=settings.LICITA_KEYS_DIR, filename=LEDGER_KEY_FILENAME
    )


@functools.cache
def _verifier_key(origin: str, public: bytes) -> str:
    return note.verifier_key(origin, public)


def verifier_key() -> str:
    """Return the current key's verifier key (`<origin>+<key id>+<base64 key>`), as verifiers are given it."""
    return _verifier_key(settings.LICITA_LEDGER_ORIGIN, ledger_key().public_key().public_bytes_raw())


def verifier_keys() -> list[str]:
    """Return the current verifier key, then those of earlier keys still published (see docs/ledger.md)."""
    return [verifier_key(), *settings.LICITA_LEDGER_PREVIOUS_KEYS]


def _head() -> Head:
    """Return the head row, locked until the transaction ends (created on first use)."""
    head = Head.objects.select_for_update().filter(pk=1).first()
    if head is None:
        Head.objects.get_or_create(pk=1, defaults={"size": 0, "frontier": []})
        head = Head.objects.select_for_update().get(pk=1)
    return head


def _head_state(connection: Any) -> tuple[int, list[str]]:
    """Return the head's size and compact range, its row locked until the transaction ends (one round trip)."""
    table = connection.ops.quote_name(Head._meta.db_table)  # noqa: SLF001 - Django's public model API
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT size, frontier FROM {table} WHERE id = 1{lock}")  # noqa: S608 (names, not data)
        row = cursor.fetchone()
    if row is None:
        head = _head()  # first append ever: create the row, or wait for the writer that did
        return head.size, head.frontier
    size, frontier = row
    return size, json.loads(frontier) if isinstance(frontier, str) else frontier


def _append_rows(
    connection: Any, *, leaf: dict[str, Any], nodes: list[tuple[int, int, bytes]], head: dict[str, Any]
) -> int:
    """Insert the leaf and the completed nodes and move the head on; return the leaf's primary key.

    PostgreSQL: one statement (data-modifying CTEs), so one round trip however many nodes; others: three.
    """
    qn = connection.ops.quote_name
    leaf_table, node_table, head_table = (qn(m._meta.db_table) for m in (Leaf, Node, Head))  # noqa: SLF001
    columns = ", ".join(qn(c) for c in leaf)
    frontier = json.dumps(head["hashes"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH new_leaf AS (INSERT INTO {leaf_table} ({columns}) VALUES ({', '.join(['%s'] * len(leaf))})"  # noqa: S608
                " RETURNING id),"
                f" new_nodes AS (INSERT INTO {node_table} (level, {qn('index')}, hash)"
                " SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])),"
                f" new_head AS (UPDATE {head_table} SET size = %s, frontier = %s::jsonb WHERE id = 1)"
                " SELECT id FROM new_leaf",
                [
                    *leaf.values(),
                    [n[0] for n in nodes],
                    [n[1] for n in nodes],
                    [n[2] for n in nodes],
                    head["size"],
                    frontier,
                ],
            )
            return int(cursor.fetchone()[0])
        cursor.execute(
            f"INSERT INTO {leaf_table} ({columns}) VALUES ({', '.join(['%s'] * len(leaf))})",  # noqa: S608
            list(leaf.values()),
        )
        pk = cursor.lastrowid
        cursor.executemany(f"INSERT INTO {node_table} (level, {qn('index')}, hash) VALUES (%s, %s, %s)", nodes)  # noqa: S608
        cursor.execute(f"UPDATE {head_table} SET size = %s, frontier = %s WHERE id = 1", [head["size"], frontier])  # noqa: S608
        return int(pk)


def ledger_append(*, kind: str, entry: dict[str, Any], ocid: str = "", ref: str = "") -> Leaf:
    """Append one leaf (call inside the act's transaction); `entry` gets `index`, `kind` and `logged_at` added.

    The leaf's data is canonical JSON of the entry, so anyone can recompute its hash from what is published.
    Two round trips to the database: the head row's lock (read), then one write of the leaf, the perfect
    subtrees it completes and the head (`_append_rows`); the rows are the same the models would write.
    """
    if kind not in LeafKind.values:
        msg = f"unknown ledger leaf kind {kind!r}"
        raise ValueError(msg)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        msg = "ledger_append must run inside the act's transaction"
        raise RuntimeError(msg)
    size, hashes = _head_state(connection)
    now = clock.now()
    data = canonical_json({**entry, "index": size, "kind": kind, "logged_at": now.astimezone(dt.UTC).isoformat()})
    digest = merkle.leaf_hash(data)
    frontier = merkle.Frontier.from_json({"size": size, "hashes": hashes})
    completed = frontier.append(digest)
    text = data.decode("utf-8")
    fields = {"index": size, "kind": kind, "data": text, "hash": digest.hex(), "ocid": ocid, "ref": ref[:140]}
    row = {**fields, "created_at": connection.ops.adapt_datetimefield_value(now)}
    pk = _append_rows(connection, leaf=row, nodes=completed, head=frontier.to_json())
    values = {"id": pk, **fields, "created_at": now}
    return Leaf.from_db(connection.alias, list(values), list(values.values()))


def release_logged(*, release_data: dict[str, Any]) -> Leaf:
    """Append the leaf of a published OCDS release: its ocid, id, date and canonical SHA-256."""
    return ledger_append(
        kind=LeafKind.RELEASE,
        entry={
            "ocid": release_data["ocid"],
            "release_id": release_data["id"],
            "date": release_data.get("date", ""),
            "sha256": release_digest(release_data),
        },
        ocid=release_data["ocid"],
        ref=release_data["id"],
    )


def receipt_digest(payload: dict[str, Any]) -> str:
    """Return the hex SHA-256 of a bid receipt's payload without its ledger fields (what its leaf holds)."""
    core = {key: value for key, value in payload.items() if key != "ledger_index"}
    return hashlib.sha256(canonical_json(core)).hexdigest()


def checkpoint_sign(*, at_least: int = 1) -> Checkpoint | None:
    """Sign a checkpoint of the log as it is now, unless one exists at this size; None if the log is smaller.

    Inside a transaction that appended leaves, the checkpoint covers them (and is rolled back with them).
    """
    with transaction.atomic():
        head = _head()
        if head.size < at_least:
            return None
        existing = Checkpoint.objects.filter(size=head.size).first()
        if existing is not None:
            return existing
        frontier = merkle.Frontier.from_json({"size": head.size, "hashes": head.frontier})
        root = frontier.root()
        body = note.checkpoint_body(settings.LICITA_LEDGER_ORIGIN, head.size, root)
        signed = note.sign_note(body, settings.LICITA_LEDGER_ORIGIN, ledger_key())
        return Checkpoint.objects.create(size=head.size, root=root.hex(), note=signed)


def checkpoint_tick() -> Checkpoint | None:
    """Sign a checkpoint if the log grew since the last one (the worker calls this at least every minute)."""
    last = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0
    size = Head.objects.filter(pk=1).values_list("size", flat=True).first() or 0
    if size <= last:
        return None
    return checkpoint_sign()


def b64(data: bytes) -> str:
    """Return standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")
