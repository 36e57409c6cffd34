"""Read the public ledger: leaves, checkpoints and RFC 9162 proofs, computed from the stored subtrees."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from licita.core.errors import NotFound, ValidationError
from licita.ledger import merkle
from licita.ledger.models import Checkpoint, Head, Leaf, Node

PAGE_MAX = 1000


class InvalidParameter(ValidationError):
    """Raised when a ledger query is malformed or out of range: a bad request (400) naming the field."""

    status = 400


def size() -> int:
    """Return the number of leaves committed."""
    return int(Head.objects.filter(pk=1).values_list("size", flat=True).first() or 0)


def _node_getter(positions: Iterable[tuple[int, int]]) -> merkle.GetNode:
    """Fetch the given perfect subtrees in one query and return a getter over them."""
    wanted = list(dict.fromkeys(positions))
    found: dict[tuple[int, int], bytes] = {}
    if wanted:
        # Plain SQL: building the same query from ~40 Q objects cost the ORM ~9 ms of CPU per proof, over the
        # 10 ms target (docs/benchmarks.md, bench/ledger.py); the database answers in well under 1 ms.
        quote = connection.ops.quote_name
        table, level_col, index_col = quote(Node._meta.db_table), quote("level"), quote("index")  # noqa: SLF001
        if connection.vendor == "postgresql":  # one index probe per position
            where = f"({level_col}, {index_col}) IN (VALUES {', '.join(['(%s, %s)'] * len(wanted))})"
        else:  # SQLite would scan the whole index for IN (VALUES ...); it probes it for each OR term
            where = " OR ".join([f"({level_col} = %s AND {index_col} = %s)"] * len(wanted))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {level_col}, {index_col}, hash FROM {table} WHERE {where}",  # noqa: S608 - no user text
                [value for position in wanted for value in position],
            )
            found = {(level, index): bytes(h) for level, index, h in cursor.fetchall()}

    def get(level: int, index: int) -> bytes:
        try:
            return found[level, index]
        except KeyError:
            msg = f"ledger node {level}/{index} is missing"
            raise NotFound(msg) from None

    return get


def _int(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameter(
            _("%(field)s must be a whole number of at least %(min)s") % {"field": field, "min": minimum},
            field=field,
            rule="integer",
        )
    return value


def _tree_size(value: int | None, field: str) -> int:
    current = size()
    if value is None:
        return current
    _int(value, field, 0)
    if value > current:
        raise InvalidParameter(
            _("%(field)s is %(value)s but the log has only %(size)s leaves")
            % {"field": field, "value": value, "size": current},
            field=field,
            rule="tree_size",
        )
    return value


def root(tree_size: int) -> bytes:
    """Return the root of the first `tree_size` leaves."""
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_of(tree_size, _node_getter(merkle.root_nodes(tree_size)))


def inclusion(*, index: int, tree_size: int | None = None) -> dict[str, Any]:
    """Return the inclusion proof of leaf `index` in the tree of `tree_size` leaves (default: the whole log)."""
    index = _int(index, "index")
    n = _tree_size(tree_size, "size")
    if index >= n:
        raise InvalidParameter(
            _("index %(index)s is not in a tree of %(size)s leaves") % {"index": index, "size": n},
            field="index",
            rule="in_tree",
        )
    get = _node_getter([*merkle.inclusion_nodes(index, n), *merkle.root_nodes(n), (0, index)])
    proof = merkle.inclusion_proof(index, n, get)
    return {
        "index": index,
        "size": n,
        "leaf_hash": get(0, index),
        "root": merkle.root_of(n, get),
        "proof": proof,
    }


def consistency(*, first: int, second: int | None = None) -> dict[str, Any]:
    """Return the consistency proof from the tree of `first` leaves to that of `second` (default: now)."""
    first = _int(first, "first")
    n = _tree_size(second, "second")
    if first > n:
        raise InvalidParameter(
            _("first (%(first)s) must not be larger than second (%(second)s)") % {"first": first, "second": n},
            field="first",
            rule="order",
        )
    # No proof from the empty tree (every tree extends it): merkle refuses to plan one, so none is asked for.
    proof_nodes = merkle.consistency_nodes(first, n) if 0 < first < n else []
    plan = [*proof_nodes, *merkle.root_nodes(first), *merkle.root_nodes(n)]
    get = _node_getter(plan)
    return {
        "first": first,
        "second": n,
        "first_root": merkle.root_of(first, get) if first else merkle.EMPTY_ROOT,
        "second_root": merkle.root_of(n, get) if n else merkle.EMPTY_ROOT,
        "proof": merkle.consistency_proof(first, n, get) if 0 < first < n else [],
    }


def leaves_page(*, start: int = 0, limit: int = 100) -> dict[str, Any]:
    """Return up to `limit` leaves from index `start`, and where the next page starts (None at the end)."""
    start = _int(start, "start")
    limit = min(_int(limit, "limit", 1), PAGE_MAX)
    current = size()
    rows = list(Leaf.objects.filter(index__gte=start, index__lt=min(start + limit, current)).order_by("index"))
    end = start + len(rows)
    return {"size": current, "leaves": rows, "next": end if end < current and rows else None}


def checkpoints_page(*, after: int = -1, limit: int = 100) -> dict[str, Any]:
    """Return up to `limit` checkpoints of size greater than `after`, oldest first."""
    if isinstance(after, bool) or not isinstance(after, int):
        raise InvalidParameter(_("after must be a whole number"), field="after", rule="integer")
    limit = min(_int(limit, "limit", 1), PAGE_MAX)
    rows = list(Checkpoint.objects.filter(size__gt=after).order_by("size")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"checkpoints": rows, "next": rows[-1].size if more else None}


def checkpoint_latest() -> Checkpoint:
    """Return the latest checkpoint, or raise NotFound before the first one."""
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is None:
        raise NotFound(_("No checkpoint has been signed yet"))
    return latest


def leaves_of_ocid(ocid: str) -> list[Leaf]:
    """Return the leaves about one procedure (its releases, documents…), in log order."""
    return list(Leaf.objects.filter(ocid=ocid).order_by("index"))
