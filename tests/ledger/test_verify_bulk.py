"""The standalone verifier on bulk directories built here (and once against a stub of the JSON API), plus witness mode."""

from __future__ import annotations

import base64
import gzip
import io
import json
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licita.ledger import merkle
from licita.ledger.canonical import canonical_json, release_digest
from licita.ledger.note import checkpoint_body, sign_note, verifier_key
from licita.ledger.verify import main, verify_bulk, verify_url, witness

ORIGIN = "licita.test/ledger"
ROOT_DIR = Path(__file__).resolve().parents[2]


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


KEY = _key(1)
VKEY = verifier_key(ORIGIN, KEY.public_key().public_bytes_raw())
OTHER_KEY = _key(2)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _release(i: int, tag: str = "tender") -> dict:
    ocid = f"ocds-abc123-LA-{i:04d}"
    return {
        "ocid": ocid,
        "id": f"{ocid}-{tag}-1",
        "date": "2026-03-02T16:00:00Z",
        "tag": [tag],
        "initiationType": "tender",
        "tender": {
            "id": f"T-{i}",
            "title": f"Adquisición de papelería {i} — oficina ñ",
            "value": {"amount": 1000.5 + i},
        },
    }


class Log:
    """An in-memory ledger written the way the platform writes it."""

    def __init__(self, key: Ed25519PrivateKey = KEY, origin: str = ORIGIN) -> None:
        self.key, self.origin = key, origin
        self.leaves: list[bytes] = []
        self.frontier = merkle.Frontier()
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.releases: list[dict] = []
        self.checkpoints: list[dict] = []

    def add(self, entry: dict) -> None:
        data = canonical_json({**entry, "index": len(self.leaves)})
        self.leaves.append(data)
        for level, index, h in self.frontier.append(merkle.leaf_hash(data)):
            self.nodes[level, index] = h

    def add_release(self, release: dict) -> None:
        self.releases.append(release)
        self.add(
            {
                "kind": "release",
                "ocid": release["ocid"],
                "release_id": release["id"],
                "sha256": release_digest(release),
            }
        )

    def checkpoint(self, key: Ed25519PrivateKey | None = None) -> dict:
        size, root = self.frontier.size, self.frontier.root()
        note = sign_note(checkpoint_body(self.origin, size, root), self.origin, key or self.key)
        record = {"size": size, "root": _b64(root), "note": note}
        self.checkpoints.append(record)
        return record

    def grow(self, count: int, *, every: int = 4) -> Log:
        kinds = ["document", "bid_receipt", "key_share", "outage"]
        for _ in range(count):
            n = len(self.leaves)
            if n % 3 == 0:
                self.add_release(_release(n))
            else:
                self.add({"kind": kinds[n % 4], "sha256": f"{n:064x}", "at": "2026-03-02T16:00:00Z"})
            if len(self.leaves) % every == 0:
                self.checkpoint()
        return self

    def write(self, directory: Path, *, key_file: bool = True) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        _write_gz(directory / "ledger-leaves.jsonl.gz", self.leaves)
        _write_gz(directory / "ledger-checkpoints.jsonl.gz", [json.dumps(c).encode() for c in self.checkpoints])
        packages = [canonical_json({"uri": "https://x", "releases": [r]}) for r in self.releases]
        _write_gz(directory / "releases.jsonl.gz", packages)
        if key_file:
            (directory / "ledger-key.txt").write_text(f"# {ORIGIN}\n{VKEY}\n")
        return directory


def _write_gz(path: Path, lines: list[bytes]) -> None:
    with gzip.open(path, "wb") as f:
        for line in lines:
            f.write(line + b"\n")


def _read_gz(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f]


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _messages(report) -> str:
    return "\n".join(p.message for p in report.problems)


@pytest.fixture
def bulk(tmp_path) -> Path:
    return Log().grow(40).write(tmp_path / "bulk")


# ----------------------------------------------------------------------------------------------- full checks


def test_clean_log_verifies(bulk):
    code, out, _ = _run("--bulk", str(bulk), "--key", VKEY)
    assert code == 0, out
    assert out.startswith("OK: 40 hojas / leaves, 10 checkpoints, 14 publicaciones / releases")
    report = verify_bulk(bulk, [VKEY])
    assert report.ok
    assert (report.leaves, report.checkpoints, report.releases, report.release_leaves) == (40, 10, 14, 14)
    assert report.latest_size == 40
    assert report.origin == ORIGIN
    assert not report.trusted_on_first_use


def test_keys_from_the_bulk_dir_are_trusted_on_first_use(bulk):
    code, out, _ = _run("--bulk", str(bulk), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True
    assert data["trusted_on_first_use"] is True
    assert data["keys"] == [VKEY]
    assert any("trusted on first use" in w for w in data["warnings"])
    assert data["latest"]["size"] == 40


def test_changed_release_is_reported_by_id(bulk):
    path = bulk / "releases.jsonl.gz"
    lines = _read_gz(path)
    lines[5] = lines[5].replace(b"papeler\xc3\xada 15", b"papeler\xc3\xada 16")
    _write_gz(path, lines)
    report = verify_bulk(bulk, [VKEY])
    assert not report.ok
    [problem] = report.problems
    assert problem.code == "release-differs"
    assert problem.release_id == "ocds-abc123-LA-0015-tender-1"
    assert problem.leaf == 15
    assert "release ocds-abc123-LA-0015-tender-1 of ocid ocds-abc123-LA-0015: differs from leaf 15" in problem.message
    code, out, _ = _run("--bulk", str(bulk), "--key", VKEY)
    assert code == 1
    assert out.startswith("FALLO / FAILED")
    assert "ocds-abc123-LA-0015-tender-1" in out


def test_release_missing_from_the_log(bulk):
    path = bulk / "releases.jsonl.gz"
    _write_gz(path, [*_read_gz(path), canonical_json({"releases": [_release(999)]})])
    report = verify_bulk(bulk, [VKEY])
    assert [p.message for p in report.problems] == [
        "release ocds-abc123-LA-0999-tender-1 of ocid ocds-abc123-LA-0999: not in the log"
    ]


def test_deleted_leaf_is_reported_by_index(bulk):
    path = bulk / "ledger-leaves.jsonl.gz"
    lines = _read_gz(path)
    del lines[5]
    _write_gz(path, lines)
    report = verify_bulk(bulk, [VKEY])
    assert not report.ok
    messages = _messages(report)
    assert "leaf 5 missing: the log jumps from index 4 to 6" in messages
    assert "leaf 5 says index 6 (and the 33 leaves after it" in messages
    # every checkpoint from size 8 on no longer matches, and the last one is beyond the log
    assert "checkpoint 8: root" in messages
    assert "but the leaves give" in messages
    assert "checkpoint 40: the log has only 39 leaves" in messages
    assert "checkpoint 4:" not in messages
    assert any(p.code == "leaf-missing" and p.leaf == 5 for p in report.problems)


def test_swapped_leaves_are_reported(bulk):
    path = bulk / "ledger-leaves.jsonl.gz"
    lines = _read_gz(path)
    lines[9], lines[10] = lines[10], lines[9]
    _write_gz(path, lines)
    report = verify_bulk(bulk, [VKEY])
    messages = _messages(report)
    assert "leaf 9 says index 10" in messages
    assert "leaf 10 says index 9" in messages
    assert "missing" not in messages
    assert {p.checkpoint for p in report.problems if p.code == "checkpoint-root"} == {12, 16, 20, 24, 28, 32, 36, 40}


def test_non_canonical_and_unknown_leaves(bulk):
    path = bulk / "ledger-leaves.jsonl.gz"
    lines = _read_gz(path)
    lines[1] = json.dumps(json.loads(lines[1])).encode()  # spaces: not canonical
    lines[2] = canonical_json({**json.loads(lines[2]), "kind": "gossip"})
    lines[4] = b"not json"
    _write_gz(path, lines)
    report = verify_bulk(bulk, [VKEY])
    codes = {(p.code, p.leaf) for p in report.problems}
    assert {("leaf-canonical", 1), ("leaf-kind", 2), ("leaf-json", 4)} <= codes


def test_checkpoint_signed_by_another_key_is_reported_by_size(tmp_path):
    log = Log().grow(40)
    record = log.checkpoints[4]  # size 20
    body = checkpoint_body(ORIGIN, 20, base64.b64decode(record["root"]))
    record["note"] = sign_note(body, ORIGIN, OTHER_KEY)
    directory = log.write(tmp_path / "bulk")
    report = verify_bulk(directory, [VKEY])
    [problem] = report.problems
    assert problem.code == "checkpoint-signature"
    assert problem.checkpoint == 20
    assert problem.message.startswith("checkpoint 20: unknown key")
    assert report.latest_size == 40


def test_checkpoint_with_wrong_origin_and_mismatched_record(tmp_path):
    log = Log().grow(8)
    log.checkpoints[0]["root"] = log.checkpoints[1]["root"]
    other = Log(origin="other.test/ledger").grow(8)
    log.checkpoints[1]["note"] = other.checkpoints[1]["note"]
    report = verify_bulk(log.write(tmp_path / "bulk"), [VKEY])
    messages = _messages(report)
    assert "checkpoint 4: the record says size 4" in messages
    assert "checkpoint 8: origin mismatch" in messages


def test_usage_and_io_errors(tmp_path):
    assert _run()[0] == 2
    code, _, err = _run("--bulk", str(tmp_path / "nothing"), "--key", VKEY)
    assert code == 2
    assert "missing file" in err
    Log().grow(4).write(tmp_path / "nokey", key_file=False)
    code, _, err = _run("--bulk", str(tmp_path / "nokey"))
    assert code == 2
    assert "no verifier key" in err
    code, _, err = _run("--bulk", str(tmp_path / "nokey"), "--key", "garbage")
    assert code == 2


def test_command_line_without_django(bulk):
    script = (
        "import sys, licita.ledger.verify as v\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'\n"
        f"sys.exit(v.main(['--bulk', {str(bulk)!r}, '--key', {VKEY!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT_DIR, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: 40 hojas")
    done = subprocess.run(
        [sys.executable, "-m", "licita.ledger.verify", "--bulk", str(bulk), "--json"],
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True


# ------------------------------------------------------------------------------------------------- witness


def test_witness_accepts_growth_and_detects_forks(tmp_path):
    state = tmp_path / "state" / "witness.json"
    state.parent.mkdir()
    log = Log().grow(20)
    directory = log.write(tmp_path / "v1")

    code, out, _ = _run("--bulk", str(directory), "--witness", str(state), "--key", VKEY)
    assert code == 0, out
    saved = json.loads(state.read_text())
    assert saved["size"] == 20
    assert saved["note"] == log.checkpoints[-1]["note"]
    assert saved["verifier_keys"] == [VKEY]

    # normal growth: accepted, state updated
    log.grow(13)
    log.checkpoint()
    log.write(tmp_path / "v2")
    result = witness(state, bulk=tmp_path / "v2")  # keys pinned in the state file
    assert (result.status, result.ok, result.saved) == ("advanced", True, True)
    assert json.loads(state.read_text())["size"] == 33
    before = state.read_bytes()

    # same size, different root: FORK, state untouched
    fork = Log()
    fork.grow(32)
    fork.add({"kind": "outage", "note": "rewritten history"})
    fork.checkpoint()
    fork.write(tmp_path / "fork")
    code, out, _ = _run("--bulk", str(tmp_path / "fork"), "--witness", str(state), "--key", VKEY)
    assert code == 1
    assert out.startswith("FORK")
    assert log.checkpoints[-1]["note"].rstrip("\n") in out
    assert fork.checkpoints[-1]["note"].rstrip("\n") in out
    assert state.read_bytes() == before

    # a shorter log: FORK, state untouched
    code, out, _ = _run("--bulk", str(tmp_path / "v1"), "--witness", str(state))
    assert code == 1
    assert "FORK" in out
    assert "shrank" in out
    assert state.read_bytes() == before

    # a longer log that does not extend ours: FORK
    other = Log()
    other.add({"kind": "outage"})
    other.grow(40)
    other.checkpoint()
    result = witness(state, bulk=other.write(tmp_path / "other"))
    assert result.status == "fork"
    assert not result.saved
    assert state.read_bytes() == before

    # a checkpoint signed by another key: refused, not saved
    bad = Log(key=OTHER_KEY).grow(40)
    result = witness(state, bulk=bad.write(tmp_path / "bad"))
    assert (result.status, result.saved) == ("invalid", False)
    assert "unknown key" in result.message
    assert state.read_bytes() == before
    assert not list(state.parent.glob("*.tmp"))


# ---------------------------------------------------------------------------------------- URL mode (stub API)


class _Api(BaseHTTPRequestHandler):
    log: Log

    def log_message(self, *args):  # quiet
        pass

    def _send(self, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        log = self.log
        get = lambda level, index: log.nodes[level, index]  # noqa: E731
        if url.path == "/api/ledger/key":
            doc = {"origin": ORIGIN, "verifier_keys": [VKEY]}
        elif url.path == "/api/ledger/leaves":
            start, limit = int(q["start"]), int(q["limit"])
            leaves = [
                {"index": i, "data": log.leaves[i].decode()} for i in range(start, min(start + limit, len(log.leaves)))
            ]
            nxt = start + len(leaves) if start + len(leaves) < len(log.leaves) else None
            doc = {"size": len(log.leaves), "leaves": leaves, "next": nxt}
        elif url.path == "/api/ledger/checkpoints":
            after, limit = int(q["after"]), int(q["limit"])
            items = [c for c in log.checkpoints if c["size"] > after][:limit]
            more = items and any(c["size"] > items[-1]["size"] for c in log.checkpoints)
            doc = {"checkpoints": items, "next": items[-1]["size"] if more else None}
        elif url.path == "/api/ledger/checkpoint":
            self._send(log.checkpoints[-1]["note"].encode(), "text/plain; charset=utf-8")
            return
        elif url.path == "/api/ledger/proof/consistency":
            m, n = int(q["first"]), int(q["second"])
            doc = {"first": m, "second": n, "proof": [_b64(h) for h in merkle.consistency_proof(m, n, get)]}
        elif url.path == "/api/ledger/proof/inclusion":
            i, n = int(q["index"]), int(q["size"])
            proof = merkle.inclusion_proof(i, n, get)
            doc = {"index": i, "size": n, "leaf_hash": _b64(log.nodes[0, i]), "proof": [_b64(h) for h in proof]}
        elif url.path == "/api/ocds/feed":
            cursor = int(q.get("cursor", "0"))
            page = log.releases[cursor : cursor + 5]
            doc = {"releases": page, "next_cursor": str(cursor + 5) if cursor + 5 < len(log.releases) else None}
        else:
            self.send_error(404)
            return
        self._send(json.dumps(doc).encode())


@pytest.fixture
def api():
    log = Log().grow(37)
    log.checkpoint()
    handler = type("Api", (_Api,), {"log": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield log, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_mode_and_url_witness(api, tmp_path):
    log, url = api
    report = verify_url(url, page_size=7)
    assert report.ok, _messages(report)
    assert report.trusted_on_first_use
    assert (report.leaves, report.releases, report.latest_size) == (37, 13, 37)
    assert report.consistency_proofs == 9  # between the 10 distinct checkpoint sizes
    assert report.inclusion_proofs == 3

    # the server rewrites a leaf: roots and proofs no longer agree with the signed checkpoints
    log.leaves[6] = canonical_json({**json.loads(log.leaves[6]), "at": "2027-01-01T00:00:00Z"})
    report = verify_url(url, [VKEY])
    assert {p.checkpoint for p in report.problems if p.code == "checkpoint-root"} >= {8, 36, 37}

    state = tmp_path / "w.json"
    assert _run("--url", url, "--witness", str(state))[0] == 0
    log.grow(10)
    log.checkpoint()
    code, out, _ = _run("--url", url, "--witness", str(state), "--json")
    assert code == 0, out
    assert json.loads(out)["status"] == "advanced"
    assert json.loads(state.read_text())["size"] == 47
