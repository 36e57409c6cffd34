r"""Standalone verifier of Licita's ledger: ``python -m licita.ledger.verify --bulk DIR | --url URL``.

Needs only the standard library, `cryptography` and the Django-free modules `merkle`, `note` and `canonical`
of this package: copy the four files (and `licita/__init__.py`, `licita/ledger/__init__.py`) anywhere and run.

Sources
  --bulk DIR   ``ledger-leaves.jsonl.gz`` (one leaf per line: the line without its "\n" is the leaf's data,
               canonical JSON), ``ledger-checkpoints.jsonl.gz`` (one {"size", "root", "note"} per line),
               optionally ``releases.jsonl.gz`` (OCDS release packages, one per line) and ``ledger-key.txt``
               (verifier keys, one per line, "#" comments).
  --url URL    the platform's JSON API (/api/ledger/key, /leaves, /checkpoints, /checkpoint,
               /proof/consistency, /proof/inclusion and /api/ocds/feed).

Checks: every leaf is canonical JSON whose "index" is its position; the Merkle root recomputed from the
leaves (one streaming pass) equals every checkpoint's root at its size; every checkpoint is signed by a
trusted key and has the log's origin; in URL mode the server's consistency proofs between consecutive
checkpoints and a few inclusion proofs verify too; every published release has a release leaf with the same
id and SHA-256.

Witness mode (``--witness STATE_FILE``): compare the latest checkpoint with the last one seen, stored in
STATE_FILE, and report FORK (exit 1, state untouched) if the log does not extend it.

Exit status: 0 everything verifies, 1 something does not, 2 usage or input/output error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import gzip
import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from licita.ledger.canonical import canonical_text, release_digest
from licita.ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    roots_at,
    verify_consistency,
    verify_inclusion,
)
from licita.ledger.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_note,
    parse_checkpoint_body,
    parse_note,
    parse_verifier_key,
)

__all__ = [
    "CHECKPOINTS_FILE",
    "KEY_FILE",
    "LEAF_KINDS",
    "LEAVES_FILE",
    "RELEASES_FILE",
    "Problem",
    "Report",
    "VerifyError",
    "WitnessReport",
    "main",
    "verify_bulk",
    "verify_url",
    "witness",
]

LEAVES_FILE = "ledger-leaves.jsonl.gz"
CHECKPOINTS_FILE = "ledger-checkpoints.jsonl.gz"
RELEASES_FILE = "releases.jsonl.gz"
KEY_FILE = "ledger-key.txt"
LEAF_KINDS = frozenset({"release", "document", "bid_receipt", "key_share", "outage"})

MAX_PROBLEMS = 1000  # kept in the report; the rest are counted
PROGRESS_EVERY = 100_000
PAGE_SIZE = 1000
INCLUSION_SAMPLES = 3
USER_AGENT = "licita-verify/1"

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_sha256 = hashlib.sha256

Progress = Callable[[str], None]


class VerifyError(Exception):
    """Usage or input/output error: the verification could not be carried out (exit status 2)."""


# ---------------------------------------------------------------------------------------------------- report


@dataclass
class Problem:
    """One failed check, with the place it was found."""

    code: str
    message: str
    leaf: int | None = None
    checkpoint: int | None = None
    release_id: str | None = None
    ocid: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        for name in ("leaf", "checkpoint", "release_id", "ocid"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class Report:
    """What a verification found. `ok` is True when no check failed."""

    mode: str
    source: str
    origin: str | None = None
    keys: list[str] = field(default_factory=list)
    trusted_on_first_use: bool = False
    leaves: int = 0
    checkpoints: int = 0
    releases: int = 0
    release_leaves: int = 0
    consistency_proofs: int = 0
    inclusion_proofs: int = 0
    latest_size: int | None = None
    latest_root: bytes | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, code: str, message: str, **where: Any) -> Problem:
        problem = Problem(code, message, **where)
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        return problem

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "mode": self.mode,
            "source": self.source,
            "origin": self.origin,
            "keys": self.keys,
            "trusted_on_first_use": self.trusted_on_first_use,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "releases": self.releases,
            "release_leaves": self.release_leaves,
            "consistency_proofs": self.consistency_proofs,
            "inclusion_proofs": self.inclusion_proofs,
            "latest": None
            if self.latest_size is None or self.latest_root is None
            else {"size": self.latest_size, "root": _b64(self.latest_root)},
            "problem_count": self.problem_count,
            "problems": [p.to_json() for p in self.problems],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }

    def summary(self, limit: int = 50) -> str:
        counts = (
            f"{self.leaves:,} hojas / leaves, {self.checkpoints:,} checkpoints, "
            f"{self.releases:,} publicaciones / releases"
        )
        if self.mode == "url":
            counts += f", {self.consistency_proofs:,} + {self.inclusion_proofs:,} pruebas / proofs"
        lines = []
        if self.ok:
            lines.append(f"OK: {counts} ({self.seconds:.1f} s)")
        else:
            lines.append(
                f"FALLO / FAILED: {self.problem_count:,} problemas / problems; {counts} ({self.seconds:.1f} s)"
            )
        if self.latest_size is not None and self.latest_root is not None:
            lines.append(
                f"último checkpoint verificado / latest verified checkpoint: {self.origin} "
                f"tamaño / size {self.latest_size:,} raíz / root {_b64(self.latest_root)}"
            )
        if self.keys:
            tofu = " (confiadas en el primer uso / trusted on first use)" if self.trusted_on_first_use else ""
            lines.append(f"claves / keys{tofu}: " + ", ".join(self.keys))
        lines.extend(f"  aviso / warning: {w}" for w in self.warnings)
        lines.extend(f"  - {p.message}" for p in self.problems[:limit])
        if self.problem_count > min(limit, len(self.problems)):
            lines.append(f"  ... y / and {self.problem_count - min(limit, len(self.problems)):,} más / more")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- checkpoints


@dataclass
class _Cp:
    size: int
    root: bytes
    label: str
    checkpoint: Checkpoint | None  # set when the signature verified


def _parse_keys(keys: Iterable[str | Verifier]) -> list[Verifier]:
    verifiers = []
    for key in keys:
        if isinstance(key, Verifier):
            verifiers.append(key)
            continue
        try:
            verifiers.append(parse_verifier_key(key))
        except NoteError as exc:
            raise VerifyError(f"bad verifier key: {exc}") from exc
    return verifiers


def _key_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


class _Checkpoints:
    """Checks the checkpoint records (fields, note syntax, origin, signature) and keeps them by size."""

    def __init__(self, report: Report, verifiers: Sequence[Verifier], origin: str | None) -> None:
        self.report = report
        self.verifiers = verifiers
        self.origin = origin
        self.by_size: dict[int, _Cp] = {}

    def add_record(self, record: Any, where: str) -> None:
        report = self.report
        report.checkpoints += 1
        if not isinstance(record, dict):
            report.add("checkpoint-malformed", f"{where}: not a JSON object")
            return
        size, root_text, text = record.get("size"), record.get("root"), record.get("note")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            report.add("checkpoint-malformed", f'{where}: "size" is {size!r}, not a non-negative integer')
            return
        root: bytes | None = None
        if isinstance(root_text, str):
            with contextlib.suppress(binascii.Error, ValueError):
                root = binascii.a2b_base64(root_text.encode("ascii"), strict_mode=True)
        if root is None or len(root) != 32:
            report.add(
                "checkpoint-malformed", f'checkpoint {size}: "root" is not the base64 of 32 bytes', checkpoint=size
            )
            return
        if not isinstance(text, str):
            report.add("checkpoint-malformed", f'checkpoint {size}: no "note" text', checkpoint=size)
            return
        self.add_note(text, f"checkpoint {size}", size=size, root=root)

    def add_note(self, text: str, label: str, *, size: int | None = None, root: bytes | None = None) -> _Cp | None:
        """Check one signed checkpoint note; `size`/`root` are the record's own fields, if any."""
        report = self.report
        try:
            body = parse_note(text).body
            origin, note_size, note_root, extensions = parse_checkpoint_body(body)
        except NoteError as exc:
            report.add("checkpoint-malformed", f"{label}: {exc}", checkpoint=size)
            if size is None or root is None:
                return None
            return self._keep(_Cp(size, root, label, None))
        if size is not None and root is not None and (size, root) != (note_size, note_root):
            report.add(
                "checkpoint-mismatch",
                f"{label}: the record says size {size:,} root {_b64(root)} but its signed note says size "
                f"{note_size:,} root {_b64(note_root)}",
                checkpoint=size,
            )
        label = f"checkpoint {note_size}" if label.startswith("checkpoint ") else label
        if self.origin is None:
            self.origin = origin
            report.origin = origin
        elif origin != self.origin:
            report.add(
                "checkpoint-origin",
                f"{label}: origin mismatch: {origin!r}, expected {self.origin!r}",
                checkpoint=note_size,
            )
        checkpoint = None
        try:
            note = open_note(text, self.verifiers)
        except NoteError as exc:
            report.add("checkpoint-signature", f"{label}: {exc}", checkpoint=note_size)
        else:
            checkpoint = Checkpoint(origin, note_size, note_root, extensions, note.verified_by, text)
        return self._keep(_Cp(note_size, note_root, label, checkpoint))

    def _keep(self, cp: _Cp) -> _Cp:
        known = self.by_size.get(cp.size)
        if known is None:
            self.by_size[cp.size] = cp
        elif known.root != cp.root:
            self.report.add(
                "checkpoint-fork",
                f"checkpoint {cp.size}: two checkpoints of this size have different roots, {_b64(known.root)} "
                f"and {_b64(cp.root)} (a fork)",
                checkpoint=cp.size,
            )
        elif known.checkpoint is None and cp.checkpoint is not None:
            self.by_size[cp.size] = cp
        return self.by_size[cp.size]

    def targets(self) -> dict[int, list[_Cp]]:
        return {size: [cp] for size, cp in self.by_size.items()}


# ------------------------------------------------------------------------------------------------ leaf pass


def _fold(stack: Sequence[bytes]) -> bytes:
    if not stack:
        return EMPTY_ROOT
    root = stack[-1]
    for h in reversed(stack[:-1]):
        root = _sha256(b"\x01" + h + root).digest()
    return root


@dataclass
class _Run:
    problem: Problem
    offset: int
    last: int
    count: int = 0


def _release_key(ocid: str, release_id: str) -> bytes:
    return hashlib.blake2b(f"{ocid}\x00{release_id}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _LeafPass:
    """One streaming pass over the leaves: hashes, tree, per-leaf checks and the roots at checkpoint sizes."""

    def __init__(
        self,
        report: Report,
        targets: Mapping[int, Sequence[_Cp]],
        *,
        index_releases: bool,
        keep: Collection[int] = (),
        progress: Progress | None = None,
    ) -> None:
        self.report = report
        self.targets = targets
        self.index_releases = index_releases
        self.keep = frozenset(keep)
        self.kept: dict[int, bytes] = {}
        self.progress = progress
        self.size = 0
        self.stack: list[bytes] = []
        self.roots: dict[int, bytes] = {}
        self.started = time.monotonic()
        # Leaves whose "index" is not their position, and the indices they claim (bitmaps), runs and jumps.
        self._oop_pos = bytearray()
        self._oop_idx = bytearray()
        self._last_oop: tuple[int, int] | None = None
        self._run: _Run | None = None
        self._jumps: list[tuple[int, int]] = []
        # Release leaves: key (ocid, id) -> ordinal; position and digest by ordinal; matched flags.
        self._releases: dict[bytes, int] = {}
        self._release_pos = array("q")
        self._release_digest = bytearray()
        self._release_matched = bytearray()

    # -- the hot loop

    def run(self, leaves: Iterable[bytes]) -> None:
        report = self.report
        sha = _sha256
        decode = json.JSONDecoder().decode
        canon = canonical_text
        kinds = LEAF_KINDS
        stack = self.stack
        push, pop = stack.append, stack.pop
        keep = self.keep
        sizes = sorted(s for s in self.targets if s > self.size)
        if self.size == 0 and 0 in self.targets:
            self._at_target(0)
        ti = 0
        next_target = sizes[0] if sizes else -1
        next_progress = (self.size // PROGRESS_EVERY + 1) * PROGRESS_EVERY if self.progress else -1
        n = self.size
        for data in leaves:
            h = sha(b"\x00" + data).digest()
            if keep and n in keep:
                self.kept[n] = h
            m = n
            while m & 1:
                h = sha(b"\x01" + pop() + h).digest()
                m >>= 1
            push(h)
            try:
                text = data.decode("utf-8")
                obj = decode(text)
            except (ValueError, RecursionError) as exc:
                report.add("leaf-json", f"leaf {n}: not JSON ({exc})", leaf=n)
            else:
                if obj.__class__ is not dict:
                    report.add("leaf-json", f"leaf {n}: not a JSON object", leaf=n)
                else:
                    try:
                        same = canon(obj) == text
                    except (ValueError, RecursionError):
                        same = False
                    if not same:
                        report.add(
                            "leaf-canonical",
                            f"leaf {n}: not canonical JSON (re-serialising it gives different bytes)",
                            leaf=n,
                        )
                    idx = obj.get("index")
                    if idx.__class__ is not int or idx != n:
                        self._bad_index(n, idx)
                    kind = obj.get("kind")
                    if kind == "release":
                        self._release_leaf(n, obj)
                    elif kind.__class__ is not str or kind not in kinds:
                        report.add("leaf-kind", f"leaf {n}: unknown kind {kind!r}", leaf=n)
            n += 1
            if n == next_target:
                self.size = n
                self._at_target(n)
                ti += 1
                next_target = sizes[ti] if ti < len(sizes) else -1
            if n == next_progress:
                next_progress += PROGRESS_EVERY
                if self.progress:
                    elapsed = time.monotonic() - self.started
                    self.progress(f"... {n:,} hojas / leaves ({elapsed:.1f} s)")
        self.size = n

    def _at_target(self, n: int) -> None:
        root = _fold(self.stack)
        self.roots[n] = root
        for cp in self.targets.get(n, ()):
            if cp.root != root:
                self.report.add(
                    "checkpoint-root",
                    f"{cp.label}: root {_b64(cp.root)} but the leaves give {_b64(root)}",
                    checkpoint=n,
                )

    # -- slow paths

    @staticmethod
    def _mark(bits: bytearray, i: int) -> None:
        if i >= len(bits):
            bits.extend(bytes(max(i + 1 - len(bits), len(bits), 1024)))
        bits[i] = 1

    def _bad_index(self, n: int, idx: Any) -> None:
        self._mark(self._oop_pos, n)
        prev = self._last_oop[1] if self._last_oop and self._last_oop[0] == n - 1 else n - 1
        if idx.__class__ is not int:
            self._close_run()
            self.report.add("leaf-index", f'leaf {n}: its "index" is {idx!r}, not an integer', leaf=n)
            self._last_oop = (n, -2)
            return
        self._last_oop = (n, idx)
        if 0 <= idx <= 2 * n + 1_000_000:
            self._mark(self._oop_idx, idx)
        if idx > prev + 1 and len(self._jumps) < 100_000:
            self._jumps.append((prev, idx))
        run = self._run
        if run is not None and run.offset == idx - n and run.last == n - 1:
            run.last = n
            run.count += 1
            return
        self._close_run()
        problem = self.report.add("leaf-index", f"leaf {n} says index {idx}", leaf=n)
        self._run = _Run(problem, idx - n, n)

    def _close_run(self) -> None:
        run = self._run
        if run is not None and run.count:
            run.problem.message += (
                f" (and the {run.count:,} leaves after it, up to leaf {run.last:,}, are off by {run.offset:+,} too)"
            )
        self._run = None

    def _release_leaf(self, n: int, obj: dict[str, Any]) -> None:
        ocid, release_id, digest = obj.get("ocid"), obj.get("release_id"), obj.get("sha256")
        if not (
            isinstance(ocid, str) and isinstance(release_id, str) and isinstance(digest, str) and _HEX64.match(digest)
        ):
            self.report.add(
                "leaf-release",
                f'leaf {n}: a release leaf needs "ocid", "release_id" and "sha256" (64 lowercase hex digits)',
                leaf=n,
            )
            return
        self.report.release_leaves += 1
        if not self.index_releases:
            return
        key = _release_key(ocid, release_id)
        known = self._releases.get(key)
        if known is not None:
            first = self._release_pos[known]
            if self._release_digest[known * 32 : known * 32 + 32] == bytes.fromhex(digest):
                self.report.warnings.append(
                    f"release {release_id} of ocid {ocid} is logged twice, identically (leaves {first} and {n})"
                )
            else:
                self.report.add(
                    "release-duplicate",
                    f"release {release_id} of ocid {ocid}: logged twice with different contents (leaves {first} and {n})",
                    leaf=n,
                    release_id=release_id,
                    ocid=ocid,
                )
            return
        self._releases[key] = len(self._release_pos)
        self._release_pos.append(n)
        self._release_digest += bytes.fromhex(digest)
        self._release_matched.append(0)

    # -- after the pass

    def finish(self) -> None:
        report = self.report
        n = self.size
        report.leaves = n
        self._close_run()
        self._report_missing(n)
        for size in sorted(self.targets):
            if size > n:
                for cp in self.targets[size]:
                    report.add(
                        "checkpoint-beyond-log",
                        f"{cp.label}: the log has only {n:,} leaves",
                        checkpoint=size,
                    )
        good = [
            size
            for size, cps in self.targets.items()
            if size in self.roots and all(cp.checkpoint is not None and cp.root == self.roots[size] for cp in cps)
        ]
        if good:
            latest = max(good)
            report.latest_size, report.latest_root = latest, self.roots[latest]
            if n > latest:
                report.warnings.append(
                    f"{n - latest:,} hojas / leaves after the latest verified checkpoint ({latest:,}) are not covered "
                    "by a signed checkpoint yet"
                )

    def _report_missing(self, n: int) -> None:
        pos, idx = self._oop_pos, self._oop_idx
        missing: list[int] = []
        k = pos.find(1)
        while 0 <= k < n:
            if not (k < len(idx) and idx[k]):
                missing.append(k)
            k = pos.find(1, k + 1)
        ranges: list[list[int]] = []
        for k in missing:
            if ranges and ranges[-1][1] == k - 1:
                ranges[-1][1] = k
            else:
                ranges.append([k, k])
        for first, last in ranges:
            what = f"leaf {first} missing" if first == last else f"leaves {first}-{last} missing"
            jump = next((j for j in self._jumps if j[0] < first and last < j[1]), None)
            if jump:
                message = f"{what}: the log jumps from index {jump[0]} to {jump[1]}"
            else:
                message = f"{what}: no leaf says index {first}"
            self.report.add("leaf-missing", message, leaf=first)

    def check_release(self, release: Any, where: str) -> None:
        report = self.report
        report.releases += 1
        if not isinstance(release, dict):
            report.add("release-malformed", f"{where}: not a JSON object")
            return
        ocid, release_id = release.get("ocid"), release.get("id")
        if not isinstance(ocid, str) or not isinstance(release_id, str):
            report.add("release-malformed", f'{where}: a release without a string "ocid" and "id"')
            return
        try:
            digest = bytes.fromhex(release_digest(release))
        except (ValueError, RecursionError) as exc:
            report.add(
                "release-malformed",
                f"release {release_id} of ocid {ocid}: cannot be hashed ({exc})",
                release_id=release_id,
                ocid=ocid,
            )
            return
        ordinal = self._releases.get(_release_key(ocid, release_id))
        if ordinal is None:
            report.add(
                "release-missing",
                f"release {release_id} of ocid {ocid}: not in the log",
                release_id=release_id,
                ocid=ocid,
            )
            return
        self._release_matched[ordinal] = 1
        logged = bytes(self._release_digest[ordinal * 32 : ordinal * 32 + 32])
        if logged != digest:
            position = self._release_pos[ordinal]
            report.add(
                "release-differs",
                f"release {release_id} of ocid {ocid}: differs from leaf {position} (the leaf has sha256 "
                f"{logged.hex()}, the release hashes to {digest.hex()})",
                leaf=position,
                release_id=release_id,
                ocid=ocid,
            )

    def unmatched_release_leaves(self) -> tuple[int, int | None]:
        count = self._release_matched.count(0)
        first = self._release_matched.find(0)
        return count, (self._release_pos[first] if first >= 0 else None)


# --------------------------------------------------------------------------------------------------- readers


def _gz_lines(path: Path) -> Iterator[bytes]:
    r"""Lines of a gzip file without their trailing "\n" (read errors become VerifyError)."""
    try:
        with gzip.open(path, "rb") as f:
            for line in f:
                yield line[:-1] if line.endswith(b"\n") else line
    except (OSError, EOFError, zlib.error) as exc:
        raise VerifyError(f"cannot read {path}: {exc}") from exc


def _gz_json(path: Path, report: Report, what: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(_gz_lines(path), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, RecursionError) as exc:
            report.add(f"{what}-malformed", f"line {number} of {path.name}: not JSON ({exc})")


class _Http:
    def __init__(self, base: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise VerifyError(f"not an http(s) URL: {base!r}")
        self.base = base.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, **params: Any) -> bytes:
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked in __init__
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - idem
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            raise VerifyError(f"GET {url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise VerifyError(f"GET {url}: {exc}") from exc

    def json(self, path: str, **params: Any) -> Any:
        body = self.get(path, **params)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise VerifyError(f"GET {path}: the answer is not JSON ({exc})") from exc

    def json_object(self, path: str, **params: Any) -> dict[str, Any]:
        data = self.json(path, **params)
        if not isinstance(data, dict):
            raise VerifyError(f"GET {path}: the answer is not a JSON object")
        return data


def _next_int(value: Any, previous: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= previous:
        raise VerifyError(f'{what}: "next" is {value!r}, which does not move forward from {previous}')
    return value


# ------------------------------------------------------------------------------------------------ bulk mode


def _resolve_keys(
    keys: Iterable[str | Verifier] | None, fallback: Callable[[], list[str]], report: Report, where: str
) -> list[Verifier]:
    given = list(keys or ())
    if given:
        verifiers = _parse_keys(given)
    else:
        verifiers = _parse_keys(fallback())
        if not verifiers:
            raise VerifyError(f"no verifier key: pass --key, or provide {where}")
        report.trusted_on_first_use = True
        report.warnings.append(
            f"las claves de {where} se confiaron en el primer uso / the keys from {where} were trusted on first use"
        )
    report.keys = [v.key for v in verifiers]
    return verifiers


def verify_bulk(
    path: str | os.PathLike[str],
    keys: Iterable[str | Verifier] | None = None,
    *,
    origin: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Verify a bulk directory (see the module docstring). Raises VerifyError on missing or unreadable files."""
    started = time.monotonic()
    directory = Path(path)
    report = Report(mode="bulk", source=str(directory), origin=origin)
    leaves_path, checkpoints_path = directory / LEAVES_FILE, directory / CHECKPOINTS_FILE
    releases_path, key_path = directory / RELEASES_FILE, directory / KEY_FILE
    for required in (leaves_path, checkpoints_path):
        if not required.is_file():
            raise VerifyError(f"missing file {required}")

    def key_file() -> list[str]:
        try:
            return _key_lines(key_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise VerifyError(f"cannot read {key_path}: {exc}") from exc

    verifiers = _resolve_keys(keys, key_file, report, KEY_FILE)
    checkpoints = _Checkpoints(report, verifiers, origin)
    for number, record in _gz_json(checkpoints_path, report, "checkpoint"):
        checkpoints.add_record(record, f"line {number} of {CHECKPOINTS_FILE}")

    has_releases = releases_path.is_file()
    leaf_pass = _LeafPass(report, checkpoints.targets(), index_releases=has_releases, progress=progress)
    leaf_pass.run(_gz_lines(leaves_path))
    leaf_pass.finish()
    if has_releases:
        for number, package in _gz_json(releases_path, report, "release"):
            releases = package.get("releases") if isinstance(package, dict) else None
            if not isinstance(releases, list):
                report.add("release-malformed", f"line {number} of {RELEASES_FILE}: not a release package")
                continue
            for i, release in enumerate(releases):
                leaf_pass.check_release(release, f"release {i} of line {number} of {RELEASES_FILE}")
        _warn_unmatched(leaf_pass, report, RELEASES_FILE)
    report.seconds = time.monotonic() - started
    return report


def _warn_unmatched(leaf_pass: _LeafPass, report: Report, where: str) -> None:
    count, first = leaf_pass.unmatched_release_leaves()
    if count:
        report.warnings.append(f"{count:,} release leaves have no release in {where} (the first is leaf {first})")


# ------------------------------------------------------------------------------------------------- URL mode


def _url_leaves(http: _Http, report: Report, page_size: int) -> Iterator[bytes]:
    start: int | None = 0
    expected = 0
    while start is not None:
        doc = http.json_object("/api/ledger/leaves", start=start, limit=page_size)
        leaves = doc.get("leaves")
        if not isinstance(leaves, list):
            raise VerifyError(f'GET /api/ledger/leaves?start={start}: no "leaves" list')
        if not leaves:
            break
        for item in leaves:
            data = item.get("data") if isinstance(item, dict) else None
            if not isinstance(data, str):
                raise VerifyError(f'GET /api/ledger/leaves?start={start}: a leaf without a "data" string')
            index = item.get("index")
            if index != expected:
                report.add(
                    "server-leaf-order",
                    f"leaf {expected}: the server listed it as index {index!r}",
                    leaf=expected,
                )
            expected += 1
            yield data.encode("utf-8", "surrogatepass")
        start = _next_int(doc.get("next"), start, f"GET /api/ledger/leaves?start={start}")


def verify_url(
    url: str,
    keys: Iterable[str | Verifier] | None = None,
    *,
    origin: str | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
    page_size: int = PAGE_SIZE,
) -> Report:
    """Verify a running platform through its API (see the module docstring). Raises VerifyError on HTTP errors."""
    started = time.monotonic()
    http = _Http(url, timeout)
    report = Report(mode="url", source=http.base, origin=origin)
    key_doc = http.json_object("/api/ledger/key")
    if origin is None and isinstance(key_doc.get("origin"), str):
        origin = report.origin = key_doc["origin"]
    server_keys = key_doc.get("verifier_keys")
    server_keys = [k for k in server_keys if isinstance(k, str)] if isinstance(server_keys, list) else []
    verifiers = _resolve_keys(keys, lambda: server_keys, report, f"{http.base}/api/ledger/key")

    checkpoints = _Checkpoints(report, verifiers, origin)
    after: int | None = 0
    while after is not None:
        doc = http.json_object("/api/ledger/checkpoints", after=after, limit=page_size)
        items = doc.get("checkpoints")
        if not isinstance(items, list):
            raise VerifyError(f'GET /api/ledger/checkpoints?after={after}: no "checkpoints" list')
        if not items:
            break
        for item in items:
            checkpoints.add_record(item, "a checkpoint of /api/ledger/checkpoints")
        after = _next_int(doc.get("next"), after, f"GET /api/ledger/checkpoints?after={after}")
    latest_text = http.get("/api/ledger/checkpoint")
    try:
        latest_note = latest_text.decode("utf-8")
    except UnicodeDecodeError:
        report.add("checkpoint-malformed", "latest checkpoint (/api/ledger/checkpoint): not UTF-8")
        latest = None
    else:
        report.checkpoints += 1
        latest = checkpoints.add_note(latest_note, "latest checkpoint (/api/ledger/checkpoint)")

    samples: set[int] = set()
    if latest is not None and latest.size:
        samples = {0, latest.size // 2, latest.size - 1}
    leaf_pass = _LeafPass(report, checkpoints.targets(), index_releases=True, keep=samples, progress=progress)
    leaf_pass.run(_url_leaves(http, report, page_size))
    leaf_pass.finish()

    # The server's own proofs: consistency between consecutive checkpoints, inclusion of a few leaves.
    ordered = [cp for size, cp in sorted(checkpoints.by_size.items()) if size > 0]
    for first, second in itertools.pairwise(ordered):
        doc = http.json_object("/api/ledger/proof/consistency", first=first.size, second=second.size)
        report.consistency_proofs += 1
        try:
            _check_consistency_answer(doc, first, second)
        except ProofError as exc:
            report.add(
                "consistency-proof",
                f"checkpoints {first.size} -> {second.size}: the server's consistency proof fails: {exc}",
                checkpoint=second.size,
            )
    if latest is not None:
        for index in sorted(samples):
            if index not in leaf_pass.kept:
                continue
            doc = http.json_object("/api/ledger/proof/inclusion", index=index, size=latest.size)
            report.inclusion_proofs += 1
            try:
                _check_inclusion_answer(doc, index, leaf_pass.kept[index], latest)
            except ProofError as exc:
                report.add(
                    "inclusion-proof",
                    f"leaf {index} in checkpoint {latest.size}: the server's inclusion proof fails: {exc}",
                    leaf=index,
                    checkpoint=latest.size,
                )

    cursor: str | None = None
    count = 0
    while True:
        doc = http.json_object("/api/ocds/feed", cursor=cursor)
        releases = doc.get("releases")
        if not isinstance(releases, list):
            raise VerifyError('GET /api/ocds/feed: no "releases" list')
        for release in releases:
            count += 1
            leaf_pass.check_release(release, f"release {count} of the feed")
        next_cursor = doc.get("next_cursor")
        if not releases or next_cursor is None:
            break
        if not isinstance(next_cursor, str) or next_cursor == cursor:
            raise VerifyError(f'GET /api/ocds/feed: "next_cursor" {next_cursor!r} does not move forward')
        cursor = next_cursor
    if count:
        _warn_unmatched(leaf_pass, report, "/api/ocds/feed")
    report.seconds = time.monotonic() - started
    return report


def _check_consistency_answer(doc: Mapping[str, Any], first: _Cp, second: _Cp) -> None:
    if (doc.get("first"), doc.get("second")) != (first.size, second.size):
        raise ProofError(f"the answer is for sizes {doc.get('first')!r} and {doc.get('second')!r}")
    verify_consistency(first.size, second.size, first.root, second.root, _proof(doc.get("proof")))


def _check_inclusion_answer(doc: Mapping[str, Any], index: int, leaf: bytes, checkpoint: _Cp) -> None:
    if (doc.get("index"), doc.get("size")) != (index, checkpoint.size):
        raise ProofError(f"the answer is for index {doc.get('index')!r} and size {doc.get('size')!r}")
    if _b64decode_proof(doc.get("leaf_hash")) != leaf:
        raise ProofError("the server's leaf hash is not the hash of the leaf it listed")
    verify_inclusion(index, checkpoint.size, leaf, _proof(doc.get("proof")), checkpoint.root)


def _b64decode_proof(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ProofError(f"{value!r} is not a base64 string")
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ProofError(f"{value[:60]!r} is not valid base64") from exc


def _proof(value: Any) -> list[bytes]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProofError("the proof is not a list")
    return [_b64decode_proof(v) for v in value]


# ------------------------------------------------------------------------------------------------- witness


@dataclass
class WitnessReport:
    """Outcome of a witness run. status: "first", "same", "advanced", "fork" or "invalid"."""

    status: str
    state_file: str
    message: str
    old: Checkpoint | None = None
    new: Checkpoint | None = None
    saved: bool = False
    trusted_on_first_use: bool = False

    @property
    def ok(self) -> bool:
        return self.status in {"first", "same", "advanced"}

    def to_json(self) -> dict[str, Any]:
        def cp(c: Checkpoint | None) -> dict[str, Any] | None:
            return None if c is None else {"origin": c.origin, "size": c.size, "root": c.root_b64, "note": c.text}

        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "state_file": self.state_file,
            "saved": self.saved,
            "trusted_on_first_use": self.trusted_on_first_use,
            "old": cp(self.old),
            "new": cp(self.new),
        }

    def summary(self) -> str:
        if self.status == "fork":
            lines = ["FORK", self.message]
            for label, c in (("anterior / previous", self.old), ("nuevo / new", self.new)):
                if c is not None:
                    lines += [f"--- checkpoint {label} ({c.size:,}):", c.text.rstrip("\n")]
            lines.append(f"(el estado no se modificó / state file not modified: {self.state_file})")
            return "\n".join(lines)
        head = "OK" if self.ok else "FALLO / FAILED"
        return f"{head}: {self.message}"


def _state_checkpoint(state: Mapping[str, Any]) -> Checkpoint:
    """Read the checkpoint stored in a state file: trusted as written (it was verified when it was saved)."""
    text = state.get("note")
    if not isinstance(text, str):
        raise VerifyError('the witness state file has no "note"')
    try:
        note = parse_note(text)
        origin, size, root, extensions = parse_checkpoint_body(note.body)
    except NoteError as exc:
        raise VerifyError(f"the witness state file holds a bad checkpoint: {exc}") from exc
    return Checkpoint(origin, size, root, extensions, tuple(s.name for s in note.signatures), text)


def _save_state(path: Path, data: Mapping[str, Any]) -> None:
    """Write the state file atomically: temporary file in the same folder, fsync, rename, fsync the folder."""
    directory = path.parent if str(path.parent) else Path()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _latest_bulk(directory: Path) -> str:
    best: tuple[int, str] | None = None
    path = directory / CHECKPOINTS_FILE
    if not path.is_file():
        raise VerifyError(f"missing file {path}")
    for line in _gz_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            size, text = record["size"], record["note"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(size, int) and isinstance(text, str) and (best is None or size > best[0]):
            best = (size, text)
    if best is None:
        raise VerifyError(f"no checkpoint in {path}")
    return best[1]


def witness(
    state_file: str | os.PathLike[str],
    *,
    url: str | None = None,
    bulk: str | os.PathLike[str] | None = None,
    keys: Iterable[str | Verifier] | None = None,
    origin: str | None = None,
    timeout: float = 60.0,
) -> WitnessReport:
    """Check that the latest checkpoint extends the one stored in `state_file`, and store it if so.

    Keys: `keys` if given, else the ones pinned in the state file, else (first run) the server's or the bulk
    dir's, trusted on first use. The state file is only written when the new checkpoint verifies and is
    consistent with the stored one.
    """
    if (url is None) == (bulk is None):
        raise VerifyError("witness needs exactly one of url or bulk")
    path = Path(state_file)
    state: dict[str, Any] | None = None
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VerifyError(f"cannot read the witness state file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise VerifyError(f"the witness state file {path} is not a JSON object")
        state = loaded
    old = _state_checkpoint(state) if state is not None else None

    http = _Http(url, timeout) if url is not None else None
    directory = Path(bulk) if bulk is not None else None
    tofu = False
    given: list[str | Verifier] = list(keys or ())
    if not given and state is not None and isinstance(state.get("verifier_keys"), list):
        given = [k for k in state["verifier_keys"] if isinstance(k, str)]
    if not given:
        tofu = True
        if http is not None:
            doc = http.json_object("/api/ledger/key")
            given = [k for k in doc.get("verifier_keys") or [] if isinstance(k, str)]
            if origin is None and old is None and isinstance(doc.get("origin"), str):
                origin = doc["origin"]
        elif directory is not None and (directory / KEY_FILE).is_file():
            given = [*_key_lines((directory / KEY_FILE).read_text(encoding="utf-8"))]
    verifiers = _parse_keys(given)
    if not verifiers:
        raise VerifyError("no verifier key: pass --key (or provide ledger-key.txt / /api/ledger/key)")
    if origin is None and old is not None:
        origin = old.origin

    if http is not None:
        try:
            text = http.get("/api/ledger/checkpoint").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerifyError("the latest checkpoint is not UTF-8") from exc
    else:
        assert directory is not None
        text = _latest_bulk(directory)

    report = WitnessReport("invalid", str(path), "", old=old, trusted_on_first_use=tofu)
    try:
        note = open_note(text, verifiers)
        new_origin, size, root, extensions = parse_checkpoint_body(note.body)
    except NoteError as exc:
        report.message = f"the latest checkpoint does not verify: {exc}"
        return report
    new = report.new = Checkpoint(new_origin, size, root, extensions, note.verified_by, text)
    if origin is not None and new.origin != origin:
        report.message = f"origin mismatch: the latest checkpoint is for {new.origin!r}, expected {origin!r}"
        return report

    if old is None:
        report.status, report.message = (
            "first",
            f"primer checkpoint guardado / first checkpoint stored: size {new.size:,}",
        )
    elif new.size < old.size:
        report.status = "fork"
        report.message = f"the log shrank: the latest checkpoint has size {new.size:,}, the stored one {old.size:,}"
    elif new.size == old.size:
        if new.root != old.root:
            report.status = "fork"
            report.message = f"two different roots for size {new.size:,}: {old.root_b64} (stored) and {new.root_b64}"
        else:
            report.status, report.message = "same", f"sin cambios / unchanged: size {new.size:,}"
    else:
        problem = _witness_consistency(old, new, http, directory)
        if problem:
            report.status, report.message = "fork", problem
        else:
            report.status = "advanced"
            report.message = f"consistente / consistent: size {old.size:,} -> {new.size:,}"
    if report.ok:
        _save_state(
            path,
            {
                "origin": new.origin,
                "size": new.size,
                "root": new.root_b64,
                "note": new.text,
                "verifier_keys": [v.key for v in verifiers],
                "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
        report.saved = True
    return report


def _witness_consistency(old: Checkpoint, new: Checkpoint, http: _Http | None, directory: Path | None) -> str | None:
    """None when `new` extends `old` (old.size < new.size), else what is wrong."""
    if old.size == 0:
        if old.root != EMPTY_ROOT:
            return f"the stored checkpoint of size 0 has root {old.root_b64}, not the empty tree's"
        return None
    if http is not None:
        doc = http.json_object("/api/ledger/proof/consistency", first=old.size, second=new.size)
        try:
            verify_consistency(old.size, new.size, old.root, new.root, _proof(doc.get("proof")))
        except ProofError as exc:
            return f"the consistency proof from {old.size:,} to {new.size:,} fails: {exc}"
        return None
    assert directory is not None
    hashes = (leaf_hash(line) for line in _gz_lines(directory / LEAVES_FILE))
    roots = dict(roots_at(hashes, [old.size, new.size]))
    for cp in (old, new):
        if cp.size not in roots:
            return f"the leaves file has fewer than {cp.size:,} leaves"
        if roots[cp.size] != cp.root:
            return (
                f"the leaves give root {_b64(roots[cp.size])} at size {cp.size:,}, the checkpoint says {cp.root_b64}"
            )
    return None


# ---------------------------------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m licita.ledger.verify",
        description="Verifica el registro (ledger) de Licita / verify Licita's ledger.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bulk", metavar="DIR", help="bulk directory (ledger-leaves.jsonl.gz, ...)")
    source.add_argument("--url", metavar="URL", help="base URL of the platform, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--key", action="append", default=[], metavar="VERIFIER_KEY", help="trusted verifier key (repeatable)"
    )
    parser.add_argument("--origin", help="expected checkpoint origin")
    parser.add_argument(
        "--witness", metavar="STATE_FILE", help="witness mode: check the latest checkpoint against STATE_FILE"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--timeout", type=float, default=60.0, help="HTTP timeout in seconds (default 60)")
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Command line entry point; returns the exit status (0 verified, 1 failed, 2 usage or I/O error)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2

    def progress(message: str) -> None:
        print(message, file=err, flush=True)

    try:
        if args.witness:
            result = witness(
                args.witness, url=args.url, bulk=args.bulk, keys=args.key, origin=args.origin, timeout=args.timeout
            )
            print(
                json.dumps(result.to_json(), ensure_ascii=False, indent=1) if args.json else result.summary(), file=out
            )
            return 0 if result.ok else 1
        prog = None if args.quiet else progress
        if args.bulk:
            report = verify_bulk(args.bulk, args.key, origin=args.origin, progress=prog)
        else:
            report = verify_url(args.url, args.key, origin=args.origin, progress=prog, timeout=args.timeout)
    except (VerifyError, OSError) as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False), file=out)
        print(f"ERROR: {exc}", file=err)
        return 2
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if args.json else report.summary(), file=out)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
