"""The ledger's write side: one leaf per act in the act's transaction, one tree, rows the database will not change."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from licita.bidding import services as bidding
from licita.bidding.crypto import public_key_b64, receipt_verify
from licita.bidding.services import OpeningRefused, platform_signing_key
from licita.documents.services import document_attach
from licita.ledger import merkle, note, selectors, services
from licita.ledger.canonical import canonical_json, release_digest
from licita.ledger.models import Checkpoint, Head, Leaf, LeafKind, Node
from licita.ledger.services import checkpoint_sign, checkpoint_tick, ledger_append, receipt_digest
from licita.publication.build import ocid_for
from licita.publication.models import Release
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Nobody logs in here: a fast hasher keeps the factories' users from costing seconds each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- helpers ---------------------------------------------------------------------------------------------


def _leaves() -> list[Leaf]:
    return list(Leaf.objects.order_by("index"))


def _nodes() -> set[tuple[int, int, bytes]]:
    return {(level, index, bytes(h)) for level, index, h in Node.objects.values_list("level", "index", "hash")}


def _head() -> tuple[int, list[str]]:
    head = Head.objects.filter(pk=1).first()
    return (0, []) if head is None else (head.size, list(head.frontier))


def _perfect_subtrees(hashes: list[bytes]) -> set[tuple[int, int, bytes]]:
    """Every perfect subtree of the leaves, recomputed from scratch: (level, index, hash)."""
    nodes = {(0, i, h) for i, h in enumerate(hashes)}
    level, row = 0, hashes
    while len(row) > 1:
        row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
        nodes |= {(level, i, h) for i, h in enumerate(row)}
    return nodes


def _outages(count: int) -> list[Leaf]:
    """Append `count` outage leaves in one transaction (a stand-in act; no service needed)."""
    with transaction.atomic():
        return [ledger_append(kind=LeafKind.OUTAGE, entry={"note": f"aviso {i}"}) for i in range(count)]


def _verifiers() -> list[note.Verifier]:
    return [note.parse_verifier_key(services.verifier_key())]


@pytest.fixture
def office():
    return factories.make_office()


@pytest.fixture
def tender(frozen_clock, office):
    return factories.publish(office, factories.make_procedure(office))


# --- one leaf per act ------------------------------------------------------------------------------------


def test_every_published_release_has_exactly_one_release_leaf_with_its_digest(frozen_clock, office, tender):
    factories.make_direct_contract(office)  # award and contract: more releases, another procedure
    releases = list(Release.objects.order_by("id"))
    release_leaves = list(Leaf.objects.filter(kind=LeafKind.RELEASE).order_by("index"))

    assert len(releases) >= 3
    assert sorted(leaf.ref for leaf in release_leaves) == sorted(r.release_id for r in releases)
    by_id = {leaf.ref: leaf for leaf in release_leaves}
    for release in releases:
        leaf = by_id[release.release_id]
        entry = json.loads(leaf.data)
        assert entry["sha256"] == release_digest(release.data)
        assert (entry["kind"], entry["ocid"], entry["release_id"]) == ("release", release.ocid, release.release_id)
        assert leaf.ocid == release.ocid
    # Releases are logged in the order they were published.
    assert [leaf.ref for leaf in release_leaves] == [r.release_id for r in releases]


def test_leaves_are_numbered_from_zero_without_gaps_and_hash_their_canonical_data(frozen_clock, office, tender):
    factories.make_direct_contract(office)
    _outages(3)
    leaves = _leaves()

    assert [leaf.index for leaf in leaves] == list(range(len(leaves)))
    assert selectors.size() == len(leaves)
    for leaf in leaves:
        data = leaf.data.encode("utf-8")
        entry = json.loads(data)
        assert canonical_json(entry) == data
        assert entry["index"] == leaf.index
        assert entry["kind"] == leaf.kind
        assert leaf.hash == merkle.leaf_hash(data).hex()


def test_head_frontier_and_stored_nodes_match_the_tree_recomputed_from_the_leaves(frozen_clock, office, tender):
    factories.make_direct_contract(office)
    _outages(6)
    hashes = [bytes.fromhex(leaf.hash) for leaf in _leaves()]
    n = len(hashes)
    size, frontier = _head()
    ((_, root),) = merkle.roots_at(iter(hashes), [n])

    assert n & (n - 1), "a size that is not a power of two exercises the right edge"
    assert size == n
    assert merkle.Frontier.from_json({"size": size, "hashes": frontier}).root() == root
    assert selectors.root(n) == root
    assert _nodes() == _perfect_subtrees(hashes)


def test_a_service_that_fails_after_appending_leaves_no_leaf_no_node_and_the_head_unchanged(frozen_clock, office):
    first = factories.publish(office, factories.make_procedure(office))
    second = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    bidding.bid_submit(actor=rep, procedure=first, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    frozen_clock.move(days=17)
    wrong_shares = factories.claim_shares(office, second)
    before = (_leaves(), _nodes(), _head())

    # bids_open appends a key_share leaf per share, then finds the shares open another procedure's key.
    with pytest.raises(OpeningRefused):
        bidding.bids_open(actor=office.operator, procedure=first, shares=wrong_shares)

    assert (_leaves(), _nodes(), _head()) == before
    assert not Leaf.objects.filter(kind=LeafKind.KEY_SHARE).exists()


def test_an_exception_after_ledger_append_rolls_the_leaves_back_with_the_act(frozen_clock):
    _outages(3)  # the next leaf completes subtrees at levels 0, 1 and 2
    before = (_leaves(), _nodes(), _head())

    appended: list[Leaf] = []
    written: list[bool] = []

    class Boom(Exception):
        pass

    def act() -> None:
        with transaction.atomic():
            appended.extend(ledger_append(kind=LeafKind.OUTAGE, entry={"note": "se revierte"}) for _ in range(5))
            written.append(Node.objects.filter(level=2).exists())  # written, then rolled back
            raise Boom

    with pytest.raises(Boom):
        act()

    assert [leaf.index for leaf in appended] == [3, 4, 5, 6, 7]
    assert written == [True]
    assert (_leaves(), _nodes(), _head()) == before
    # The next act takes the index the rolled-back one had: no gap.
    assert _outages(1)[0].index == 3


def test_ledger_append_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="unknown ledger leaf kind"), transaction.atomic():
        ledger_append(kind="tweet", entry={})
    assert not Leaf.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ledger_append_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the act's transaction"):
        ledger_append(kind=LeafKind.OUTAGE, entry={"note": "sin transacción"})
    assert not Leaf.objects.exists()


# --- documents, bids and the opening ---------------------------------------------------------------------


def test_document_attach_logs_the_documents_sha256_and_metadata(frozen_clock, office, tender):
    content = b"%PDF-1.4 convocatoria firmada"
    before = selectors.size()

    document = document_attach(
        actor=office.operator,
        procedure=tender,
        kind="biddingDocuments",
        title="Convocatoria",
        filename="convocatoria.pdf",
        content_b64=base64.b64encode(content).decode(),
    )

    leaf = Leaf.objects.get(kind=LeafKind.DOCUMENT)
    entry = json.loads(leaf.data)
    assert leaf.index == before  # logged in the act, before the release the act publishes
    assert entry["sha256"] == hashlib.sha256(content).hexdigest() == document.sha256
    assert (entry["document_id"], entry["size"], entry["filename"], entry["title"]) == (
        str(document.pk),
        len(content),
        "convocatoria.pdf",
        "Convocatoria",
    )
    assert entry["ocid"] == leaf.ocid == ocid_for(tender)
    assert Leaf.objects.get(index=before + 1).kind == LeafKind.RELEASE  # the tenderUpdate release


def test_bid_receipt_names_its_leaf_and_carries_a_signed_checkpoint_covering_it(frozen_clock, office, tender):
    supplier, rep = factories.make_supplier()

    bid = bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="123456.78")])

    receipt = bid.receipt
    payload = receipt["payload"]
    index = int(payload["ledger_index"])
    leaf = Leaf.objects.get(index=index)
    entry = json.loads(leaf.data)
    assert leaf.kind == LeafKind.BID_RECEIPT
    assert entry["receipt_sha256"] == receipt_digest(payload)
    assert entry["ocid"] == ocid_for(tender)
    assert receipt_verify(receipt=receipt, public_key_b64=public_key_b64(platform_signing_key()))

    checkpoint = note.open_checkpoint(receipt["checkpoint"], _verifiers(), origin=settings.LICITA_LEDGER_ORIGIN)
    assert checkpoint.size > index
    assert checkpoint.root == selectors.root(checkpoint.size)
    assert Checkpoint.objects.get(size=checkpoint.size).note == receipt["checkpoint"]
    proof = selectors.inclusion(index=index, tree_size=checkpoint.size)
    merkle.verify_inclusion(
        index, checkpoint.size, merkle.leaf_hash(leaf.data.encode()), proof["proof"], checkpoint.root
    )


def test_the_bid_receipt_leaf_does_not_say_who_bid_or_what(frozen_clock, office, tender):
    supplier, rep = factories.make_supplier()

    bid = bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="123456.78")])

    leaf = Leaf.objects.get(kind=LeafKind.BID_RECEIPT)
    entry = json.loads(leaf.data)
    assert set(entry) == {"ocid", "receipt_sha256", "committed_at", "index", "kind", "logged_at"}
    for secret in (supplier.rfc, bid.sealed_sha256, bid.receipt["payload"]["bid_sha256"], "123456.78", "12345678"):
        assert secret not in leaf.data
    # Changing only the bidder's RFC changes the digest: the leaf commits to it without showing it.
    other = dict(bid.receipt["payload"], bidder_rfc="XAXX010101000")
    assert receipt_digest(other) != entry["receipt_sha256"]


def test_the_opening_logs_one_leaf_per_key_share(frozen_clock, office, tender):
    supplier, rep = factories.make_supplier()
    bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    frozen_clock.move(days=17)
    shares = factories.claim_shares(office, tender)
    before = selectors.size()

    bidding.bids_open(actor=office.operator, procedure=tender, shares=shares)

    share_leaves = list(Leaf.objects.filter(kind=LeafKind.KEY_SHARE).order_by("index"))
    entries = [json.loads(leaf.data) for leaf in share_leaves]
    first = share_leaves[0].index
    assert first >= before  # closing at the deadline may log its release first
    assert [leaf.index for leaf in share_leaves] == list(range(first, first + len(shares)))
    assert [(e["share"], e["of"]) for e in entries] == [(i, len(shares)) for i in range(1, len(shares) + 1)]
    assert [e["share_sha256"] for e in entries] == [hashlib.sha256(s.encode()).hexdigest() for s in shares]
    assert {e["ocid"] for e in entries} == {ocid_for(tender)}
    assert not any(share in leaf.data for share in shares for leaf in share_leaves)


# --- append-only -----------------------------------------------------------------------------------------


@pytest.fixture
def signed_log(frozen_clock, tender):
    checkpoint = checkpoint_sign()
    assert checkpoint is not None
    return checkpoint


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_leaf SET data = '{}'",
        """UPDATE ledger_leaf SET hash = 'x' WHERE "index" = 0""",
        "DELETE FROM ledger_leaf",
        'DELETE FROM ledger_leaf WHERE "index" = 0',
        "UPDATE ledger_checkpoint SET note = 'forged'",
        "UPDATE ledger_checkpoint SET size = size + 1",
        "DELETE FROM ledger_checkpoint",
    ],
)
def test_the_database_refuses_update_and_delete_of_leaves_and_checkpoints(signed_log, sql):
    before = (
        list(Leaf.objects.values_list("index", "data", "hash")),
        list(Checkpoint.objects.values_list("size", "note")),
    )

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)

    after = (
        list(Leaf.objects.values_list("index", "data", "hash")),
        list(Checkpoint.objects.values_list("size", "note")),
    )
    assert after == before
    assert before[0]
    assert before[1]


def test_querysets_cannot_go_around_the_models(signed_log):
    with pytest.raises(DatabaseError), transaction.atomic():
        Leaf.objects.update(kind=LeafKind.OUTAGE)
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.all().delete()

    assert Leaf.objects.filter(kind=LeafKind.RELEASE).exists()
    assert Checkpoint.objects.filter(pk=signed_log.pk).exists()


def test_models_refuse_to_save_an_existing_row_or_delete_one(signed_log):
    leaf = Leaf.objects.get(index=0)
    leaf.kind = LeafKind.OUTAGE
    checkpoint = Checkpoint.objects.get(pk=signed_log.pk)
    checkpoint.note = "forged"

    with pytest.raises(TypeError, match="append-only"):
        leaf.save()
    with pytest.raises(TypeError, match="append-only"):
        leaf.delete()
    with pytest.raises(TypeError, match="append-only"):
        checkpoint.save()
    with pytest.raises(TypeError, match="append-only"):
        checkpoint.delete()

    assert Leaf.objects.get(index=0).kind == LeafKind.RELEASE
    assert Checkpoint.objects.get(pk=signed_log.pk).note == signed_log.note


# --- checkpoints -----------------------------------------------------------------------------------------


def test_checkpoint_tick_signs_only_when_the_log_grew(frozen_clock):
    assert checkpoint_tick() is None  # nothing logged yet
    _outages(3)

    first = checkpoint_tick()
    again = checkpoint_tick()
    _outages(2)
    second = checkpoint_tick()
    third = checkpoint_tick()

    assert first is not None
    assert second is not None
    assert (first.size, again, second.size, third) == (3, None, 5, None)
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [3, 5]
    for row in (first, second):
        opened = note.open_checkpoint(row.note, _verifiers(), origin=settings.LICITA_LEDGER_ORIGIN)
        assert (opened.size, opened.root) == (row.size, selectors.root(row.size))
        assert row.root == opened.root.hex()


def test_checkpoint_sign_returns_the_existing_checkpoint_at_the_same_size(frozen_clock):
    assert checkpoint_sign() is None  # an empty log gets no checkpoint
    _outages(2)

    first = checkpoint_sign()
    second = checkpoint_sign()

    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert Checkpoint.objects.count() == 1
