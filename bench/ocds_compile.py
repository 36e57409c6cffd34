"""OCDS compile: our incremental Compiler against ocdsmerge 0.8.0 on synthetic full-procedure releases.

Usage (from the project root)::

    .venv/bin/python bench/ocds_compile.py [--releases 20000] [--ocids 2000] [--seed 1] [--out-of-order 0.005]
        [--gc off|on] [--repeat 1] [--current-sample 100] [--no-record]

It generates N releases spread over the given number of procedures (ocids). Every release is a full
snapshot of its procedure, as the platform emits them: parties with roles, the tender with items, lots,
documents and amendments, bids.details, awards with items and suppliers, contracts with items, amendments
and implementation transactions, plus the project's `tender.mexico` and `publishedDate`. Each procedure
moves through planning, tender, amendments, bid opening, award, contract and implementation (one payment
or contract amendment per act); a fraction of releases (--out-of-order) is dated before the procedure's
latest release (acts recorded after the fact).

Then, in one run, timing CPU time of the merging only (the cyclic GC off by default, as timeit does):

* ours: `Compiler.add(state, release, history)` for each release of a procedure in emission order, one
  procedure after another, each from a fresh copy of its releases (as the platform has them: just built,
  or just read): what the platform does at every act. For information, also all releases interleaved
  across procedures with every state held in memory (same results; slower only for cache misses);
* ocdsmerge: `Merger(merge_rules=...)`, `create_compiled_release` and `create_versioned_release` once per
  procedure over all its releases (its fastest use: it has no incremental mode); and, on a sample, the
  way the platform would have to use it: all of a procedure's releases merged again at every release.

Both use the same rules: the OCDS 1.1.5 release schema patched with the bids extension and licita_mexico
(`licita.publication.schema.release_schema()` when it exists). It prints releases/s for each, the ratio
and the number of procedures whose compiled or versioned release differs (must be 0), and appends a row
to docs/benchmarks.md (append only). Exit status 1 if anything differs or the ratio is under 10.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gc
import itertools
import json
import os
import platform
import random
import sys
import time
import warnings
from pathlib import Path

import ocdsmerge

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from licita.publication.merge import Compiler, merge_rules  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## OCDS compile (bench/ocds_compile.py)"
TARGET = 10.0
SHARED = ROOT.parent / "shared" / "ocds"
SECTION_TEXT = f"""
{SECTION}

The platform keeps each procedure's compiled and versioned release current as releases are emitted
(`licita/publication/merge.py`: `Compiler.add`, one call per release). The benchmark merges N synthetic
full-procedure releases (parties, tender with items, lots, documents and amendments, bids, awards with items
and suppliers, contracts with amendments and payments; about 10 releases per procedure, a fraction of them
dated before the procedure's latest release) with it and with ocdsmerge 0.8.0 (`create_compiled_release` +
`create_versioned_release` once per procedure: ocdsmerge's fastest use, it has no incremental mode), same
merge rules (OCDS 1.1.5 + bids + licita_mexico), and checks that every compiled and versioned release is
`==` to ocdsmerge's (differences must be 0). Rates are releases per second of CPU time of the process,
timing only the merging; each procedure's releases are a fresh copy, as the platform has them. "ours,
interleaved" adds all releases in emission order with every procedure's state held in memory at once: the
same results, slower for cache misses only. "ocdsmerge kept current" is what using ocdsmerge the platform's
way would cost: all of a procedure's releases merged again at every release (timed on the first 100
procedures). Target: ours >= 10x ocdsmerge (the batch figure).

Run: `.venv/bin/python bench/ocds_compile.py` (`--releases`, `--ocids`, `--seed`, `--out-of-order`,
`--gc on|off`, `--repeat`, `--current-sample`, `--no-record`).

| Date | Machine | N releases / ocids | KiB/release | out of order | GC | ours (releases/s) | ours, interleaved | ocdsmerge (releases/s) | ratio | ocdsmerge kept current | differences (compiled / versioned) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""


def load_schema() -> tuple[dict, str]:
    try:
        from licita.publication.schema import release_schema  # noqa: PLC0415 (may not exist yet)

        return release_schema(), "licita.publication.schema.release_schema()"
    except ImportError:
        pass
    schema = json.loads((SHARED / "schema" / "1.1.5" / "release-schema.json").read_text(encoding="utf-8"))
    patches = [SHARED / "extensions" / "ocds_bid_extension" / "release-schema.json"]
    mexico = ROOT / "licita" / "publication" / "extensions" / "licita_mexico" / "release-schema.json"
    if mexico.is_file():
        patches.append(mexico)
    for path in patches:
        merge_patch(schema, json.loads(path.read_text(encoding="utf-8")))
    return schema, "1.1.5 + " + " + ".join(p.parent.name for p in patches)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


# --------------------------------------------------------------------------- synthetic data

WORDS = [
    "adquisición",
    "servicio",
    "suministro",
    "equipo",
    "cómputo",
    "mantenimiento",
    "preventivo",
    "correctivo",
    "vehículos",
    "papelería",
    "medicamentos",
    "material",
    "curación",
    "limpieza",
    "vigilancia",
    "obra",
    "pública",
    "rehabilitación",
    "carretera",
    "escuela",
    "hospital",
    "consultoría",
    "arrendamiento",
    "mobiliario",
    "software",
    "licencias",
    "capacitación",
    "uniformes",
    "combustible",
    "alimentos",
]
UNITS = [("H87", "Pieza"), ("KGM", "Kilogramo"), ("LTR", "Litro"), ("E48", "Servicio"), ("MTR", "Metro")]
STAGES = ["planning", "tender", "tenderAmendment", "tenderUpdate", "award", "contract", "implementation"]


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Procedure:
    """One synthetic procedure: its facts grow as acts happen; `release()` is a full snapshot."""

    def __init__(self, rng: random.Random, n: int, start: dt.datetime) -> None:
        self.rng = rng
        self.ocid = f"ocds-lic123-UC{n:05d}-E{rng.randint(1, 999):03d}-2026"
        self.n = 0
        self.clock = start
        self.stage = -1
        self.buyer = {"id": f"MX-UC-{rng.randint(100000, 999999)}", "name": "Unidad compradora " + text(rng, 3)}
        self.suppliers = [
            {
                "id": f"MX-RFC-{''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(3))}{rng.randint(100000, 999999)}XX{i}",
                "name": text(rng, 3).title() + " SA de CV",
            }
            for i in range(rng.randint(2, 8))
        ]
        self.lots = [
            {
                "id": f"lot-{i + 1}",
                "title": "Partida " + text(rng, 4),
                "status": "active",
                "value": {"amount": float(rng.randint(10_000, 5_000_000)), "currency": "MXN"},
            }
            for i in range(rng.randint(1, 4))
        ]
        self.items = []
        for i in range(rng.randint(2, 12)):
            code, unit = rng.choice(UNITS)
            self.items.append(
                {
                    "id": f"item-{i + 1}",
                    "description": text(rng, 6),
                    "classification": {
                        "scheme": "CUCOP",
                        "id": str(rng.randint(10000000, 99999999)),
                        "description": text(rng, 3),
                    },
                    "additionalClassifications": [{"scheme": "UNSPSC", "id": str(rng.randint(10000000, 99999999))}],
                    "quantity": rng.randint(1, 500),
                    "unit": {
                        "id": code,
                        "name": unit,
                        "value": {"amount": round(rng.uniform(10, 10000), 2), "currency": "MXN"},
                    },
                    "relatedLot": rng.choice(self.lots)["id"],
                }
            )
        self.documents = [self.document("tenderNotice")]
        self.amendments = []
        self.bids = []
        self.awards = []
        self.contracts = []
        self.transactions = []
        self.status = "planning"
        self.title = text(rng, 6)
        self.description = text(rng, 20)
        self.rationale = text(rng, 12)
        self.budget_description = text(rng, 6)
        self.address = {"streetAddress": text(rng, 3), "locality": "Ciudad de México", "countryName": "México"}
        self.contact = {"name": text(rng, 2).title(), "email": "compras@example.gob.mx"}
        self.scale = {s["id"]: rng.choice(["micro", "sme", "large"]) for s in self.suppliers}
        self.tender_period = {"startDate": iso(start), "endDate": iso(start + dt.timedelta(days=15))}

    def document(self, kind: str) -> dict:
        rng = self.rng
        k = rng.randint(1, 10**9)
        return {
            "id": f"doc-{k}",
            "documentType": kind,
            "title": text(rng, 4),
            "url": f"https://licita.example/d/{k}.pdf",
            "datePublished": iso(self.clock),
            "format": "application/pdf",
            "language": "es",
        }

    def advance(self) -> list[str]:
        """Move to the next act and return its tags."""
        rng = self.rng
        self.clock += dt.timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 86399))
        self.stage = min(self.stage + 1, len(STAGES) - 1)
        stage = STAGES[self.stage]
        if stage == "tender":
            self.status = "active"
            self.tender_period = {"startDate": iso(self.clock), "endDate": iso(self.clock + dt.timedelta(days=15))}
        elif stage == "tenderAmendment":
            self.amendments.append(
                {
                    "id": f"am-{len(self.amendments) + 1}",
                    "date": iso(self.clock),
                    "rationale": text(rng, 10),
                    "description": text(rng, 8),
                }
            )
            self.documents.append(self.document("clarifications"))
            self.items[0]["quantity"] += 1
            if rng.random() < 0.3:
                self.title += " (modificada)"
            self.tender_period["endDate"] = iso(self.clock + dt.timedelta(days=10))
        elif stage == "tenderUpdate":
            for i, supplier in enumerate(self.suppliers):
                self.bids.append(
                    {
                        "id": f"bid-{i + 1}",
                        "date": iso(self.clock),
                        "status": "valid" if rng.random() < 0.8 else "disqualified",
                        "tenderers": [{"id": supplier["id"], "name": supplier["name"]}],
                        "value": {"amount": float(rng.randint(10_000, 5_000_000)), "currency": "MXN"},
                        "relatedLots": [lot["id"] for lot in self.lots if rng.random() < 0.7] or [self.lots[0]["id"]],
                    }
                )
            self.documents.append(self.document("evaluationReports"))
        elif stage == "award":
            self.status = "complete"
            for lot in self.lots:
                supplier = rng.choice(self.suppliers)
                self.awards.append(
                    {
                        "id": f"award-{lot['id']}",
                        "title": "Fallo " + lot["title"],
                        "status": "active",
                        "date": iso(self.clock),
                        "value": {"amount": lot["value"]["amount"] * 0.9, "currency": "MXN"},
                        "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
                        "items": [dict(item) for item in self.items if item["relatedLot"] == lot["id"]],
                        "relatedLots": [lot["id"]],
                        "relatedBid": f"bid-{self.suppliers.index(supplier) + 1}",
                        "documents": [self.document("awardNotice")],
                    }
                )
                lot["status"] = "complete"
        elif stage == "contract":
            for award in self.awards:
                self.contracts.append(
                    {
                        "id": f"contract-{award['id']}",
                        "awardID": award["id"],
                        "title": "Contrato " + award["title"],
                        "status": "active",
                        "dateSigned": iso(self.clock),
                        "period": {"startDate": iso(self.clock), "endDate": iso(self.clock + dt.timedelta(days=180))},
                        "value": dict(award["value"]),
                        "items": [dict(item) for item in award["items"]],
                        "documents": [self.document("contractSigned")],
                        "implementation": {"transactions": []},
                    }
                )
        elif stage == "implementation":  # each act is a payment on one contract, or an amendment of one
            contract = rng.choice(self.contracts)
            if rng.random() < 0.8:
                k = len(contract["implementation"]["transactions"]) + 1
                contract["implementation"]["transactions"].append(
                    {
                        "id": f"{contract['id']}-pay-{k}",
                        "source": "https://licita.example/cfdi",
                        "date": iso(self.clock),
                        "value": {"amount": round(contract["value"]["amount"] / 4, 2), "currency": "MXN"},
                        "payer": {"id": self.buyer["id"], "name": self.buyer["name"]},
                        "payee": {"id": rng.choice(self.suppliers)["id"], "name": "Proveedor"},
                        "uri": f"https://licita.example/pagos/{rng.randint(1, 10**9)}",
                    }
                )
            else:
                contract.setdefault("amendments", []).append(
                    {
                        "id": f"cam-{len(contract.get('amendments', [])) + 1}",
                        "date": iso(self.clock),
                        "rationale": text(rng, 8),
                    }
                )
                contract["period"]["endDate"] = iso(self.clock + dt.timedelta(days=rng.randint(30, 200)))
                contract["value"]["amount"] = round(contract["value"]["amount"] * 1.1, 2)
        return [stage]

    def release(self, tags: list[str], date: dt.datetime) -> dict:
        self.n += 1
        parties = [
            {
                "id": self.buyer["id"],
                "name": self.buyer["name"],
                "roles": ["buyer", "procuringEntity"],
                "address": self.address,
                "contactPoint": self.contact,
            }
        ]
        if self.stage >= STAGES.index("tenderUpdate"):
            for supplier in self.suppliers:
                roles = ["tenderer"]
                if any(a["suppliers"][0]["id"] == supplier["id"] for a in self.awards):
                    roles.append("supplier")
                parties.append(
                    {
                        "id": supplier["id"],
                        "name": supplier["name"],
                        "roles": roles,
                        "details": {"scale": self.scale[supplier["id"]]},
                    }
                )
        release = {
            "ocid": self.ocid,
            "id": f"{self.ocid}-{self.n:04d}",
            "date": iso(date),
            "publishedDate": iso(self.clock),
            "tag": tags,
            "initiationType": "tender",
            "parties": parties,
            "buyer": {"id": self.buyer["id"], "name": self.buyer["name"]},
            "planning": {
                "budget": {
                    "amount": {"amount": sum(lot["value"]["amount"] for lot in self.lots), "currency": "MXN"},
                    "description": self.budget_description,
                },
                "rationale": self.rationale,
            },
            "tender": {
                "id": self.ocid,
                "title": self.title,
                "description": self.description,
                "status": self.status,
                "procuringEntity": {"id": self.buyer["id"], "name": self.buyer["name"]},
                "items": self.items,
                "lots": self.lots,
                "value": {"amount": sum(lot["value"]["amount"] for lot in self.lots), "currency": "MXN"},
                "procurementMethod": "open",
                "procurementMethodDetails": "Licitación pública",
                "mainProcurementCategory": "goods",
                "submissionMethod": ["electronicSubmission"],
                "tenderPeriod": self.tender_period,
                "documents": self.documents,
                "amendments": self.amendments,
                "numberOfTenderers": len(self.bids),
                "mexico": {
                    "law": "LAASSP",
                    "regime": "2025",
                    "procedureType": "licitacion",
                    "character": "nacional",
                    "form": "electronica",
                    "contractType": "adquisiciones",
                    "legalBasis": "art26",
                    "evaluationMethod": "binaria",
                    "expediente": self.ocid[-18:],
                    "provenance": "platform",
                },
            },
        }
        if self.bids:
            release["bids"] = {
                "statistics": [{"id": "1", "measure": "bids", "value": len(self.bids)}],
                "details": self.bids,
            }
        if self.awards:
            release["awards"] = self.awards
        if self.contracts:
            release["contracts"] = self.contracts
        # A full snapshot: a deep copy, so that later acts do not change what was published.
        return json.loads(json.dumps(release))


def generate(n: int, n_ocids: int, seed: int, out_of_order: float) -> list[dict]:
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    procedures = [Procedure(rng, i, start + dt.timedelta(hours=rng.randint(0, 24 * 200))) for i in range(n_ocids)]
    latest: dict[str, dt.datetime] = {}
    releases = []
    for i in range(n):
        proc = procedures[i % n_ocids] if i < n_ocids else rng.choice(procedures)
        tags = proc.advance()
        date = proc.clock
        if proc.ocid in latest and rng.random() < out_of_order:
            date = latest[proc.ocid] - dt.timedelta(hours=rng.randint(1, 72))  # recorded after the fact
        latest[proc.ocid] = max(latest.get(proc.ocid, date), date)
        releases.append(proc.release(tags, date))
    return releases


# --------------------------------------------------------------------------- run


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} × {cpu}, {ram} RAM, Python {platform.python_version()}, load {load:.1f} at the end"


def fresh_copies(by_ocid: dict[str, list[dict]]):
    """Yield (ocid, a fresh copy of its releases), as the platform has them: just built, or just read."""
    for ocid, rs in by_ocid.items():
        yield ocid, json.loads(json.dumps(rs))


def run_ours(compiler: Compiler, by_ocid: dict[str, list[dict]]) -> tuple[float, float, dict[str, tuple]]:
    """Add each procedure's releases one at a time in emission order; time only the merging.

    Like ocdsmerge's side, it keeps only the outputs (the platform stores the state and drops it). The
    releases added before are given as `history` (a list here; the platform's reads them from its table),
    used only for the releases dated in the past.
    """
    outputs: dict[str, tuple] = {}
    add = compiler.add
    cpu = wall = 0.0
    for ocid, rs in fresh_copies(by_ocid):
        w, c = time.perf_counter(), time.process_time()
        state = compiler.empty_state()
        added: list[dict] = []
        for release in rs:
            state = add(state, release, added)
            added.append(release)
        cpu += time.process_time() - c
        wall += time.perf_counter() - w
        outputs[ocid] = (compiler.state_compiled(state), compiler.state_versioned(state), state["mode"])
    return cpu, wall, outputs


def run_ours_interleaved(compiler: Compiler, releases: list[dict]) -> tuple[float, float, dict[str, dict]]:
    """Add all releases in emission order, procedures interleaved, every state held in memory."""
    states: dict[str, dict] = {}
    added: dict[str, list[dict]] = {}
    empty = compiler.empty_state
    add = compiler.add
    w, c = time.perf_counter(), time.process_time()
    for release in releases:
        ocid = release["ocid"]
        state = states.get(ocid)
        if state is None:
            state = empty()
            added[ocid] = []
        history = added[ocid]
        states[ocid] = add(state, release, history)
        history.append(release)
    return time.process_time() - c, time.perf_counter() - w, states


def run_ocdsmerge(merger, by_ocid: dict[str, list[dict]]) -> tuple[float, float, dict[str, tuple[dict, dict]]]:
    """Merge each procedure's releases at once (ocdsmerge has no incremental mode); time only the merging."""
    reference = {}
    cpu = wall = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuplicateIdValueWarning
        for ocid, rs in fresh_copies(by_ocid):
            w, c = time.perf_counter(), time.process_time()
            reference[ocid] = (merger.create_compiled_release(rs), merger.create_versioned_release(rs))
            cpu += time.process_time() - c
            wall += time.perf_counter() - w
    return cpu, wall, reference


def run_ocdsmerge_current(merger, by_ocid: dict[str, list[dict]], sample: int) -> tuple[float, int]:
    """Keep records current with ocdsmerge: merge all of a procedure's releases again at every release.

    Only the first `sample` procedures (it is slow). Returns (CPU seconds, releases).
    """
    cpu = 0.0
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, rs in itertools.islice(fresh_copies(by_ocid), sample):
            c = time.process_time()
            for k in range(1, len(rs) + 1):
                merger.create_compiled_release(rs[:k])
                merger.create_versioned_release(rs[:k])
            cpu += time.process_time() - c
            count += len(rs)
    return cpu, count


def best_of(args, run):
    """Return (CPU seconds, wall seconds, result) of the fastest of `args.repeat` runs."""
    best = None
    for _ in range(args.repeat):
        settle(args.gc)
        result = run()
        gc.enable()
        if best is None or result[0] < best[0]:
            best = result
        result = None
    return best


def settle(mode: str) -> None:
    """Collect garbage and freeze what exists (the input data), so each timed loop starts alike."""
    gc.enable()
    gc.collect()
    gc.freeze()
    if mode == "off":
        gc.disable()


def record(args, *, n: int, n_ocids: int, size: float, rates: tuple, diffs: tuple) -> None:
    """Append a row to docs/benchmarks.md (append only: others edit that file too)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    ours_rate, inter_rate, ref_rate, ratio, current_rate = rates
    current = f"{current_rate:,.0f}" if current_rate else "-"
    with DOCS.open("a", encoding="utf-8") as f:
        if SECTION not in headings:
            f.write(SECTION_TEXT)
        elif headings[-1] not in {SECTION, SECTION + ": more results"}:  # another section follows ours
            f.write(f"\n{SECTION}: more results\n\nWhat is measured: see the first section of that name above.\n\n")
            f.write(SECTION_TEXT.rsplit("\n\n", 1)[1])  # the table's header
        f.write(
            f"| {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC | {machine()} | {n:,} / {n_ocids:,} | {size / 1024:.1f} "
            f"| {args.out_of_order:g} | {args.gc} | {ours_rate:,.0f} | {inter_rate:,.0f} | {ref_rate:,.0f} "
            f"| **{ratio:.1f}x** | {current} | {diffs[0]} / {diffs[1]} |\n"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--releases", type=int, default=20_000)
    ap.add_argument("--ocids", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-of-order", type=float, default=0.005, help="fraction of releases dated in the past")
    ap.add_argument("--repeat", type=int, default=1, help="time each side this many times, keep the best")
    ap.add_argument(
        "--gc",
        choices=("on", "off"),
        default="off",
        help="cyclic garbage collector during the timed loops (default off, as timeit does)",
    )
    ap.add_argument(
        "--current-sample",
        type=int,
        default=100,
        help="procedures on which to time ocdsmerge recomputing the records at every release (0: skip)",
    )
    ap.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    args = ap.parse_args()

    schema, schema_name = load_schema()
    rules = merge_rules(schema)
    compiler = Compiler(rules)
    merger = ocdsmerge.Merger(merge_rules=rules)

    t0 = time.perf_counter()
    releases = generate(args.releases, args.ocids, args.seed, args.out_of_order)
    size = sum(len(json.dumps(r)) for r in releases[:2000]) / min(len(releases), 2000)
    by_ocid: dict[str, list[dict]] = {}
    for release in releases:
        by_ocid.setdefault(release["ocid"], []).append(release)
    print(
        f"generated {len(releases)} releases over {len(by_ocid)} ocids in {time.perf_counter() - t0:.1f} s "
        f"(mean {size / 1024:.1f} KiB of JSON per release); schema: {schema_name}"
    )

    # Both sides take the procedures one after another (ocdsmerge can only merge a procedure's releases all at
    # once), each from a fresh copy of its releases as the platform has them (just built, or just read from the
    # database); ours adds them one by one in emission order, as the platform does. Adding all releases
    # interleaved across procedures, every state held in memory, gives the same results but mostly measures
    # cache misses on a heap of hundreds of MB: it is timed too, for information.
    ours_cpu, ours_wall, ours = best_of(args, lambda: run_ours(compiler, by_ocid))
    modes: dict[str, int] = {}
    for _, _, mode in ours.values():
        modes[mode] = modes.get(mode, 0) + 1
    inter_cpu, _, _ = best_of(args, lambda: run_ours_interleaved(compiler, releases))
    ref_cpu, ref_wall, reference = best_of(args, lambda: run_ocdsmerge(merger, by_ocid))
    current_rate = 0.0
    if args.current_sample:
        settle(args.gc)
        current_cpu, current_n = run_ocdsmerge_current(merger, by_ocid, args.current_sample)
        gc.enable()
        current_rate = current_n / current_cpu

    diff_compiled = sum(1 for ocid in by_ocid if ours[ocid][0] != reference[ocid][0])
    diff_versioned = sum(1 for ocid in by_ocid if ours[ocid][1] != reference[ocid][1])
    n = len(releases)
    ours_rate, inter_rate, ref_rate = n / ours_cpu, n / inter_cpu, n / ref_cpu
    ratio = ours_rate / ref_rate
    print(f"timing: CPU time of this process, best of {args.repeat}, cyclic GC {args.gc} (wall clock in brackets)")
    print(
        f"ours (Compiler.add, one release at a time):  {ours_rate:9,.0f} releases/s  ({n / ours_wall:,.0f} wall; states: {modes})"
    )
    print(f"  same, procedures interleaved in memory:    {inter_rate:9,.0f} releases/s")
    print(f"ocdsmerge 0.8.0 (compiled + versioned):      {ref_rate:9,.0f} releases/s  ({n / ref_wall:,.0f} wall)")
    if current_rate:
        print(
            f"  ocdsmerge keeping records current (all releases again at every release, first "
            f"{args.current_sample} procedures): {current_rate:,.0f} releases/s, ours {ours_rate / current_rate:.0f}x faster"
        )
    print(f"ratio: {ratio:.1f}x (target >= {TARGET:.0f}x)")
    print(f"differences: {diff_compiled} compiled, {diff_versioned} versioned (of {len(by_ocid)} procedures)")

    ok = diff_compiled == 0 and diff_versioned == 0 and ratio >= TARGET
    if not args.no_record:
        rates = (ours_rate, inter_rate, ref_rate, ratio, current_rate)
        record(args, n=n, n_ocids=len(by_ocid), size=size, rates=rates, diffs=(diff_compiled, diff_versioned))
        print(f"appended a row to {DOCS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
