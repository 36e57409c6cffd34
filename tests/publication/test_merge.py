"""Our OCDS merge gives the same compiled and versioned releases as ocdsmerge 0.8.0, batch and incremental.

Property-style: every case is merged by ocdsmerge (`Merger(merge_rules=...)`, from deep copies, since
ocdsmerge can modify its input) and by `licita.publication.merge.Compiler`, three ways: batch
(`compiled` / `versioned`), incremental (`add` in the given order) and incremental with the state
going through JSON between releases (as it does through the database, keys reordered). The results
must be `==`, or both sides must raise the same error.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import ocdsmerge
import ocdsmerge.exceptions
import pytest
from ocdsmerge.rules import get_merge_rules

from licita.publication import merge as ours
from licita.publication.merge import Compiler, merge_rules

SHARED = Path(__file__).resolve().parents[3] / "shared" / "ocds"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/ocds")
SAMPLES = SHARED / "samples"


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_patch(target.get(key), value)
    return target


def _core_schema(*extensions: str) -> dict:
    schema = json.loads((SHARED / "schema" / "1.1.5" / "release-schema.json").read_text(encoding="utf-8"))
    for name in extensions:
        _merge_patch(
            schema, json.loads((SHARED / "extensions" / name / "release-schema.json").read_text(encoding="utf-8"))
        )
    return schema


def _project_schema() -> dict:
    try:
        from licita.publication.schema import release_schema  # noqa: PLC0415
    except ImportError:  # not written yet: the core schema with the bids extension
        return _core_schema("ocds_bid_extension")
    return copy.deepcopy(release_schema())


SCHEMA = _project_schema()
RULES = merge_rules(SCHEMA)
COMPILER = Compiler(RULES)
MERGER = ocdsmerge.Merger(merge_rules=RULES)

ERRORS = {
    ocdsmerge.exceptions.InconsistentTypeError: ours.InconsistentTypeError,
    ocdsmerge.exceptions.MissingDateKeyError: ours.MissingDateKeyError,
    ocdsmerge.exceptions.NullDateValueError: ours.NullDateValueError,
    ocdsmerge.exceptions.NonStringDateValueError: ours.NonStringDateValueError,
}


def _reference(method: str, releases: list[dict], merger: ocdsmerge.Merger = MERGER) -> Any:
    """Return ocdsmerge's output, or the class of our error that matches ocdsmerge's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuplicateIdValueWarning
        try:
            return getattr(merger, method)(copy.deepcopy(releases))
        except ocdsmerge.exceptions.OCDSMergeError as e:
            return ERRORS[type(e)]
        except TypeError as e:  # an object as `id`: ocdsmerge fails while unflattening
            if "unhashable" not in str(e):
                raise
            return ours.InvalidIdentifierError


def _call(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except ours.MergeError as e:
        return type(e)


class History:
    """The releases added so far, given to `Compiler.add` as a function (as the platform reads its table)."""

    def __init__(self) -> None:
        self.releases: list[dict] = []
        self.calls = 0

    def __call__(self) -> list[dict]:
        self.calls += 1
        return list(self.releases)


def _incremental(
    compiler: Compiler, releases: list[dict], *, through_json: bool
) -> tuple[Any, Any, dict | None, History]:
    state = compiler.empty_state()
    history = History()
    try:
        for release in releases:
            if through_json:  # as through PostgreSQL's jsonb, which does not keep the order of keys
                state = json.loads(json.dumps(state, sort_keys=True))
                release = copy.deepcopy(release)  # noqa: PLW2901
            state = compiler.add(state, release, history)
            history.releases.append(release)
            json.dumps(state)  # always serialisable
    except ours.MergeError as e:
        return type(e), type(e), None, history
    return _call(compiler.state_compiled, state), _call(compiler.state_versioned, state), state, history


def _in_date_order(releases: list[dict]) -> bool:
    dates = [r.get("date") for r in releases]
    return all(isinstance(d, str) for d in dates) and dates == sorted(dates)


def check(releases: list[dict], compiler: Compiler = COMPILER, merger: ocdsmerge.Merger = MERGER) -> dict | None:
    """Assert that every way of merging `releases` gives ocdsmerge's result; return the incremental state."""
    original = copy.deepcopy(releases)
    expected_compiled = _reference("create_compiled_release", releases, merger)
    expected_versioned = _reference("create_versioned_release", releases, merger)
    assert _call(compiler.compiled, releases) == expected_compiled, "batch compiled"
    assert _call(compiler.versioned, releases) == expected_versioned, "batch versioned"
    compiled, versioned, state, history = _incremental(compiler, releases, through_json=False)
    if isinstance(expected_compiled, type) and issubclass(expected_compiled, ours.MergeError) and state is None:
        # a date error: ocdsmerge raises when merging, `add` when the release is added
        assert compiled == expected_compiled, "incremental error"
    else:
        assert compiled == expected_compiled, "incremental compiled"
        assert versioned == expected_versioned, "incremental versioned"
    compiled_json, versioned_json, _, _ = _incremental(compiler, releases, through_json=True)
    assert (compiled_json, versioned_json) == (compiled, versioned), "incremental through JSON"
    if state is not None and state["mode"] == "tree" and _in_date_order(releases):
        assert history.calls == 0, "the releases before are needed only to merge them all again"
    assert releases == original, "the releases were modified"
    return state


# --------------------------------------------------------------------------- merge rules


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(_core_schema(), id="1.1.5"),
        pytest.param(_core_schema("ocds_bid_extension"), id="1.1.5+bids"),
        pytest.param(SCHEMA, id="project"),
    ],
)
def test_merge_rules_match_ocdsmerge(schema):
    assert merge_rules(schema) == get_merge_rules(copy.deepcopy(schema))


def test_merge_rules_of_dereferenced_schema():
    import jsonref  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dereferenced = jsonref.JsonRef.replace_refs(copy.deepcopy(SCHEMA))
    assert merge_rules(dereferenced) == RULES


def test_merge_rules_of_the_project_schema():
    # The rules the platform relies on (if these change, the schema changed).
    assert RULES[("tag",)] == RULES[("id",)] == RULES[("date",)] == "omitWhenMerged"
    assert RULES[("parties", "roles")] == "wholeListMerge"
    assert RULES[("tender", "submissionMethod")] == "wholeListMerge"
    assert RULES[("tender", "items", "additionalClassifications")] == "wholeListMerge"
    assert ("awards", "items") not in RULES  # identifier merge
    assert ("bids", "details") not in RULES
    # licita_mexico adds no rule: the reference tool (shared/tools/ocds_compile.py), which has no copy of it
    # and merges with the core schema and the bids extension, uses the same rules.
    assert merge_rules(_core_schema("ocds_bid_extension")) == RULES


def test_merge_rules_resolve_own_url_and_refuse_others():
    schema = {
        "id": "https://example.com/release-schema.json",
        "properties": {
            "a": {"$ref": "https://example.com/release-schema.json#/definitions/A"},
            "b": {"type": "array", "items": {"$ref": "#/definitions/B"}},
        },
        "definitions": {
            "A": {"type": "object", "properties": {"x": {"type": "array", "items": {"type": "string"}}}},
            "B": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    assert merge_rules(schema) == {("a", "x"): "wholeListMerge", ("b",): "wholeListMerge"}
    schema["properties"]["c"] = {"$ref": "https://elsewhere.example/schema.json#/definitions/A"}
    with pytest.raises(ValueError, match="offline"):
        merge_rules(schema)


# --------------------------------------------------------------------------- real samples


def _sample_groups() -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(SAMPLES.rglob("*.json")) + sorted(SAMPLES.rglob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        try:
            items = [json.loads(text)]
        except json.JSONDecodeError:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        for item in items:
            if "releases" in item and "ocid" not in item:  # a release package
                releases = item["releases"]
            elif "ocid" in item and "records" not in item and "compiledRelease" not in item:  # a bare release
                releases = [item]
            else:
                continue
            for release in releases:
                if isinstance(release, dict) and "date" in release:
                    groups[release["ocid"]].append(release)
    return dict(groups)


SAMPLE_GROUPS = _sample_groups()


def test_samples_found():
    assert len(SAMPLE_GROUPS) >= 20
    assert max(len(v) for v in SAMPLE_GROUPS.values()) >= 5


@pytest.mark.parametrize("ocid", sorted(SAMPLE_GROUPS))
def test_real_samples(ocid):
    releases = SAMPLE_GROUPS[ocid]
    check(releases)
    check(releases[::-1])  # the same releases added in the reverse order


def test_real_samples_together_in_one_procedure():
    # Everything under one ocid, in file order: many dates out of order, repeated ids, deep structures.
    releases = [dict(r, ocid="ocds-test-all") for rs in SAMPLE_GROUPS.values() for r in rs]
    check(releases)


# --------------------------------------------------------------------------- handcrafted edge cases


def r(date: str, rid: str | None = None, tag: Any = ("tender",), **fields: Any) -> dict:
    release: dict[str, Any] = {"ocid": "ocds-x", "id": rid or f"r-{date}", "date": f"2026-01-{date}T00:00:00Z"}
    if tag is not None:
        release["tag"] = list(tag)
    release.update(fields)
    return release


EDGE_CASES: dict[str, list[dict]] = {
    "single": [r("01", tender={"id": "t", "title": "A"})],
    "no releases": [],
    "identifier merge": [
        r("01", awards=[{"id": "a1", "title": "A", "status": "pending"}, {"id": "a2", "title": "B"}]),
        r("02", awards=[{"id": "a2", "title": "B2"}, {"id": "a3", "title": "C"}]),
        r("03", awards=[{"id": "a1", "status": "active"}]),
    ],
    "array objects without id are added every time": [
        r("01", awards=[{"id": "a", "suppliers": [{"name": "S"}]}]),
        r("02", awards=[{"id": "a", "suppliers": [{"name": "S"}]}]),
        r("03", awards=[{"id": "a", "suppliers": [{"name": "S"}, {"id": "s2", "name": "T"}]}]),
    ],
    "nested identifier merge": [
        r(
            "01",
            awards=[{"id": "a", "items": [{"id": "i1", "quantity": 1, "unit": {"id": "u", "name": "pz"}}]}],
            contracts=[{"id": "c", "implementation": {"transactions": [{"id": "t1", "value": {"amount": 1}}]}}],
        ),
        r(
            "02",
            awards=[{"id": "a", "items": [{"id": "i2", "quantity": 2}, {"id": "i1", "quantity": 3}]}],
            contracts=[
                {
                    "id": "c",
                    "implementation": {"transactions": [{"id": "t2", "value": {"amount": 2}}]},
                    "amendments": [{"id": "am1", "rationale": "x", "changes": [{"property": "value"}]}],
                }
            ],
        ),
        r(
            "03",
            contracts=[
                {
                    "id": "c",
                    "implementation": {"transactions": [{"id": "t1", "value": {"amount": 5, "currency": "MXN"}}]},
                    "amendments": [{"id": "am1", "changes": [{"property": "period"}]}],
                }
            ],
        ),
    ],
    "null removes values, not objects": [
        r("01", tender={"title": "A", "value": {"amount": 1}, "items": [{"id": "i", "description": "d"}]}),
        r("02", tender={"title": None, "value": None, "items": None}),
        r("03", tender=None),
    ],
    "null then object (ocdsmerge's versioned merge refuses)": [
        r("01", tender=None),
        r("02", tender={"title": "A"}),
    ],
    "null then array (a history entry lands in the array)": [
        r("01", awards=None),
        r("02", awards=[{"id": "a", "title": "A"}]),
    ],
    "objects of nulls stay": [
        r("01", tender={"title": None, "value": {"amount": None}}, planning={"budget": {}}),
    ],
    "empty arrays and objects change nothing": [
        r("01", tender={"title": "A", "items": [{"id": "i"}], "submissionMethod": ["written"]}, awards=[{"id": "a"}]),
        r("02", tender={"items": [], "submissionMethod": []}, awards=[{}], planning={}),
        r("03", tender={}, awards=[{"x": []}, {"y": {}}]),
    ],
    "whole list merge": [
        r(
            "01",
            parties=[{"id": "p", "roles": ["buyer", "payer"], "additionalIdentifiers": [{"id": "1", "scheme": "A"}]}],
        ),
        r("02", parties=[{"id": "p", "roles": ["buyer"], "additionalIdentifiers": [{"id": "2", "scheme": "B"}]}]),
        r("03", parties=[{"id": "p", "roles": [], "additionalIdentifiers": []}]),
        r("04", parties=[{"id": "p", "roles": ["buyer"]}], tender={"additionalProcurementCategories": ["works"]}),
    ],
    "whole list merge of an object (bad data)": [
        r("01", parties=[{"id": "p", "roles": {"buyer": True}}]),
        r("02", parties=[{"id": "p", "roles": ["buyer"]}]),
    ],
    "tags": [
        r("01", tag=["planning"], planning={"rationale": "x"}),
        r("02", tag=None, planning={"rationale": "y"}),
        r("03", tag=["tender", "compiled"], planning={"rationale": "z"}),
    ],
    "release without ocid or id": [
        {"date": "2026-01-01T00:00:00Z", "tender": {"title": "A"}},
        {"ocid": "ocds-x", "date": "2026-01-02T00:00:00Z", "tender": {"title": "B"}},
    ],
    "versioned ids": [
        r(
            "01",
            tender={"id": "t1", "items": [{"id": "i", "unit": {"id": "u1"}, "classification": {"id": "c1"}}]},
            parties=[{"id": "p", "identifier": {"id": "rfc1"}}],
            buyer={"id": "p", "name": "B"},
        ),
        r(
            "02",
            tender={"id": "t2", "items": [{"id": "i", "unit": {"id": "u2"}, "classification": {"id": "c1"}}]},
            parties=[{"id": "p", "identifier": {"id": "rfc2"}}],
            buyer={"id": "p2", "name": "B"},
        ),
    ],
    "values that come back": [
        r("01", tender={"status": "active"}),
        r("02", tender={"status": "cancelled"}),
        r("03", tender={"status": "active"}),
        r("04", tender={"status": "active"}),
        r("05", tender={"status": None}),
        r("06", tender={"status": None}),
    ],
    # Equal (==) numbers: ocdsmerge's versioned release keeps no new entry; our compiled release may keep
    # the earlier type where ocdsmerge's has the later (see the module's docstring).
    "equal numbers of different types": [
        r("01", tender={"value": {"amount": 1}, "hasEnquiries": 1}),
        r("02", tender={"value": {"amount": 1.0}, "hasEnquiries": True}),
        r("03", tender={"value": {"amount": 2}}),
    ],
    "extension fields": [
        r(
            "01",
            x_ext={
                "a": 1,
                "objs": [{"id": "o", "v": 1}],
                "anon": [{"v": 1}],
                "scalars": [1, 2],
                "mixed": [{"id": 1}, 2],
            },
        ),
        r("02", x_ext={"a": 2, "objs": [{"id": "o", "v": 2}, {"id": "p"}], "anon": [{"v": 1}], "scalars": [3]}),
        r("03", tender={"x_field": {"deep": {"list": [{"id": "d", "x": None}]}}}, x_ext=None),
    ],
    "repeated ids in one array": [
        r("01", parties=[{"id": "p", "name": "A", "roles": ["buyer"]}, {"id": "p", "name": "B", "address": {"x": 1}}]),
        r("02", parties=[{"id": "p", "name": "C"}, {"id": "p", "name": "A"}]),
        r("03", parties=[{"id": "p", "name": "D"}, {"id": "p", "name": "A", "address": {"x": 2}}, {"id": "q"}]),
        r("04", parties=[{"id": "p", "name": "A", "address": {"x": 1}}]),
        r("05", parties=[{"id": "p", "name": "A", "address": {"x": 1}}, {"id": "p", "name": "A"}]),
    ],
    "repeated new ids with nested arrays": [
        r("01", awards=[{"id": "a", "items": [{"id": "i", "q": 1}]}, {"id": "a", "items": [{"id": "i", "q": 2}]}]),
        r("02", awards=[{"id": "a", "items": [{"id": "i", "q": 3}]}, {"id": "a", "items": [{"id": "i", "q": 1}]}]),
        r("03", awards=[{"id": "a", "items": [{"id": "i", "q": 1}, {"id": "i", "q": 1}]}]),
    ],
    "numeric and string ids": [
        r("01", awards=[{"id": 1, "title": "A"}, {"id": 2}]),
        r("02", awards=[{"id": "1", "title": "B"}, {"id": 2, "title": "C"}]),
    ],
    "numeric ids": [
        r("01", awards=[{"id": 1, "title": "A"}, {"id": 20}]),
        r("02", awards=[{"id": 1, "title": "B"}, {"id": 20, "title": "C"}]),
    ],
    "null ids": [
        r("01", awards=[{"id": None, "title": "A"}, {"id": "None", "title": "N"}]),
        r("02", awards=[{"id": None, "title": "B"}]),
    ],
    "float, bool and object ids": [
        r("01", awards=[{"id": 1.5, "title": "A"}, {"id": True}, {"id": {"x": 1}, "title": "O"}]),
        r("02", awards=[{"id": 1.5, "title": "B"}, {"id": "True", "title": "T"}, {"id": {"x": 1}}]),
    ],
    "value then object": [
        r("01", tender={"value": 5}),
        r("02", tender={"value": {"amount": 5}}),
    ],
    "object then value": [
        r("01", tender={"value": {"amount": 5}}),
        r("02", tender={"value": 5}),
        r("03", tender={"value": {"currency": "MXN"}}),
    ],
    "object then array": [
        r("01", x={"a": {"b": 1}}),
        r("02", x=[{"id": "a", "b": 2}]),
    ],
    "array then object": [
        r("01", x=[{"id": "a", "b": 2}]),
        r("02", x={"a": {"b": 1}}),
    ],
    "value list then object list": [
        r("01", x=[1, 2]),
        r("02", x=[{"id": "a"}]),
    ],
    "object list then value list": [
        r("01", x=[{"id": "a"}]),
        r("02", x=[1, 2]),
        r("03", x=[{"id": "b"}]),
    ],
    "out of order": [
        r("05", tender={"title": "E", "status": "complete"}),
        r("01", tender={"title": "A", "items": [{"id": "i"}]}),
        r("03", tender={"title": "C"}),
        r("09", tender={"title": "I"}),
        r("02", tender={"title": "B", "items": [{"id": "j"}]}),
    ],
    "same dates keep their order": [
        r("01", rid="x", tender={"title": "A"}),
        r("01", rid="y", tender={"title": "B"}),
        r("01", rid="z", tender={"title": "A"}),
    ],
    "omitWhenMerged fields": [
        r("01", rid="r1", tender={"title": "A"}),
        r("02", rid="r2", tender={"title": "A"}),
    ],
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_case(name):
    releases = EDGE_CASES[name]
    check(releases)
    if len(releases) > 1:
        check(releases[::-1])
        check([releases[-1], *releases[:-1]])


def test_date_errors():
    check([{"ocid": "x", "tender": {"title": "no date, alone: fine"}}])
    check([r("01"), {"ocid": "x", "id": "2"}])  # MissingDateKeyError
    check([r("01"), {"ocid": "x", "id": "2", "date": None}])  # NullDateValueError
    check([r("01"), {"ocid": "x", "id": "2", "date": 20260102}])  # NonStringDateValueError
    first = r("01")
    state = COMPILER.add(COMPILER.empty_state(), first, [])
    before = json.dumps(state)
    with pytest.raises(ours.MissingDateKeyError):
        COMPILER.add(state, {"ocid": "x"}, [first])
    assert json.dumps(state) == before, "a refused release leaves the state unchanged"


def test_history():
    first, second, earlier = r("02", tender={"title": "B"}), r("03", tender={"title": "C"}), r("01")
    state = COMPILER.add(COMPILER.empty_state(), first, [])
    state = COMPILER.add(state, second, History())  # in order: the history is not read
    before = json.dumps(state)
    with pytest.raises(ours.HistoryRequired):
        COMPILER.add(state, earlier)
    assert json.dumps(state) == before, "a refused release leaves the state unchanged"
    with pytest.raises(ValueError, match="has 1 releases, but 2"):
        COMPILER.add(state, earlier, [first])
    state = COMPILER.add(state, earlier, lambda: [first, second])
    assert state["count"] == 3
    assert COMPILER.state_compiled(state) == _reference("create_compiled_release", [first, second, earlier])
    assert COMPILER.state_versioned(state) == _reference("create_versioned_release", [first, second, earlier])
    # The state does not keep the releases: its size does not grow with their number.
    sizes = []
    for n in range(4, 40):
        state = COMPILER.add(
            state, r(f"{n:02d}", tender={"title": "C"}, publishedDate=f"2026-02-{n % 28 + 1:02d}"), History()
        )
        sizes.append(len(json.dumps(state)))
    assert sizes[-1] - sizes[10] < 25 * 400  # about one versioned entry per release (publishedDate)


def test_state_of_format_1():
    """States written before the releases left the state are converted, and their releases used once."""
    releases = [r("02", tender={"title": "B"}), r("03", tender={"title": "C"})]
    state = COMPILER.empty_state()
    for release in releases:
        state = COMPILER.add(state, release)
    old = {k: v for k, v in state.items() if k not in {"count", "previous"}}
    old.update(format=1, releases=releases, last=1)
    earlier = r("01", tender={"title": "A"})
    new = COMPILER.add(json.loads(json.dumps(old)), earlier)  # out of order: merged again from its releases
    assert new["format"] == ours.STATE_FORMAT
    assert len(new["releases"]) == 3  # still kept: no history given
    assert COMPILER.state_compiled(new) == _reference("create_compiled_release", [*releases, earlier])
    assert COMPILER.state_versioned(new) == _reference("create_versioned_release", [*releases, earlier])
    later = r("04", tender={"title": "D"})
    new = COMPILER.add(new, later, [*releases, earlier])
    assert "releases" not in new  # given a history, the state stops keeping them
    assert COMPILER.state_compiled(new) == _reference("create_compiled_release", [*releases, earlier, later])


def test_without_history_the_state_keeps_the_releases():
    """A caller that never passes `history` (the platform before it read its table) still gets it right."""
    for name in ("out of order", "value then object", "repeated ids in one array"):
        releases = EDGE_CASES[name]
        state = COMPILER.empty_state()
        for release in releases:
            state = COMPILER.add(json.loads(json.dumps(state)), release)
        assert len(state["releases"]) == len(releases)
        assert _call(COMPILER.state_compiled, state) == _reference("create_compiled_release", releases)
        assert _call(COMPILER.state_versioned, state) == _reference("create_versioned_release", releases)


def test_rules_that_omit_identifiers():
    rules = {**RULES, ("awards", "id"): "omitWhenMerged", ("awards", "items", "id"): "omitWhenMerged"}
    compiler = Compiler(rules)
    merger = ocdsmerge.Merger(merge_rules=rules)
    check(
        [
            r("01", awards=[{"id": "a"}, {"id": "b", "title": "B", "items": [{"id": "i"}]}]),
            r("02", awards=[{"id": "a", "title": "A"}, {"id": "c"}]),
        ],
        compiler,
        merger,
    )


def test_state_modes():
    state = check(EDGE_CASES["nested identifier merge"])
    assert state is not None
    assert state["mode"] == "tree"
    state = check(EDGE_CASES["repeated ids in one array"])
    assert state is not None
    assert state["mode"] == "tree"
    state = check(EDGE_CASES["value then object"])
    assert state is not None
    assert state["mode"] == "exact"
    # a release added after the exact mode started is still merged like ocdsmerge
    more = r("03", tender={"value": {"currency": "USD"}})
    state = COMPILER.add(state, more, EDGE_CASES["value then object"])
    assert state["mode"] == "exact"
    releases = [*EDGE_CASES["value then object"], more]
    assert _call(COMPILER.state_compiled, state) == _reference("create_compiled_release", releases)
    assert _call(COMPILER.state_versioned, state) == _reference("create_versioned_release", releases)


def test_outputs_are_the_states_own_objects():
    state = COMPILER.add(COMPILER.empty_state(), r("01", tender={"title": "A"}))
    assert COMPILER.state_compiled(state) is state["compiled"]
    assert COMPILER.state_versioned(state) is state["versioned"]


# --------------------------------------------------------------------------- randomised sequences


class Gen:
    """Random releases of one procedure, each derived from the previous one (as full snapshots are)."""

    STRINGS = ("a", "b", "c", "Texto", "", "ñandú")
    NUMBERS = (0, 1, 2, 1.5, 100, 1e6)

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.int_ids = self.rng.random() < 0.15  # some publishers use numeric ids
        # Hostile sequences also have null objects and arrays, values whose type changes and odd ids.
        self.hostile = self.rng.random() < 0.4

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return None
        if roll < 0.55:
            return rng.choice(self.STRINGS)
        if roll < 0.9:
            return rng.choice(self.NUMBERS)
        return rng.choice((True, False))

    def ident(self, prefix: str, pool: int = 4) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.01 and self.hostile:
            return None
        if roll < 0.015 and self.hostile:
            return rng.choice((1.5, True))
        n = rng.randrange(pool)
        if self.int_ids or roll < 0.03:
            return n
        return f"{prefix}{n}"

    def maybe_id(self, obj: Any, prefix: str, p_missing: float = 0.05) -> dict:
        if not isinstance(obj, dict):
            obj = {}
        if not self.chance(p_missing):
            obj = {"id": self.ident(prefix), **obj}
        return obj

    def array(self, make: Any, prefix: str, most: int = 3, p_missing: float = 0.05) -> Any:
        roll = self.rng.random()
        if roll < 0.05 and self.hostile:
            return None
        if roll < 0.1:
            return []
        out = [self.maybe_id(make(), prefix, p_missing) for _ in range(self.rng.randint(1, most))]
        if self.chance(0.03) and out:
            out.append(copy.deepcopy(self.rng.choice(out)))  # a repeated id
        return out

    def sparse(self, fields: dict[str, Any]) -> Any:
        """Return an object with a random subset of the given fields (callables are called)."""
        if self.chance(0.03) and self.hostile:
            return None
        if self.chance(0.03):
            return {}
        return {k: (v() if callable(v) else v) for k, v in fields.items() if self.chance(0.7)}

    def value(self) -> Any:
        return self.sparse(
            {
                "amount": lambda: self.rng.choice(self.NUMBERS),
                "currency": lambda: self.rng.choice(("MXN", "USD", None)),
            }
        )

    def org_ref(self) -> dict:
        return self.sparse({"name": self.scalar})

    def item(self) -> dict:
        return (
            self.sparse(
                {
                    "description": self.scalar,
                    "quantity": lambda: self.rng.choice(self.NUMBERS),
                    "unit": lambda: self.sparse({"id": self.scalar, "name": self.scalar, "value": self.value}),
                    "classification": lambda: self.sparse({"scheme": "CUCOP", "id": self.scalar}),
                    "additionalClassifications": lambda: self.array(lambda: {"scheme": self.scalar()}, "ac", 2),
                }
            )
            or {}
        )

    def document(self) -> dict:
        return {"documentType": self.rng.choice(("tenderNotice", "awardNotice")), "url": self.scalar()}

    def tender(self) -> Any:
        return self.sparse(
            {
                "id": self.scalar,
                "title": self.scalar,
                "status": lambda: self.rng.choice(("planning", "active", "complete", None)),
                "value": self.value,
                "items": lambda: self.array(self.item, "item-"),
                "lots": lambda: self.array(
                    lambda: self.sparse({"title": self.scalar, "value": self.value}) or {}, "lot-"
                ),
                "documents": lambda: self.array(self.document, "doc-"),
                "submissionMethod": lambda: self.rng.choice((["electronicSubmission"], ["written"], [], None)),
                "tenderers": lambda: self.array(self.org_ref, "org-"),
                "amendments": lambda: self.array(
                    lambda: {"rationale": self.scalar(), "changes": [{"property": "x"}]}, "am-"
                ),
                "mexico": lambda: self.sparse({"law": "LAASSP", "provenance": self.scalar}),
            }
        )

    def award(self) -> dict:
        return (
            self.sparse(
                {
                    "title": self.scalar,
                    "status": lambda: self.rng.choice(("pending", "active", None)),
                    "value": self.value,
                    "items": lambda: self.array(self.item, "item-"),
                    "suppliers": lambda: self.array(self.org_ref, "org-", p_missing=0.2),
                    "documents": lambda: self.array(self.document, "doc-"),
                    "relatedBid": self.scalar,
                }
            )
            or {}
        )

    def transaction(self) -> dict:
        return (
            self.sparse({"value": self.value, "payer": self.org_ref, "payee": self.org_ref, "source": self.scalar})
            or {}
        )

    def contract(self) -> dict:
        return (
            self.sparse(
                {
                    "awardID": self.scalar,
                    "status": self.scalar,
                    "value": self.value,
                    "items": lambda: self.array(self.item, "item-"),
                    "amendments": lambda: self.array(
                        lambda: {
                            "rationale": self.scalar(),
                            "changes": self.array(lambda: {"property": self.scalar()}, "ch", 2),
                        },
                        "am-",
                    ),
                    "implementation": lambda: self.sparse(
                        {"transactions": lambda: self.array(self.transaction, "tx-", 4)}
                    ),
                }
            )
            or {}
        )

    def party(self) -> dict:
        return (
            self.sparse(
                {
                    "name": self.scalar,
                    "roles": lambda: self.rng.sample(
                        ["buyer", "supplier", "tenderer", "payer"], self.rng.randint(0, 3)
                    ),
                    "identifier": lambda: self.sparse({"scheme": "MX-RFC", "id": self.scalar}),
                    "additionalIdentifiers": lambda: self.array(lambda: {"scheme": self.scalar()}, "ai", 2),
                    "details": lambda: self.sparse({"scale": self.scalar}),
                }
            )
            or {}
        )

    def bid(self) -> dict:
        return (
            self.sparse(
                {"status": self.scalar, "value": self.value, "tenderers": lambda: self.array(self.org_ref, "org-")}
            )
            or {}
        )

    def odd(self) -> Any:
        """Values whose type changes between releases, for extension fields."""
        return self.rng.choice(
            (
                self.scalar,
                lambda: {"a": self.scalar(), "b": {"c": self.scalar()}},
                lambda: [self.scalar(), self.scalar()],
                lambda: self.array(lambda: {"v": self.scalar()}, "x", 2, p_missing=0.3),
                list,
                dict,
            )
        )()

    FIELDS = ("tender", "awards", "contracts", "parties", "bids", "planning", "buyer", "x_ext", "x_odd")

    def section(self, name: str) -> Any:
        if name == "tender":
            return self.tender()
        if name == "awards":
            return self.array(self.award, "award-")
        if name == "contracts":
            return self.array(self.contract, "contract-")
        if name == "parties":
            return self.array(self.party, "org-", 5)
        if name == "bids":
            return self.sparse(
                {
                    "details": lambda: self.array(self.bid, "bid-", 4),
                    "statistics": lambda: self.array(lambda: {"measure": "bids", "value": 1}, "st"),
                }
            )
        if name == "planning":
            return self.sparse(
                {
                    "rationale": self.scalar,
                    "budget": lambda: self.sparse({"amount": self.value, "description": self.scalar}),
                }
            )
        if name == "buyer":
            return self.maybe_id(self.org_ref() or {}, "org-")
        if name == "x_ext":
            return self.sparse(
                {
                    "list": lambda: self.array(lambda: {"v": self.scalar(), "w": self.odd()}, "e", 3, 0.2),
                    "n": self.scalar,
                }
            )
        return self.odd() if self.hostile else self.scalar()

    def mutate(self, value: Any, depth: int = 0) -> Any:
        """Change a few things in a copy of `value`: most of it stays equal to the previous release."""
        rng = self.rng
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                roll = rng.random()
                if roll < 0.03:
                    continue  # dropped: keeps its merged value
                if roll < 0.06 and (self.hostile or not isinstance(item, (dict, list))):
                    out[key] = None
                elif roll < 0.3 and depth < 6:
                    out[key] = self.mutate(item, depth + 1)
                else:
                    out[key] = copy.deepcopy(item)
            if rng.random() < 0.1 and (self.hostile or "title" not in out):
                out[rng.choice(("title", "status", "description", "x_new"))] = self.scalar()
            return out
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out_list = [self.mutate(v, depth + 1) if rng.random() < 0.3 else copy.deepcopy(v) for v in value]
            roll = rng.random()
            if roll < 0.15:
                out_list.append(
                    copy.deepcopy(rng.choice(value))
                    if rng.random() < 0.1
                    else {"id": self.ident("n"), "title": self.scalar()}
                )
            elif roll < 0.2:
                out_list.pop(rng.randrange(len(out_list)))
            elif roll < 0.25:
                rng.shuffle(out_list)
            return out_list
        if rng.random() < 0.5 and (self.hostile or not isinstance(value, (dict, list))):
            return self.scalar()
        return copy.deepcopy(value)

    def release(self, n: int, previous: dict | None) -> dict:
        rng = self.rng
        if previous is None or rng.random() < 0.15:
            body = {name: self.section(name) for name in self.FIELDS if rng.random() < 0.6}
        else:
            body = self.mutate({k: v for k, v in previous.items() if k in self.FIELDS})
            for name in self.FIELDS:
                if rng.random() < 0.1:
                    body[name] = self.section(name)
        day = 1 + n if rng.random() < 0.75 else rng.randint(1, 9)  # mostly in order, some ties and some earlier
        release: dict[str, Any] = {
            "ocid": "ocds-rand",
            "id": f"rel-{n}" if rng.random() < 0.95 else rng.choice((None, "rel-0", 7)),
            "date": f"2026-02-{day:02d}T00:00:00Z",
            **body,
        }
        if rng.random() < 0.9:
            release["tag"] = rng.sample(["tender", "award", "contract", "implementation"], rng.randint(1, 2))
        if rng.random() < 0.03:
            release["publishedDate"] = None
        return release

    def sequence(self) -> list[dict]:
        releases: list[dict] = []
        previous = None
        for n in range(self.rng.randint(1, 8)):
            previous = self.release(n, previous)
            releases.append(previous)
        return releases


SEEDS = range(400)


@pytest.mark.parametrize("chunk", range(8))
def test_random_sequences(chunk):
    modes: dict[str, int] = defaultdict(int)
    for seed in SEEDS[chunk::8]:
        releases = Gen(seed).sequence()
        try:
            state = check(releases)
        except AssertionError as e:
            raise AssertionError(f"seed {seed}: {e}") from e
        modes["error" if state is None else state["mode"]] += 1
    assert modes["tree"] >= 20, modes  # the common case is the incremental one


def test_random_sequences_cover_both_modes():
    modes: dict[str, int] = defaultdict(int)
    for seed in SEEDS[:120]:
        releases = Gen(seed).sequence()
        _, _, state, _ = _incremental(COMPILER, releases, through_json=False)
        modes["error" if state is None else state["mode"]] += 1
    assert modes["tree"] >= 30, modes
    assert modes["exact"] >= 5, modes


# --------------------------------------------------------------------------- the reference tool


REFERENCE_TOOL = SHARED.parent / "tools" / "ocds_compile.py"


def test_reference_tool_agrees(tmp_path):
    """`ocds_compile.py --compare`, the check the platform's records are held to, finds no difference."""
    if not REFERENCE_TOOL.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REFERENCE_TOOL} is missing; CI must have ../shared")
        pytest.skip(f"{REFERENCE_TOOL} not found (set LICITA_SHARED_DIR)")
    groups = dict(SAMPLE_GROUPS)
    for name, releases in EDGE_CASES.items():
        groups[f"edge-{name}"] = releases
    for seed in range(100):
        groups[f"random-{seed}"] = Gen(seed).sequence()
    lines, ours_lines = [], []
    for ocid, releases in groups.items():
        if not releases or any(not isinstance(r.get("date"), str) for r in releases):
            continue
        releases = [{**r, "ocid": ocid} for r in releases]  # noqa: PLW2901
        if isinstance(_reference("create_compiled_release", releases), type):
            continue  # ocdsmerge refuses them: nothing to compare
        lines.extend(json.dumps(r) for r in releases)
        ours_lines.append(json.dumps(COMPILER.compiled(releases)))
    (tmp_path / "releases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "ours.jsonl").write_text("\n".join(ours_lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            str(REFERENCE_TOOL),
            str(tmp_path / "releases.jsonl"),
            "--compare",
            str(tmp_path / "ours.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert len(ours_lines) > 100
    assert f"compared {len(ours_lines)} compiled releases: 0 differ" in result.stdout
