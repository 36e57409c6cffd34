"""Tampering with the stored data is caught by `licita verify`, which names the release, leaf or checkpoint.

Data is made through the real services, dumped with the project's bulk dump, then changed the way a database
administrator could (raw SQL; the ledger's triggers dropped first, as an administrator can), and verified
with the standalone verifier (`licita.ledger.verify.main`, what `licita verify` runs).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from licita.bidding import services as bidding
from licita.documents.services import document_attach
from licita.ledger import merkle, note, services, triggers
from licita.ledger.canonical import canonical_json, release_digest
from licita.ledger.models import Checkpoint, Head, Leaf, LeafKind, Node
from licita.ledger.services import checkpoint_sign, checkpoint_tick
from licita.ledger.verify import main
from licita.publication.build import ocid_for
from licita.publication.bulk import dump_write
from licita.publication.models import Release
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Nobody logs in here: a fast hasher keeps the factories' users from costing seconds each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- helpers ---------------------------------------------------------------------------------------------


def _verify(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _bulk(directory: Path, *extra: str | Path) -> tuple[int, str]:
    """Verify a dump with the platform's real key pinned (not the dump's own ledger-key.txt)."""
    code, out, err = _verify("--bulk", directory, "--key", services.verifier_key(), "--quiet", *extra)
    return code, out + err


def _problems(directory: Path) -> list[dict]:
    code, out = _bulk(directory, "--json")
    report = json.loads(out)
    assert report["ok"] is (code == 0)
    return report["problems"]


def _dump(tmp_path: Path, name: str = "dump") -> Path:
    return dump_write(out=tmp_path / "bulk", name=name)


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _triggers_refuse_deletes() -> bool:
    try:
        with transaction.atomic():
            _sql("DELETE FROM ledger_checkpoint")
            _sql("DELETE FROM ledger_leaf")
    except DatabaseError:
        return True
    return False


@pytest.fixture
def no_triggers():
    """Drop the ledger's triggers, as a database administrator could; put them back (and check) afterwards."""
    for statement in triggers.drop_sql(connection.vendor):
        _sql(statement)
    yield
    for statement in triggers.create_sql(connection.vendor):
        _sql(statement)
    assert _triggers_refuse_deletes()


def _release_tampered(release: Release, old: str = "material", new: str = "materiaI") -> None:
    """Change one byte of the stored release (publication_release has no trigger)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM publication_release WHERE id = %s", [release.pk])
        (text,) = cursor.fetchone()
        changed = text.replace(old, new, 1)
        assert sum(a != b for a, b in zip(text.encode(), changed.encode(), strict=True)) == 1
        cursor.execute("UPDATE publication_release SET data = %s WHERE id = %s", [changed, release.pk])


def _leaf_data(index: int) -> str:
    return Leaf.objects.values_list("data", flat=True).get(index=index)


def _leaf_data_set(index: int, data: str) -> None:
    _sql('UPDATE ledger_leaf SET data = %s WHERE "index" = %s', [data, index])


def _history_rewritten() -> None:
    """Recompute leaf hashes, nodes and the head from the leaves as stored, and forget every checkpoint.

    What an administrator who changed leaves would do next so that the log looks whole; then checkpoint_sign
    signs the rewritten tree with the platform's real key.
    """
    frontier = merkle.Frontier()
    completed = []
    for index, data in Leaf.objects.order_by("index").values_list("index", "data"):
        digest = merkle.leaf_hash(data.encode("utf-8"))
        _sql('UPDATE ledger_leaf SET hash = %s WHERE "index" = %s', [digest.hex(), index])
        completed += frontier.append(digest)
    Node.objects.all().delete()
    Node.objects.bulk_create([Node(level=level, index=i, hash=h) for level, i, h in completed])
    Head.objects.filter(pk=1).update(size=frontier.size, frontier=frontier.to_json()["hashes"])
    _sql("DELETE FROM ledger_checkpoint")


def _world() -> dict:
    """A tender with a bid and a document, a direct award with its contract, and a checkpoint covering it all."""
    office = factories.make_office()
    tender = factories.publish(office, factories.make_procedure(office))
    supplier, rep = factories.make_supplier()
    bid = bidding.bid_submit(actor=rep, procedure=tender, lots=[bidding.BidLotInput(lot=1, price="250000.00")])
    document_attach(
        actor=office.operator,
        procedure=tender,
        kind="biddingDocuments",
        title="Convocatoria",
        filename="convocatoria.pdf",
        content_b64=base64.b64encode(b"%PDF-1.4 convocatoria").decode(),
    )
    factories.make_direct_contract(office)
    latest = checkpoint_sign()
    assert latest is not None
    assert latest.size == Leaf.objects.count()
    sizes = list(Checkpoint.objects.values_list("size", flat=True))
    assert len(sizes) >= 2  # the bid's receipt checkpoint, and the latest
    return {"office": office, "tender": tender, "bid": bid, "sizes": sizes, "size": latest.size}


@pytest.fixture
def world(frozen_clock):
    return _world()


# --- a clean log -----------------------------------------------------------------------------------------


def test_a_clean_dump_verifies(world, tmp_path):
    directory = _dump(tmp_path)

    code, out = _bulk(directory)
    report = json.loads(_bulk(directory, "--json")[1])

    assert code == 0, out
    assert out.startswith("OK:")
    assert report["ok"] is True
    assert report["problems"] == []
    assert (report["leaves"], report["checkpoints"]) == (world["size"], len(world["sizes"]))
    assert report["latest"]["size"] == world["size"]
    assert report["releases"] == report["release_leaves"] == Release.objects.count()
    # Trusting the dump's own key file (first use) verifies too, with a warning saying so.
    code, out, _ = _verify("--bulk", directory, "--quiet")
    assert code == 0
    assert "first use" in out


# --- (a) one byte of a stored release --------------------------------------------------------------------


def test_one_changed_byte_of_a_stored_release_is_named(world, tmp_path):
    release = Release.objects.filter(ocid=ocid_for(world["tender"])).order_by("id").last()
    leaf = Leaf.objects.get(kind=LeafKind.RELEASE, ref=release.release_id)
    _release_tampered(release)
    directory = _dump(tmp_path)

    code, out = _bulk(directory)
    problems = _problems(directory)

    assert code == 1
    assert f"release {release.release_id} of ocid {release.ocid}: differs from leaf {leaf.index}" in out
    assert [(p["code"], p["release_id"], p["leaf"]) for p in problems] == [
        ("release-differs", release.release_id, leaf.index)
    ]


# --- (b) a deleted leaf ----------------------------------------------------------------------------------


def test_a_deleted_leaf_is_named_by_its_index(world, tmp_path, no_triggers):
    gone = 2
    _sql('DELETE FROM ledger_leaf WHERE "index" = %s', [gone])
    directory = _dump(tmp_path)

    code, out = _bulk(directory)
    problems = _problems(directory)

    assert code == 1
    assert f"leaf {gone} missing" in out
    missing = [p for p in problems if p["code"] == "leaf-missing"]
    assert [p["leaf"] for p in missing] == [gone]
    # The signed checkpoints that covered it no longer match the leaves.
    assert {p["checkpoint"] for p in problems if p["code"] in {"checkpoint-root", "checkpoint-beyond-log"}} == {
        size for size in world["sizes"] if size > gone
    }


def test_a_deleted_last_leaf_is_named_by_the_checkpoint_that_covered_it(world, tmp_path, no_triggers):
    _sql('DELETE FROM ledger_leaf WHERE "index" = %s', [world["size"] - 1])
    directory = _dump(tmp_path)

    code, out = _bulk(directory)

    assert code == 1
    assert f"checkpoint {world['size']}: the log has only {world['size'] - 1:,} leaves" in out


# --- (c) two leaves swapped ------------------------------------------------------------------------------


def test_two_swapped_leaves_are_named(world, tmp_path, no_triggers):
    first, second = 1, 3
    data_first, data_second = _leaf_data(first), _leaf_data(second)
    _leaf_data_set(first, data_second)
    _leaf_data_set(second, data_first)
    directory = _dump(tmp_path)

    code, out = _bulk(directory)
    problems = _problems(directory)

    assert code == 1
    assert f"leaf {first} says index {second}" in out
    assert f"leaf {second} says index {first}" in out
    assert {p["leaf"] for p in problems if p["code"] == "leaf-index"} == {first, second}


def test_two_swapped_leaves_renumbered_to_look_in_place_are_named_by_the_checkpoints(world, tmp_path, no_triggers):
    first, second = 1, 3
    entries = {i: json.loads(_leaf_data(i)) for i in (first, second)}
    _leaf_data_set(first, canonical_json(entries[second] | {"index": first}).decode())
    _leaf_data_set(second, canonical_json(entries[first] | {"index": second}).decode())
    directory = _dump(tmp_path)

    code, out = _bulk(directory)
    problems = _problems(directory)

    assert code == 1
    assert {p["code"] for p in problems} == {"checkpoint-root"}
    assert {p["checkpoint"] for p in problems} == {size for size in world["sizes"] if size > first}
    for size in world["sizes"]:
        assert (f"checkpoint {size}: root" in out) is (size > first)


# --- (d) a checkpoint re-signed with another key ---------------------------------------------------------


def _forged(text: str) -> str:
    body = note.parse_note(text).body
    return note.sign_note(body, settings.LICITA_LEDGER_ORIGIN, Ed25519PrivateKey.generate())


def _rewrite_gzip_lines(path: Path, change) -> None:
    with gzip.open(path, "rb") as f:
        lines = f.read().splitlines()
    with gzip.open(path, "wb") as f:
        f.write(b"".join(change(line) + b"\n" for line in lines))


@pytest.mark.parametrize("where", ["database", "bulk file"])
def test_a_checkpoint_re_signed_with_another_key_is_named_by_its_size(world, tmp_path, no_triggers, where):
    size = world["size"]
    latest = Checkpoint.objects.get(size=size)
    if where == "database":
        _sql("UPDATE ledger_checkpoint SET note = %s WHERE size = %s", [_forged(latest.note), size])
        directory = _dump(tmp_path)
    else:
        directory = _dump(tmp_path)

        def change(line: bytes) -> bytes:
            record = json.loads(line)
            if record["size"] == size:
                record["note"] = _forged(record["note"])
            return json.dumps(record).encode()

        _rewrite_gzip_lines(directory / "ledger-checkpoints.jsonl.gz", change)

    code, out = _bulk(directory)
    problems = _problems(directory)

    assert code == 1
    assert f"checkpoint {size}: unknown key" in out
    assert [(p["code"], p["checkpoint"]) for p in problems] == [("checkpoint-signature", size)]


# --- (e) a witness and a forked log ----------------------------------------------------------------------


def test_a_witness_follows_an_honest_log(world, tmp_path):
    state = tmp_path / "witness.json"
    key = services.verifier_key()

    first = _verify("--bulk", _dump(tmp_path, "day-1"), "--witness", state, "--key", key)
    factories.publish(world["office"], factories.make_procedure(world["office"]))
    grown = checkpoint_sign()
    second = _verify("--bulk", _dump(tmp_path, "day-2"), "--witness", state, "--key", key)
    third = _verify("--bulk", tmp_path / "bulk" / "day-2", "--witness", state, "--key", key)

    assert first[0] == 0, first
    assert "first checkpoint stored" in first[1]
    assert second[0] == 0, second
    assert f"{world['size']:,} -> {grown.size:,}" in second[1]
    assert third[0] == 0
    assert "unchanged" in third[1]
    assert json.loads(state.read_text())["size"] == grown.size


@pytest.mark.parametrize("grows", [False, True], ids=["same-size", "grown"])
def test_a_witness_reports_a_fork_and_keeps_its_state(world, tmp_path, no_triggers, grows):
    state = tmp_path / "witness.json"
    key = services.verifier_key()
    seen = _verify("--bulk", _dump(tmp_path, "day-1"), "--witness", state, "--key", key)
    assert seen[0] == 0, seen
    saved = state.read_bytes()

    # The administrator changes a published release and its leaf consistently, rebuilds the tree and has the
    # platform sign it with its real key: the forked log is whole by itself...
    release = Release.objects.filter(ocid=ocid_for(world["tender"])).order_by("id").first()
    leaf = Leaf.objects.get(kind=LeafKind.RELEASE, ref=release.release_id)
    _release_tampered(release)
    release = Release.objects.get(pk=release.pk)
    _leaf_data_set(
        leaf.index, canonical_json(json.loads(leaf.data) | {"sha256": release_digest(release.data)}).decode()
    )
    _history_rewritten()
    if grows:
        factories.publish(world["office"], factories.make_procedure(world["office"]))
    forked = checkpoint_sign()
    forked_dump = _dump(tmp_path, "day-2")
    assert _bulk(forked_dump)[0] == 0
    assert forked.size == world["size"] + grows

    # ...but not an extension of what the witness saw.
    code, out, err = _verify("--bulk", forked_dump, "--witness", state, "--key", key)

    assert code == 1, out + err
    assert out.startswith("FORK")
    if grows:
        assert f"at size {world['size']:,}" in out
    else:
        assert f"two different roots for size {world['size']:,}" in out
    assert state.read_bytes() == saved
    report = json.loads(_verify("--bulk", forked_dump, "--witness", state, "--key", key, "--json")[1])
    assert (report["status"], report["saved"]) == ("fork", False)
    assert state.read_bytes() == saved


# --- URL mode against a running platform -----------------------------------------------------------------


@pytest.fixture
def live_url(request, transactional_db, django_db_blocker):
    """pytest-django's live server, started with the database reachable.

    Starting it imports the middleware, and `licita.ops.metrics` registers a Prometheus collector that reads the
    database when registered: outside a test's database access, pytest-django refuses that read.
    """
    with django_db_blocker.unblock():
        server = request.getfixturevalue("live_server")
    server._live_server_modified_settings.enable()  # what pytest-django's _live_server_helper does
    yield server.url
    server._live_server_modified_settings.disable()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_url_mode_verifies_a_live_platform_and_names_a_changed_release(live_url, frozen_clock):
    world = _world()
    factories.publish(world["office"], factories.make_procedure(world["office"]))
    assert checkpoint_tick() is not None
    key = services.verifier_key()

    clean = _verify("--url", live_url, "--key", key, "--quiet")

    assert clean[0] == 0, clean
    assert clean[1].startswith("OK:")
    report = json.loads(_verify("--url", live_url, "--key", key, "--quiet", "--json")[1])
    assert report["leaves"] == Leaf.objects.count()
    assert report["consistency_proofs"] == len(world["sizes"])  # between each pair of consecutive checkpoints
    assert report["inclusion_proofs"] == 3

    release = Release.objects.order_by("id").first()
    _release_tampered(release)
    code, out, err = _verify("--url", live_url, "--key", key, "--quiet")

    assert code == 1, out + err
    assert f"release {release.release_id} of ocid {release.ocid}: differs from leaf" in out
