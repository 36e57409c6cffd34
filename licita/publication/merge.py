"""OCDS merge: each procedure's compiled and versioned release, kept current as releases are emitted.

The output is the same, field by field, as that of OCP's reference implementation, `ocdsmerge` 0.8.0
(`Merger(merge_rules=merge_rules(schema)).create_compiled_release(releases)` and
`.create_versioned_release(releases)`), including its quirks. `tests/publication/test_merge.py` checks
this on real and randomised data; `bench/ocds_compile.py` measures the speed.

How ocdsmerge merges (what this module reproduces):

* Releases are sorted by `date` (a stable sort, so releases with the same date keep their order; a
  single release is not sorted, and needs no date). Each release is flattened into leaves keyed by path,
  and later leaves replace earlier ones.
* A leaf is a scalar (`null` included), an array that holds anything but objects, or any value at a
  `wholeListMerge` path. Objects are merged key by key. Arrays of objects are merged by `id` (identifier
  merge); an object without `id` is a new entry every time. Empty objects and empty arrays are skipped:
  they neither clear nor create anything (except at `wholeListMerge` paths). Fields that set
  `omitWhenMerged` (in OCDS 1.1.5: the release's `id`, `date` and `tag`) are dropped.
* `null` removes a leaf from the compiled release, but not an object or array merged earlier; an object
  whose fields are all `null` stays as `{}`.
* The compiled release gets `tag: ["compiled"]`, `id: "<ocid>-<date>"` and the last release's `date`
  and `ocid`. The versioned release keeps `ocid` plain and, for every other leaf, the list of
  `{releaseID, releaseDate, releaseTag, value}` entries at which its value changed (compared with `==`).
  The `id` of an object in an identifier-merged array is not versioned, and keeps the value (and type)
  it had in the first release that had the object.

Incremental state: `Compiler.add(state, release, history)` merges one release into a JSON-serialisable
state (a dict: store it as JSON, e.g. in a JSONField, and pass it back). The state holds the compiled and
versioned releases themselves (`state_compiled` / `state_versioned` return them as they are), a `shape`
index of their objects and arrays (for each array, the position of each `id`), and the previous release;
not the releases before it, so its size does not grow with the number of releases (but for the versioned
release's history). Adding a release costs time proportional to the size of that release, not to the
history:

* the parts of the release equal (`==`) to the same parts of the previous release are skipped, as
  merging them again would change nothing (releases are full snapshots: most of each one is unchanged);
* the rest is merged leaf by leaf into the compiled and versioned trees, objects of arrays found by `id`
  through the index.

Not incremental: all the releases are merged again, from `history` (the releases added before, which
the caller keeps anyway, e.g. in its releases table: a list, or a function that loads them, called only
in these cases):

* a release dated before the latest one already added (or with a missing or non-string date): all the
  releases are merged again in date order, as ocdsmerge would (it raises the same date errors);
* a procedure whose releases make ocdsmerge's flattened form ambiguous: a path that is a value in one
  release and an object or array in a later one (for example `tender: null` then `tender: {...}`, which
  ocdsmerge's versioned merge refuses), an object and an array at the same path, an identifier `id` that
  is `null`, a number with a fraction, a boolean, an object or an array, or the same `id` as a number and
  as a string. From then on the procedure is merged by a faithful port of ocdsmerge's flatten/unflatten
  (`"mode": "exact"`), from `history` at every release. Where ocdsmerge raises (`InconsistentTypeError`,
  `InvalidIdentifierError`), so do `compiled` / `versioned` / `state_compiled` / `state_versioned`;
  `add` itself does not raise for it.

Numbers that are `==` but of different types (1 and 1.0) in consecutive releases may keep the earlier
type in the compiled release where ocdsmerge has the later one: JSON does not tell them apart, and
ocdsmerge's own versioned release treats them as unchanged.

The values in the outputs and in the state may be the very objects of the releases passed in (no copy
is made): do not modify a release after adding it, nor the returned compiled or versioned release.
"""

# The merge functions take many positional arguments, booleans included: the fastest calls in CPython.
# ruff: noqa: FBT003, PLR0917

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any
from urllib.parse import unquote, urldefrag

Rules = dict[tuple[str, ...], str]
"""Merge rules, as ocdsmerge's `get_merge_rules` returns them: a JSON path (tuple of field names, without
array positions) to `"omitWhenMerged"` or `"wholeListMerge"`."""

OMIT = "omitWhenMerged"
WHOLE_LIST = "wholeListMerge"
STATE_FORMAT = 2

_RuleNode = dict[str, tuple[str | None, "_RuleNode | None"]]


class MergeError(Exception):
    """Base class of the errors of the merge (the same cases as ocdsmerge's `OCDSMergeError`)."""


class InconsistentTypeError(MergeError, TypeError):
    """A path is a value, an object and/or an array in different releases, in a way ocdsmerge refuses."""


class InvalidIdentifierError(MergeError, TypeError):
    """An array object's `id` is an object or an array (ocdsmerge fails with "unhashable type")."""


class MissingDateKeyError(MergeError, KeyError):
    """A release has no `date` (and there is more than one release)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NullDateValueError(MergeError, TypeError):
    """A release's `date` is null (and there is more than one release)."""


class NonStringDateValueError(MergeError, TypeError):
    """Release dates cannot be compared (and there is more than one release)."""


_ERROR_TYPES: dict[str, type[MergeError]] = {
    "InconsistentTypeError": InconsistentTypeError,
    "InvalidIdentifierError": InvalidIdentifierError,
}


class HistoryRequired(MergeError):
    """`Compiler.add` must merge all the releases again, and was not given them (`history`)."""


History = list[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]] | None
"""The releases added before, in order: a list, or a function returning them (called only when needed)."""


def _history(state: dict[str, Any], history: History) -> list[dict[str, Any]]:
    """Return the releases merged into `state` so far, from `history`."""
    if history is None:
        msg = "this release needs all the procedure's releases merged again: pass them as `history`"
        raise HistoryRequired(msg)
    releases = list(history() if callable(history) else history)
    if len(releases) != state["count"]:
        msg = f"`history` has {len(releases)} releases, but {state['count']} were added to the state"
        raise ValueError(msg)
    return releases


def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """Convert a state of an earlier format to the current one.

    Format 1 always kept every release (`releases`, and `last`: the position of the latest in date order).
    """
    if state.get("format") != 1:
        msg = f"unsupported merge state format {state.get('format')!r}"
        raise ValueError(msg)
    state = dict(state)
    releases: list[dict[str, Any]] = state["releases"]
    last = state.pop("last")
    state["format"] = STATE_FORMAT
    state["count"] = len(releases)
    state["previous"] = releases[last] if releases else None
    return state


class _Conflict(Exception):
    """Raised inside the incremental merge when only the exact (ocdsmerge-like) merge can give the result."""


# --------------------------------------------------------------------------- merge rules


def merge_rules(schema: dict[str, Any]) -> Rules:
    """Return the merge rules of a release schema, as `ocdsmerge.get_merge_rules(schema)` does.

    `schema` may be dereferenced or not: `$ref`s are resolved within the schema itself (`#/definitions/...`,
    or the schema's own `id` URL followed by a fragment), like `jsonref` without `merge_props` (a `$ref`
    object's other keys are ignored). Any other reference raises `ValueError`: nothing is downloaded.
    """
    base = schema.get("id") or schema.get("$id")
    own_uri = urldefrag(base)[0] if isinstance(base, str) else None

    def deref(node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = resolve(node["$ref"])
            seen += 1
            if seen > 100:
                msg = f"$ref cycle at {node!r:.80}"
                raise ValueError(msg)
        return node

    def resolve(ref: str) -> Any:
        uri, fragment = urldefrag(ref)
        if uri and uri != own_uri:
            msg = f"cannot resolve $ref {ref!r} offline: only references within the schema are supported"
            raise ValueError(msg)
        document: Any = schema
        for raw in unquote(fragment.lstrip("/")).split("/") if fragment else []:
            part: str | int = raw.replace("~1", "/").replace("~0", "~")
            document = deref(document)
            if isinstance(document, list):
                with contextlib.suppress(ValueError):
                    part = int(part)
            try:
                document = document[part]
            except (TypeError, LookupError) as e:
                msg = f"unresolvable JSON pointer in $ref {ref!r}"
                raise ValueError(msg) from e
        return document

    def types(prop: dict[str, Any]) -> list[str]:
        value = prop.get("type")
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    rules: Rules = {}

    def walk(properties: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, raw_value in deref(properties).items():
            value = deref(raw_value)
            new_path = (*path, key)
            kinds = types(value)
            if value.get("omitWhenMerged") or value.get("mergeStrategy") == "ocdsOmit":
                rules[new_path] = OMIT
            elif "array" in kinds and (value.get("wholeListMerge") or value.get("mergeStrategy") == "ocdsVersion"):
                rules[new_path] = WHOLE_LIST
            elif "object" in kinds and "properties" in value:
                walk(value["properties"], new_path)
            elif "array" in kinds and "items" in value:
                items = deref(value["items"])
                item_kinds = types(items)
                if any(kind != "object" for kind in item_kinds):
                    rules[new_path] = WHOLE_LIST
                elif "object" in item_kinds and "properties" in items:
                    if "id" not in deref(items["properties"]):
                        rules[new_path] = WHOLE_LIST
                    else:
                        walk(items["properties"], new_path)

    walk(deref(schema)["properties"], ())
    return rules


def _rule_tree(rules: Rules) -> _RuleNode:
    """Nest the rules by field name: {field: (rule or None, {child field: ...} or None)}."""
    tree: dict[str, list[Any]] = {}
    for path, rule in rules.items():
        node = tree
        for part in path[:-1]:
            entry = node.get(part)
            if entry is None:
                entry = node[part] = [None, {}]
            elif entry[1] is None:
                entry[1] = {}
            node = entry[1]
        entry = node.get(path[-1])
        if entry is None:
            node[path[-1]] = [rule, None]
        else:
            entry[0] = rule

    def freeze(node: dict[str, list[Any]]) -> _RuleNode:
        return {key: (rule, None if child is None else freeze(child)) for key, (rule, child) in node.items()}

    return freeze(tree)


# --------------------------------------------------------------------------- sorting


def _date_order(releases: list[dict[str, Any]]) -> list[int]:
    """Return the positions of `releases` in ocdsmerge's merge order (stable sort by date; errors as ocdsmerge)."""
    if len(releases) == 1 and isinstance(releases[0], dict):
        return [0]
    try:
        dates = [release["date"] for release in releases]
        return sorted(range(len(releases)), key=dates.__getitem__)
    except KeyError as e:
        msg = "The `date` field of at least one release is missing."
        raise MissingDateKeyError(msg) from e
    except TypeError as e:
        if "NoneType" in str(e):
            msg = "The `date` field of at least one release is null."
            raise NullDateValueError(msg) from e
        msg = "The `date` field of at least one release is not a string."
        raise NonStringDateValueError(msg) from e


def sorted_releases(releases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort releases by date, as ocdsmerge does (stable; a single release is returned as is)."""
    return [releases[i] for i in _date_order(releases)]


# --------------------------------------------------------------------------- compiler


class Compiler:
    """Merge releases into compiled and versioned releases under fixed merge rules (thread-safe)."""

    def __init__(self, rules: Rules) -> None:
        self.rules: Rules = dict(rules)
        tree = _rule_tree(self.rules)
        # The release's `tag` is never merged, and its `ocid` is set apart (plain in the versioned release).
        self._tree: _RuleNode = {**tree, "tag": (OMIT, None), "ocid": (OMIT, None)}

    # ----------------------------------------------------------------- batch

    def compiled(self, releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Return the compiled release of `releases` (any order), as ocdsmerge's `create_compiled_release`."""
        return self.state_compiled(self._build(list(releases)))

    def versioned(self, releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Return the versioned release of `releases` (any order), as ocdsmerge's `create_versioned_release`."""
        return self.state_versioned(self._build(list(releases)))

    # ----------------------------------------------------------------- incremental

    @staticmethod
    def empty_state() -> dict[str, Any]:
        """Return the state of a procedure with no release yet.

        The state is a JSON object: `count` (releases merged), `date` and `previous` (the latest release in
        date order: its date, and the release itself, which the next one is compared with), `compiled`,
        `versioned`, `mode` (`"tree"` or `"exact"`), and in tree mode `shape` (the index of the arrays' ids)
        and `idless` (whether an object without `id` was ever merged into an array). In exact mode, `errors`
        holds ocdsmerge's error for an output it refuses.

        `releases` (every release added) is there only for callers that do not pass `history` to `add`: the
        first `add` with a `history` removes it, and from then on the state's size does not grow with the
        number of releases (except for the versioned release's history, of course).
        """
        return {
            "format": STATE_FORMAT,
            "mode": "tree",
            "count": 0,
            "date": None,
            "previous": None,
            "compiled": {"tag": ["compiled"]},
            "versioned": {},
            "shape": {},
            "idless": False,
            "releases": [],
        }

    def add(self, state: dict[str, Any], release: dict[str, Any], history: History = None) -> dict[str, Any]:
        """Merge one more release into `state` and return the new state.

        `state` may be modified in place: always use the returned value (and if `add` raises, drop `state`).

        In the usual case (the release is not dated before the latest one, and the procedure is in tree
        mode) this costs time proportional to the size of `release` and `history` is not used. Otherwise all
        the releases are merged again, and `history` gives the releases added to `state` before this one, in
        the order they were added: a list, or a function that returns one (called only then), e.g. one that
        reads them from the database. A caller that never passes `history` gets them kept in the state
        instead (see `empty_state`); one that stops passing it gets `HistoryRequired` in those cases.

        Raises the same date errors as ocdsmerge (`MissingDateKeyError`, ...), before changing `state`.
        """
        if state.get("format") != STATE_FORMAT:
            state = _upgrade(state)
        kept: list[dict[str, Any]] | None = state.get("releases")
        keep = kept is not None and history is None  # else the caller has them: stop keeping them
        if history is None:
            history = kept
        count: int = state["count"]
        date = release.get("date")
        last = state["date"]
        if count and not (type(date) is str and type(last) is str and date >= last):
            # Dated before the latest release (or dates that must go through ocdsmerge's sort, which raises
            # before anything changes): merge all the releases again, in date order.
            releases = [*_history(state, history), release]
            new = self._build(releases)
            if keep:
                new["releases"] = releases
            return new
        previous = state["previous"]
        if state["mode"] == "tree":
            try:
                self._apply(state, release, previous)
            except _Conflict:
                self._exact(state, [*_history(state, history), release])
        else:
            self._exact(state, [*_history(state, history), release])
        state["count"] = count + 1
        state["date"] = date
        state["previous"] = release
        if kept is not None:
            if keep:
                kept.append(release)
            else:
                del state["releases"]
        return state

    @staticmethod
    def state_compiled(state: dict[str, Any]) -> dict[str, Any]:
        """Return the compiled release held in `state` (the state's own object: do not modify it)."""
        error = state.get("errors", {}).get("compiled")
        if error is not None:
            raise _ERROR_TYPES[error["type"]](error["message"])
        result: dict[str, Any] = state["compiled"]
        return result

    @staticmethod
    def state_versioned(state: dict[str, Any]) -> dict[str, Any]:
        """Return the versioned release held in `state` (the state's own object: do not modify it)."""
        error = state.get("errors", {}).get("versioned")
        if error is not None:
            raise _ERROR_TYPES[error["type"]](error["message"])
        result: dict[str, Any] = state["versioned"]
        return result

    # ----------------------------------------------------------------- internals

    def _build(self, releases: list[dict[str, Any]]) -> dict[str, Any]:
        """Merge `releases` from scratch (in date order; the order given decides between equal dates)."""
        order = _date_order(releases)
        state = self.empty_state()
        del state["releases"]
        if not order:
            return state
        state["count"] = len(releases)
        state["date"] = releases[order[-1]].get("date")
        state["previous"] = releases[order[-1]]
        try:
            previous = None
            for i in order:
                self._apply(state, releases[i], previous)
                previous = releases[i]
        except _Conflict:
            self._exact(state, releases)
        return state

    def _apply(self, state: dict[str, Any], release: dict[str, Any], previous: dict[str, Any] | None) -> None:
        """Merge one release into a tree-mode state; raise `_Conflict` if only the exact merge can do it.

        `previous` is the release merged just before (or None): parts of `release` equal to the same parts
        of `previous` are skipped, since merging them again changes nothing (see `_object_merger`).
        """
        get = release.get
        ocid = get("ocid")
        date = get("date")
        release_id = get("id")
        for value in (ocid, date, release_id):
            if type(value) is dict or type(value) is list:
                raise _Conflict
        compiled = state["compiled"]
        versioned = state["versioned"]
        compiled["id"] = f"{ocid}-{date}"
        if date is None:
            compiled.pop("date", None)
        else:
            compiled["date"] = date
        if ocid is None:
            compiled.pop("ocid", None)
            versioned.pop("ocid", None)
        else:
            compiled["ocid"] = ocid
            versioned["ocid"] = ocid
        marks: list[bool] = []
        merge = _object_merger(release_id, date, get("tag"), marks)
        try:
            merge(
                release,
                None if state["idless"] else previous,
                self._tree,
                compiled,
                versioned,
                state["shape"],
                False,
                False,
            )
        finally:
            if marks:
                state["idless"] = True

    def _exact(self, state: dict[str, Any], releases: list[dict[str, Any]]) -> None:
        """Recompute the state's outputs with the port of ocdsmerge (for procedures the tree merge cannot do)."""
        ordered = sorted_releases(releases)
        state["mode"] = "exact"
        state["shape"] = None
        state["idless"] = None
        errors: dict[str, dict[str, str]] = {}
        state["compiled"] = state["versioned"] = None
        for name, function in (("compiled", _exact_compiled), ("versioned", _exact_versioned)):
            try:
                state[name] = function(self.rules, copy.deepcopy(ordered))
            except MergeError as e:
                errors[name] = {"type": type(e).__name__, "message": str(e)}
        if errors:
            state["errors"] = errors
        else:
            state.pop("errors", None)


_Merger = Callable[
    [
        dict[str, Any],
        "dict[str, Any] | None",
        "_RuleNode | None",
        dict[str, Any],
        dict[str, Any],
        dict[str, Any],
        bool,
        bool,
    ],
    bool,
]


class _Missing:
    __slots__ = ()


_MISSING = _Missing()  # equal to nothing but itself


_get_id = itemgetter("id")


def _distinct_ids(objects: list[Any]) -> bool:
    """Return whether all of `objects` are objects with an `id`, and their ids are distinct (fast, in C).

    False also for ids that ocdsmerge would confuse (1 and 1.0 or True) or that are not hashable; ids such
    as 1 and "1" count as distinct here, and are refused later (`_Conflict`).
    """
    try:
        return len(set(map(_get_id, objects))) == len(objects)
    except (KeyError, TypeError):
        return False


def _ident(raw: Any) -> str:
    """Return the key of an `id` in the shape's index, or raise `_Conflict` for ids only the exact merge handles."""
    raw_type = type(raw)
    if raw_type is str:
        return raw
    if raw_type is int:
        return str(raw)
    raise _Conflict  # null, float, bool, object or array identifiers


def _object_merger(release_id: Any, date: Any, tag: Any, marks: list[bool]) -> _Merger:
    """Return the function that merges one release's objects into the compiled and versioned trees.

    `merge(obj, previous, rules, compiled, versioned, shape, is_element)` merges the fields of `obj` into
    the matching `compiled` and `versioned` objects; `shape` is the index of their containers (a dict for
    an object field, `[ids, element shapes]` for an array of objects, where `ids` maps `str(id)` to the
    position of the object in the array). It returns whether any leaf was emitted (ocdsmerge creates an
    object or array only when some leaf lies beneath it). It appends to `marks` when it merges an object
    without `id` into an array.

    `previous` is the object at the same path in the release merged just before, or None. A field whose
    value equals (`==`) the previous one is skipped: merging it again would change nothing, provided that
    the previous release's value was the last written there (so `previous` is None under an `id` repeated
    in an array, in this release or the previous one) and that it holds no array object without `id`
    (which would be added again: the caller passes None once the state has seen one).
    """
    appended: set[int] = set()  # the histories (by id()) to which this release added an entry
    missing = _MISSING

    def merge(
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
        rules: _RuleNode | None,
        compiled: dict[str, Any],
        versioned: dict[str, Any],
        shape: dict[str, Any],
        is_element: bool,
        track: bool,
    ) -> bool:
        emitted = False
        previous_get = None if previous is None else previous.get
        before: Any = None
        for key, value in obj.items():
            if previous_get is not None:
                before = previous_get(key, missing)
                if value == before:
                    continue
            child = None
            kind = type(value)
            if rules is not None and (entry := rules.get(key)) is not None:
                rule, child = entry
                if rule == OMIT:
                    continue
                leaf = rule == WHOLE_LIST or (kind is not dict and kind is not list)
            else:
                leaf = kind is not dict and kind is not list
            if not leaf:
                if not value:
                    continue  # empty object or array: nothing is emitted
                if kind is list:
                    for item in value:
                        if type(item) is not dict:
                            leaf = True
                            break
            if leaf:
                emitted = True
                if (is_element and key == "id") or key in shape:
                    # An identifier's `id` is set when its object is created; a value at the path of an
                    # existing object or array is ignored by ocdsmerge's unflatten.
                    continue
                if value is None:
                    compiled.pop(key, None)
                else:
                    compiled[key] = value
                history = versioned.get(key)
                if history is None:
                    history = versioned[key] = [
                        {"releaseID": release_id, "releaseDate": date, "releaseTag": tag, "value": value}
                    ]
                    appended.add(id(history))
                elif value == history[-1]["value"]:  # ocdsmerge compares with ==
                    pass
                elif id(history) in appended:
                    # The same path again in this release (an `id` repeated in an array): ocdsmerge versions
                    # only the release's last value, compared with the previous releases' value.
                    if len(history) > 1 and value == history[-2]["value"]:
                        history.pop()
                        appended.discard(id(history))
                    else:
                        history[-1]["value"] = value
                else:
                    history.append({"releaseID": release_id, "releaseDate": date, "releaseTag": tag, "value": value})
                    appended.add(id(history))
                continue
            sub = shape.get(key)
            if sub is None:
                if key in versioned:
                    raise _Conflict  # a value here before: ocdsmerge's result depends on key order
                if kind is dict:
                    sub = {}
                    c_obj: dict[str, Any] = {}
                    v_obj: dict[str, Any] = {}
                    shape[key] = sub
                    compiled[key] = c_obj
                    versioned[key] = v_obj
                    got = fresh(value, child, c_obj, v_obj, sub, False, track)
                else:
                    ids: dict[str, int] = {}
                    shapes: list[dict[str, Any]] = []
                    c_list: list[dict[str, Any]] = []
                    v_list: list[dict[str, Any]] = []
                    shape[key] = [ids, shapes]
                    compiled[key] = c_list
                    versioned[key] = v_list
                    got = fresh_items(value, child, ids, shapes, c_list, v_list, track)
                if got:
                    emitted = True
                else:
                    del shape[key], compiled[key], versioned[key]
            elif kind is dict:
                if type(sub) is not dict:
                    raise _Conflict  # an array here before
                merge(
                    value,
                    before if type(before) is dict else None,
                    child,
                    compiled[key],
                    versioned[key],
                    sub,
                    False,
                    track,
                )
                emitted = True
            else:
                if type(sub) is not list:
                    raise _Conflict  # an object here before
                items(value, before, child, sub[0], sub[1], compiled[key], versioned[key], track)
                emitted = True
        return emitted

    def fresh(
        obj: dict[str, Any],
        rules: _RuleNode | None,
        compiled: dict[str, Any],
        versioned: dict[str, Any],
        shape: dict[str, Any],
        is_element: bool,
        track: bool,
    ) -> bool:
        """Merge `obj` into new, empty objects (`merge` without the lookups).

        `track` is true under an `id` repeated in an array of this release: the histories created here may
        be written again in this release, and must be known as this release's.
        """
        emitted = False
        for key, value in obj.items():
            kind: type | None = type(value)
            child = None
            if rules is not None and (entry := rules.get(key)) is not None:
                rule, child = entry
                if rule == OMIT:
                    continue
                if rule == WHOLE_LIST:
                    kind = None  # a value, whatever its type
            if kind is dict:
                if not value:
                    continue
                sub: dict[str, Any] = {}
                c_obj: dict[str, Any] = {}
                v_obj: dict[str, Any] = {}
                shape[key] = sub
                compiled[key] = c_obj
                versioned[key] = v_obj
                if fresh(value, child, c_obj, v_obj, sub, False, track):
                    emitted = True
                else:
                    del shape[key], compiled[key], versioned[key]
                continue
            if kind is list:
                if not value:
                    continue
                for item in value:
                    if type(item) is not dict:
                        break
                else:
                    ids: dict[str, int] = {}
                    shapes: list[dict[str, Any]] = []
                    c_list: list[dict[str, Any]] = []
                    v_list: list[dict[str, Any]] = []
                    shape[key] = [ids, shapes]
                    compiled[key] = c_list
                    versioned[key] = v_list
                    if fresh_items(value, child, ids, shapes, c_list, v_list, track):
                        emitted = True
                    else:
                        del shape[key], compiled[key], versioned[key]
                    continue
            # A value: a scalar, an array that holds anything but objects, or any value at a wholeListMerge path.
            emitted = True
            if is_element and key == "id":
                continue
            if value is not None:
                compiled[key] = value
            history = versioned[key] = [
                {"releaseID": release_id, "releaseDate": date, "releaseTag": tag, "value": value}
            ]
            if track:
                appended.add(id(history))
        return emitted

    def fresh_items(
        value: list[dict[str, Any]],
        rules: _RuleNode | None,
        ids: dict[str, int],
        shapes: list[dict[str, Any]],
        compiled: list[dict[str, Any]],
        versioned: list[dict[str, Any]],
        track: bool,
    ) -> bool:
        """Merge the objects of an array into new, empty arrays (`items` without the lookups)."""
        if not _distinct_ids(value):  # some object without `id`, or repeated ids: the general case
            return items(value, None, rules, ids, shapes, compiled, versioned, track)
        got = False
        for item in value:
            raw = item["id"]
            raw_type = type(raw)
            if raw_type is str:
                ident = raw
            elif raw_type is int:
                ident = str(raw)
            else:
                raise _Conflict  # float, bool, object or array identifiers
            if ident in ids:
                raise _Conflict  # 1 and "1": one path in ocdsmerge, but two objects
            c_item: dict[str, Any] = {"id": raw}
            v_item: dict[str, Any] = {"id": raw}
            s_item: dict[str, Any] = {}
            ids[ident] = len(compiled)
            compiled.append(c_item)
            versioned.append(v_item)
            shapes.append(s_item)
            if fresh(item, rules, c_item, v_item, s_item, True, track):
                got = True
            else:  # only possible if the rules omit `id`
                del ids[ident]
                compiled.pop()
                versioned.pop()
                shapes.pop()
        return got

    def items(
        value: list[dict[str, Any]],
        before: Any,
        rules: _RuleNode | None,
        ids: dict[str, int],
        shapes: list[dict[str, Any]],
        compiled: list[dict[str, Any]],
        versioned: list[dict[str, Any]],
        track: bool,
    ) -> bool:
        """Merge the objects of an array into the compiled and versioned arrays, by `id`.

        `before` is the previous release's value at this path (or None): its objects with the same `id`
        are the `previous` of ours, if its ids are all distinct (else ocdsmerge's last write there may not
        be the one we compare with).
        """
        count = len(value)
        # The ids that this array repeats: their objects are merged more than once in this release.
        repeated: set[str] | None = None
        if count > 1 and not _distinct_ids(value):
            seen: set[str] = set()
            for item in value:
                if "id" in item:
                    ident = _ident(item["id"])
                    if ident in seen:
                        if repeated is None:
                            repeated = set()
                        repeated.add(ident)
                    else:
                        seen.add(ident)
        if type(before) is not list or not before or not _distinct_ids(before):
            before = None
        by_id: dict[str, Any] | None = None
        got = False
        for position, item in enumerate(value):
            if not item:
                continue
            if "id" not in item:
                c_item: dict[str, Any] = {}
                v_item: dict[str, Any] = {}
                s_item: dict[str, Any] = {}
                compiled.append(c_item)
                versioned.append(v_item)
                shapes.append(s_item)
                if fresh(item, rules, c_item, v_item, s_item, False, track):
                    got = True
                    marks.append(True)
                else:
                    compiled.pop()
                    versioned.pop()
                    shapes.pop()
                continue
            raw = item["id"]
            raw_type = type(raw)
            if raw_type is str:
                ident = raw
            elif raw_type is int:
                ident = str(raw)
            else:
                raise _Conflict  # null, float, bool, object or array identifiers
            item_track = track or (repeated is not None and ident in repeated)
            item_before = None
            if before is not None and not item_track:
                if position < len(before) and item == before[position]:
                    got = True  # the same object as in the previous release (so the same id)
                    continue
                if by_id is None:
                    by_id = {_ident(other["id"]): other for other in before}
                item_before = by_id.get(ident)
                if item_before is not None and item == item_before:
                    got = True
                    continue
            pos = ids.get(ident)
            if pos is None:
                c_item = {"id": raw}
                v_item = {"id": raw}
                s_item = {}
                ids[ident] = len(compiled)
                compiled.append(c_item)
                versioned.append(v_item)
                shapes.append(s_item)
                if fresh(item, rules, c_item, v_item, s_item, True, item_track):
                    got = True
                else:  # only possible if the rules omit `id`
                    del ids[ident]
                    compiled.pop()
                    versioned.pop()
                    shapes.pop()
            else:
                c_item = compiled[pos]
                if type(c_item["id"]) is not raw_type:
                    raise _Conflict  # 1 and "1": one path in ocdsmerge, but two objects
                merge(item, item_before, rules, c_item, versioned[pos], shapes[pos], True, item_track)
                got = True
        return got

    return merge


# --------------------------------------------------------------------------- exact port of ocdsmerge 0.8.0

_counter = itertools.count()


class _IdValue(str):
    """A path part for an object in an array: equal to `str(id)`, remembering the id itself."""

    __slots__ = ("identifier", "original_value")

    identifier: Any
    original_value: Any


def _id_value(identifier: Any, original: Any) -> _IdValue:
    part = _IdValue(identifier)
    part.identifier = identifier
    part.original_value = original
    return part


Flat = dict[tuple[Any, ...], Any]


def _flatten(obj: Any, rules: Rules, flat: Flat, path: tuple[Any, ...], rule_path: tuple[str, ...]) -> None:
    pairs: Iterable[tuple[Any, Any]]
    if type(obj) is list:
        new_rule_path = rule_path
        keyed = []
        for value in obj:
            if "id" in value:
                keyed.append((_id_value(value["id"], value["id"]), value))
            else:
                ident = f"\x00{next(_counter)}"  # ocdsmerge uses a new uuid1 string: unique
                keyed.append((_id_value(ident, None), value))
        pairs = keyed
        is_dict = False
    else:
        pairs = obj.items()
        is_dict = True
    for key, value in pairs:
        if is_dict:
            new_rule_path = (*rule_path, key)
        rule = rules.get(new_rule_path)
        if rule == OMIT:
            continue
        if (
            rule == WHOLE_LIST
            or not isinstance(value, (dict, list))
            or (type(value) is list and any(not isinstance(item, dict) for item in value))
        ):
            flat[(*path, key)] = value
        elif value:
            _flatten(value, rules, flat, (*path, key), new_rule_path)


def _unflatten(flat: Flat) -> dict[str, Any]:
    unflattened: dict[str, Any] = {}
    identifiers: dict[tuple[Any, ...], Any] = {}
    for key in flat:
        node: Any = unflattened
        for end, part in enumerate(key, 1):
            if type(part) is _IdValue:
                id_path = (*key[: end - 1], part.identifier)
                try:
                    known = id_path in identifiers
                except TypeError as e:  # an object or array as `id`
                    raise InvalidIdentifierError(str(e)) from e
                if not known:
                    new_node: dict[str, Any] = {}
                    if part.original_value is not None:
                        new_node["id"] = part.original_value
                    identifiers[id_path] = new_node
                    try:
                        node.append(new_node)
                    except AttributeError as e:
                        msg = (
                            f"An earlier release had the object {node!r} for /{'/'.join(key[: end - 1])}, "
                            "but the current release has an array"
                        )
                        raise InconsistentTypeError(msg) from e
                node = identifiers[id_path]
            elif not isinstance(node, dict):
                msg = (
                    f"An earlier release had the value {node!r} for /{'/'.join(key[: end - 1])}, "
                    f"but the current release has an object with a {part!r} key"
                )
                raise InconsistentTypeError(msg)
            elif part in node:
                node = node[part]
            elif end < len(key):
                node[part] = [] if type(key[end]) is _IdValue else {}
                node = node[part]
            elif flat[key] is not None:
                node[part] = flat[key]
    return unflattened


def _exact_compiled(rules: Rules, ordered: list[dict[str, Any]]) -> dict[str, Any]:
    data: Flat = {("tag",): ["compiled"]}
    for original in ordered:
        release = original.copy()
        ocid = release.get("ocid")
        date = release.get("date")
        release.pop("tag", None)
        flat: Flat = {}
        _flatten(release, rules, flat, (), ())
        data[("id",)] = f"{ocid}-{date}"
        data[("date",)] = date
        data[("ocid",)] = ocid
        data.update(flat)
    return _unflatten(data)


def _exact_versioned(rules: Rules, ordered: list[dict[str, Any]]) -> dict[str, Any]:
    data: Flat = {}
    for original in ordered:
        release = original.copy()
        ocid = release.get("ocid")
        release_id = release.get("id")
        date = release.get("date")
        tag = release.pop("tag", None)
        flat: Flat = {}
        _flatten(release, rules, flat, (), ())
        flat.pop(("ocid",), None)
        data[("ocid",)] = ocid
        for key, value in flat.items():
            if key in data and (type(data[key]) is not list or value == data[key][-1]["value"]):
                continue
            data.setdefault(key, []).append(
                {"releaseID": release_id, "releaseDate": date, "releaseTag": tag, "value": value}
            )
    return _unflatten(data)
