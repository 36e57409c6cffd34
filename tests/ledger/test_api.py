"""The ledger's public API: key, checkpoints, leaves and proofs that verify with the standalone code; clear 400s."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from licita.bidding import services as bidding
from licita.ledger import merkle, note, services
from licita.ledger.models import Checkpoint, Leaf, LeafKind
from licita.ledger.services import checkpoint_sign, ledger_append
from licita.publication.build import ocid_for
from licita.publication.models import Release
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Nobody logs in here: a fast hasher keeps the factories' users from costing seconds each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _verifiers(client: Client) -> list[note.Verifier]:
    return [note.parse_verifier_key(key) for key in client.get("/api/ledger/key").json()["verifier_keys"]]


def _all_leaves(client: Client, limit: int = 100) -> list[dict]:
    leaves: list[dict] = []
    start = 0
    while start is not None:
        body = client.get("/api/ledger/leaves", {"start": start, "limit": limit}).json()
        leaves += body["leaves"]
        start = body["next"]
    return leaves


def _signed_roots(client: Client) -> dict[int, bytes]:
    """{size: root} of every checkpoint the API lists, each opened with the published key."""
    verifiers = _verifiers(client)
    roots = {}
    for row in client.get("/api/ledger/checkpoints", {"limit": 1000}).json()["checkpoints"]:
        opened = note.open_checkpoint(row["note"], verifiers, origin=settings.LICITA_LEDGER_ORIGIN)
        assert (opened.size, opened.root) == (row["size"], _b64(row["root"]))
        roots[opened.size] = opened.root
    return roots


@pytest.fixture
def client():
    return Client()


SIZE = 11


@pytest.fixture
def log(frozen_clock):
    """A log of SIZE leaves: releases, a bid receipt and outage notices; checkpoints at sizes 1, 2, 4, 8 and 11."""
    office = factories.make_office()
    tender = factories.publish(office, factories.make_procedure(office))
    checkpoint_sign()
    supplier, rep = factories.make_supplier()
    bid = bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="100.00")])
    factories.make_direct_contract(office)
    checkpoint_sign()
    while (size := Leaf.objects.count()) < SIZE:
        with transaction.atomic():
            ledger_append(kind=LeafKind.OUTAGE, entry={"note": f"aviso {size}"})
        if size + 1 in (8, SIZE):
            checkpoint_sign()
    sizes = list(Checkpoint.objects.values_list("size", flat=True))
    assert Leaf.objects.count() == SIZE
    assert sizes == [1, 2, 4, 8, SIZE]  # 1: the tender; 2: the bid's receipt; 4: after the direct award
    return {"tender": tender, "bid": bid, "sizes": sizes}


# --- key and checkpoints ---------------------------------------------------------------------------------


def test_key_publishes_the_origin_and_the_verifier_key(client, log):
    body = client.get("/api/ledger/key").json()

    assert body["origin"] == settings.LICITA_LEDGER_ORIGIN
    assert body["verifier_keys"][0] == services.verifier_key()
    verifier = note.parse_verifier_key(body["verifier_keys"][0])
    assert verifier.public_key == services.ledger_key().public_key().public_bytes_raw()


def test_latest_checkpoint_is_text_that_opens_with_the_published_key(client, log):
    response = client.get("/api/ledger/checkpoint")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    opened = note.open_checkpoint(response.content, _verifiers(client), origin=settings.LICITA_LEDGER_ORIGIN)
    hashes = [merkle.leaf_hash(leaf["data"].encode()) for leaf in _all_leaves(client)]
    ((_, root),) = merkle.roots_at(iter(hashes), [opened.size])
    assert opened.size == 11
    assert opened.root == root


def test_latest_checkpoint_is_a_404_before_the_first_one(client):
    response = client.get("/api/ledger/checkpoint")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_checkpoint_signed_with_another_key_does_not_open_with_the_published_one(client, log):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    text = client.get("/api/ledger/checkpoint").content.decode()
    forged = note.sign_note(note.parse_note(text).body, settings.LICITA_LEDGER_ORIGIN, Ed25519PrivateKey.generate())

    with pytest.raises(note.NoteError, match="unknown key"):
        note.open_checkpoint(forged, _verifiers(client))


def test_checkpoints_are_listed_oldest_first_a_page_at_a_time(client, log):
    pages = []
    after = None
    while True:
        params = {"limit": 3} | ({"after": after} if after is not None else {})
        body = client.get("/api/ledger/checkpoints", params).json()
        pages.append([row["size"] for row in body["checkpoints"]])
        after = body["next"]
        if after is None:
            break

    assert pages == [log["sizes"][:3], log["sizes"][3:]]
    assert [row["size"] for row in client.get("/api/ledger/checkpoints", {"after": 3}).json()["checkpoints"]] == [
        size for size in log["sizes"] if size > 3
    ]
    assert client.get("/api/ledger/checkpoints", {"after": SIZE}).json() == {"checkpoints": [], "next": None}
    roots = _signed_roots(client)
    assert sorted(roots) == log["sizes"]


# --- leaves ----------------------------------------------------------------------------------------------


def test_leaves_are_paged_in_order_and_their_data_hashes_to_their_hash(client, log):
    first = client.get("/api/ledger/leaves", {"limit": 4}).json()
    leaves = _all_leaves(client, limit=4)

    assert first["size"] == 11
    assert first["next"] == 4
    assert [leaf["index"] for leaf in leaves] == list(range(11))
    for leaf in leaves:
        assert merkle.leaf_hash(leaf["data"].encode("utf-8")).hex() == leaf["hash"]
        entry = json.loads(leaf["data"])
        assert (entry["index"], entry["kind"]) == (leaf["index"], leaf["kind"])
    assert client.get("/api/ledger/leaves", {"start": 8, "limit": 100}).json()["next"] is None
    assert client.get("/api/ledger/leaves", {"start": 11}).json()["leaves"] == []


def test_a_limit_above_the_maximum_is_capped(client, log):
    body = client.get("/api/ledger/leaves", {"limit": 10**6}).json()

    assert len(body["leaves"]) == 11


# --- proofs ----------------------------------------------------------------------------------------------


def test_inclusion_proofs_of_every_leaf_verify_against_every_signed_checkpoint(client, log):
    roots = _signed_roots(client)
    leaves = _all_leaves(client)
    checked = 0

    for size, root in roots.items():
        for leaf in leaves[:size]:
            body = client.get("/api/ledger/proof/inclusion", {"index": leaf["index"], "size": size}).json()
            leaf_hash = merkle.leaf_hash(leaf["data"].encode())
            assert (body["index"], body["size"]) == (leaf["index"], size)
            assert _b64(body["leaf_hash"]) == leaf_hash
            assert _b64(body["root"]) == root
            merkle.verify_inclusion(leaf["index"], size, leaf_hash, [_b64(p) for p in body["proof"]], root)
            checked += 1

    assert checked == sum(roots)


def test_inclusion_proof_defaults_to_the_whole_log(client, log):
    body = client.get("/api/ledger/proof/inclusion", {"index": 5}).json()

    assert body["size"] == 11
    assert _b64(body["root"]) == _signed_roots(client)[11]


def test_a_proof_does_not_verify_for_another_leaf(client, log):
    roots = _signed_roots(client)
    leaves = _all_leaves(client)
    body = client.get("/api/ledger/proof/inclusion", {"index": 2, "size": 11}).json()

    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            2, 11, merkle.leaf_hash(leaves[3]["data"].encode()), [_b64(p) for p in body["proof"]], roots[11]
        )


def test_consistency_proofs_between_every_pair_of_checkpoints_verify(client, log):
    roots = _signed_roots(client)

    for first, second in itertools.combinations(sorted(roots), 2):
        body = client.get("/api/ledger/proof/consistency", {"first": first, "second": second}).json()
        assert (body["first"], body["second"]) == (first, second)
        assert (_b64(body["first_root"]), _b64(body["second_root"])) == (roots[first], roots[second])
        merkle.verify_consistency(first, second, roots[first], roots[second], [_b64(p) for p in body["proof"]])
    # Default second: the whole log; equal sizes: an empty proof.
    body = client.get("/api/ledger/proof/consistency", {"first": 4}).json()
    assert body["second"] == 11
    merkle.verify_consistency(4, 11, roots[4], roots[11], [_b64(p) for p in body["proof"]])
    assert client.get("/api/ledger/proof/consistency", {"first": 7, "second": 7}).json()["proof"] == []


def test_consistency_from_the_empty_tree_is_an_empty_proof_not_an_error(client, log):
    response = client.get("/api/ledger/proof/consistency", {"first": 0, "second": 8})

    assert response.status_code == 200
    body = response.json()
    assert body["proof"] == []
    assert _b64(body["first_root"]) == merkle.EMPTY_ROOT
    assert _b64(body["second_root"]) == _signed_roots(client)[8]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/ledger/proof/inclusion", {"index": -1}, "index"),
        ("/api/ledger/proof/inclusion", {"index": 11}, "index"),
        ("/api/ledger/proof/inclusion", {"index": 10**30}, "index"),
        ("/api/ledger/proof/inclusion", {"index": 4, "size": 4}, "index"),
        ("/api/ledger/proof/inclusion", {"index": 0, "size": 12}, "size"),
        ("/api/ledger/proof/inclusion", {"index": 0, "size": -3}, "size"),
        ("/api/ledger/proof/inclusion", {"index": "abc"}, "index"),
        ("/api/ledger/proof/inclusion", {"index": "1.5"}, "index"),
        ("/api/ledger/proof/inclusion", {"index": ""}, "index"),
        ("/api/ledger/proof/inclusion", {"index": 0, "size": "x"}, "size"),
        ("/api/ledger/proof/consistency", {"first": 7, "second": 4}, "first"),
        ("/api/ledger/proof/consistency", {"first": 12}, "first"),
        ("/api/ledger/proof/consistency", {"first": 1, "second": 12}, "second"),
        ("/api/ledger/proof/consistency", {"first": -1}, "first"),
        ("/api/ledger/proof/consistency", {"first": "1e3"}, "first"),
        ("/api/ledger/proof/consistency", {"first": 1, "second": "two"}, "second"),
        ("/api/ledger/leaves", {"limit": 0}, "limit"),
        ("/api/ledger/leaves", {"limit": -5}, "limit"),
        ("/api/ledger/leaves", {"start": -1}, "start"),
        ("/api/ledger/leaves", {"start": "zero"}, "start"),
        ("/api/ledger/leaves", {"limit": "many"}, "limit"),
        ("/api/ledger/checkpoints", {"limit": 0}, "limit"),
        ("/api/ledger/checkpoints", {"after": "x"}, "after"),
        ("/api/ledger/checkpoints", {"limit": "0x10"}, "limit"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(client, log, path, params, field):
    response = client.get(path, params)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]["field"] == field
    assert body["message"]


# --- procedures and receipts -----------------------------------------------------------------------------


def test_a_procedure_check_proves_every_leaf_of_the_procedure(client, log):
    ocid = ocid_for(log["tender"])
    roots = _signed_roots(client)

    body = client.get(f"/api/ledger/procedures/{ocid}").json()

    expected = list(Leaf.objects.filter(ocid=ocid).order_by("index").values_list("index", flat=True))
    assert body["verified"] is True
    assert body["checkpoint"]["size"] == 11
    assert _b64(body["checkpoint"]["root"]) == roots[11]
    assert [leaf["index"] for leaf in body["leaves"]] == expected
    assert {leaf["kind"] for leaf in body["leaves"]} == {"release", "bid_receipt"}
    for leaf in body["leaves"]:
        assert leaf["included"] is True
        stored = Leaf.objects.get(index=leaf["index"])
        merkle.verify_inclusion(
            leaf["index"], 11, merkle.leaf_hash(stored.data.encode()), [_b64(p) for p in leaf["proof"]], roots[11]
        )
        if leaf["kind"] == "release":
            assert leaf["release_matches"] is True


def test_a_procedure_check_flags_a_release_changed_after_it_was_logged(client, log):
    ocid = ocid_for(log["tender"])
    release = Release.objects.filter(ocid=ocid).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM publication_release WHERE id = %s", [release.pk])
        (text,) = cursor.fetchone()
        changed = text.replace("material", "materiaI", 1)
        assert changed != text
        cursor.execute("UPDATE publication_release SET data = %s WHERE id = %s", [changed, release.pk])

    body = client.get(f"/api/ledger/procedures/{ocid}").json()

    assert body["verified"] is False
    (flagged,) = [leaf for leaf in body["leaves"] if leaf["included"] is False]
    assert flagged["data"]["release_id"] == release.release_id
    assert flagged["release_matches"] is False
    assert release.release_id in flagged["message"]


def test_a_procedure_check_of_an_unknown_ocid_is_a_404(client, log):
    assert client.get("/api/ledger/procedures/ocds-nothing-here").status_code == 404


def _verify_receipt(client: Client, body: bytes | str):
    return client.post("/api/ledger/receipts/verify", data=body, content_type="application/json")


def test_a_real_receipt_verifies(client, log):
    response = _verify_receipt(client, json.dumps(log["bid"].receipt))

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert {c["check"]: c["ok"] for c in body["checks"]} == {"signature": True, "leaf": True, "inclusion": True}
    assert body["checkpoint"]["size"] == 11


def test_a_receipt_with_one_payload_byte_changed_fails_its_signature_check(client, log):
    text = json.dumps(log["bid"].receipt)
    version = f'"version": "{log["bid"].receipt["payload"]["version"]}"'
    assert text.count(version) == 1
    tampered = text.replace(version, version[:-2] + "7" + '"')
    assert len(tampered) == len(text)

    response = _verify_receipt(client, tampered)

    assert response.status_code == 200
    body = response.json()
    checks = {c["check"]: c["ok"] for c in body["checks"]}
    assert body["valid"] is False
    assert checks["signature"] is False
    assert checks["leaf"] is False  # the leaf holds the digest of the real payload


@pytest.mark.parametrize(
    "body",
    [b"garbage", b"", b"\xff\xfe\x00", b"[1, 2]", b'{"payload": "x"}', b"[" * 10_000, b"{" * 70_000],
    ids=["garbage", "empty", "not-utf8", "list", "payload-not-object", "deep", "too-large"],
)
def test_garbage_instead_of_a_receipt_is_a_400_naming_the_receipt(client, log, body):
    response = _verify_receipt(client, body)

    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "receipt"


@pytest.mark.parametrize("index", ["²", "99999999999999999999999", "-1", "3"])
def test_a_receipt_naming_no_bid_receipt_leaf_is_invalid_not_an_error(client, log, index):
    receipt = json.loads(json.dumps(log["bid"].receipt))
    receipt["payload"]["ledger_index"] = index  # "3" is a release leaf

    response = _verify_receipt(client, json.dumps(receipt))

    assert response.status_code == 200
    checks = {c["check"]: c["ok"] for c in response.json()["checks"]}
    assert response.json()["valid"] is False
    assert checks["leaf"] is False
