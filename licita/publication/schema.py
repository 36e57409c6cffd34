"""The OCDS 1.1.5 schema with the project's extensions, and the validation of every release before it is published.

The schema, its codelists and the bids extension are vendored in `schema/1.1.5/` and
`extensions/ocds_bid_extension/` (see `schema/README.md`); the project's own extension is
`extensions/licita_mexico/`. Nothing is ever downloaded: the schema's `$ref` URLs
(`https://standard.open-contracting.org/schema/1__1__5/...`) resolve to the local files and any
other reference fails.

The checks mirror the reference offline validator (`shared/tools/ocds_validate.py`): JSON Schema
Draft 4 with the extensions patched in, date-time and uri formats, closed codelists, the ocid
prefix, duplicate release ids in a package. On top of it, every string must be clean text
(rule `text`) of at most `MAX_STRING_LENGTH` characters (rule `max_length`), and every value must
be a JSON value (rule `json_type`), so that what is validated is exactly what is serialized.
"""

from __future__ import annotations

import calendar
import copy
import csv
import functools
import ipaddress
import json
import math
import re
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from licita.publication.errors import InvalidRelease

HERE: Final = Path(__file__).resolve().parent
SCHEMA_DIR: Final = HERE / "schema" / "1.1.5"
EXTENSIONS_DIR: Final = HERE / "extensions"
#: Applied to the release schema in this order, as JSON Merge Patches.
EXTENSION_DIRS: Final = (EXTENSIONS_DIR / "ocds_bid_extension", EXTENSIONS_DIR / "licita_mexico")

SCHEMA_TAG: Final = "1__1__5"
#: The base URLs of the official schema files, mapped to `SCHEMA_DIR`.
SCHEMA_URL_PREFIXES: Final = (
    f"https://standard.open-contracting.org/schema/{SCHEMA_TAG}/",
    f"http://standard.open-contracting.org/schema/{SCHEMA_TAG}/",
)

BID_EXTENSION_URL: Final = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
)
#: Placeholder host: the platform is to serve `extensions/licita_mexico/` at
#: `/ocds/extensions/licita_mexico/`, and this constant is to point at its `extension.json` there.
LICITA_EXTENSION_URL: Final = "https://licita.example/ocds/extensions/licita_mexico/extension.json"
#: What every package the platform publishes lists in `extensions`.
EXTENSION_URLS: Final = (BID_EXTENSION_URL, LICITA_EXTENSION_URL)

#: The reference validator's ocid rule: the `ocds-` prefix, 6 lower-case letters or digits, a hyphen.
OCID_PREFIX: Final = re.compile(r"^ocds-[a-z0-9]{6}-")
#: The longest string accepted anywhere in a release, in characters.
MAX_STRING_LENGTH: Final = 100_000
#: How many errors `InvalidRelease.detail["errors"]` lists.
MAX_REPORTED_ERRORS: Final = 20

_MESSAGE_LENGTH = 300


class SchemaError(NamedTuple):
    """One reason why a release or package is invalid."""

    #: JSON Pointer of the offending value ("/" for the document itself).
    path: str
    #: The rule broken: a JSON Schema keyword ("required", "type", "enum", "minLength", …), the
    #: format ("date-time", "uri"), or one of "codelist", "ocid_prefix", "duplicate_id", "text",
    #: "max_length", "json_type".
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the error as a JSON object."""
        return {"path": self.path, "rule": self.rule, "message": self.message}


# --------------------------------------------------------------------------- schema files


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def merge_patch(target: Any, patch: Any) -> Any:
    """Return `target` patched with `patch` (JSON Merge Patch, RFC 7386); `target` is not changed."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@functools.cache
def release_schema() -> dict[str, Any]:
    """Return the OCDS 1.1.5 release schema with the bids and licita_mexico extensions (shared: do not mutate)."""
    schema = _load_json(SCHEMA_DIR / "release-schema.json")
    for folder in EXTENSION_DIRS:
        schema = merge_patch(schema, _load_json(folder / "release-schema.json"))
    return schema


@functools.cache
def release_package_schema() -> dict[str, Any]:
    """Return the OCDS 1.1.5 release package schema (its `$ref` resolves to `release_schema()`)."""
    return _load_json(SCHEMA_DIR / "release-package-schema.json")


@functools.cache
def record_package_schema() -> dict[str, Any]:
    """Return the OCDS 1.1.5 record package schema (its `$ref`s resolve to the local files)."""
    return _load_json(SCHEMA_DIR / "record-package-schema.json")


@functools.cache
def versioned_release_schema() -> dict[str, Any]:
    """Return the OCDS 1.1.5 versioned release validation schema, unpatched like the reference's."""
    return _load_json(SCHEMA_DIR / "versioned-release-validation-schema.json")


def _read_codes(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["Code"] for row in csv.DictReader(f)}


@functools.cache
def codelists() -> dict[str, frozenset[str]]:
    """Return the codes of every codelist, standard and from the extensions, by file name.

    Like the reference, an extension's `name.csv` replaces the codelist and `+name.csv` adds codes
    to it; `-name.csv` removes codes.
    """
    codes = {path.name: _read_codes(path) for path in sorted((SCHEMA_DIR / "codelists").glob("*.csv"))}
    for folder in EXTENSION_DIRS:
        for path in sorted((folder / "codelists").glob("*.csv")):
            if path.name.startswith("+"):
                codes.setdefault(path.name[1:], set()).update(_read_codes(path))
            elif path.name.startswith("-"):
                codes.setdefault(path.name[1:], set()).difference_update(_read_codes(path))
            else:
                codes[path.name] = _read_codes(path)
    return {name: frozenset(values) for name, values in codes.items()}


@functools.cache
def registry() -> Registry[Any]:
    """Return the registry that resolves every schema URL to a local file and refuses any other."""
    resources: list[tuple[str, Resource[Any]]] = []
    for name, contents in (
        ("release-schema.json", copy.deepcopy(release_schema())),
        ("release-package-schema.json", copy.deepcopy(release_package_schema())),
        ("record-package-schema.json", copy.deepcopy(record_package_schema())),
        ("versioned-release-validation-schema.json", copy.deepcopy(versioned_release_schema())),
    ):
        resource = DRAFT4.create_resource(contents)
        resources.extend((prefix + name, resource) for prefix in SCHEMA_URL_PREFIXES)
    # Registry's default `retrieve` raises NoSuchResource: an unknown URL is never fetched.
    return Registry().with_resources(resources)


# --------------------------------------------------------------------------- formats

_DATE_TIME = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_date_time(instance: object) -> bool:
    """Return whether a string is an RFC 3339 date-time (as rfc3339-validator decides; 'T' and 'Z' in any case)."""
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME.fullmatch(instance.upper())
    if match is None:
        return False
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if year == 0:  # as rfc3339-validator
        return False
    last = 29 if month == 2 and calendar.isleap(year) else _DAYS_IN_MONTH[month - 1]
    return 1 <= day <= last


_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = "!$&'()*+,;="
_PCT_ENCODED = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT_ENCODED})"
# RFC 3986 `URI` (appendix A): scheme ":" hier-part ["?" query] ["#" fragment]. An IP-literal host
# is matched loosely here and checked with `ipaddress` below.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+\-.]*:"
    "(?:"
    f"//(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT_ENCODED})*@)?"
    rf"(?P<host>\[[^\]]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT_ENCODED})*)"
    "(?::[0-9]*)?"
    f"(?:/{_PCHAR}*)*"
    f"|(?!//)(?:{_PCHAR}|/)*"
    ")"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?"
    f"(?:#(?:{_PCHAR}|[/?])*)?",
    re.ASCII,
)
_IPV_FUTURE = re.compile(f"v[0-9A-Fa-f]+\\.[{_UNRESERVED}{_SUB_DELIMS}:]+", re.ASCII)


def is_uri(instance: object) -> bool:
    """Return whether a string is an absolute URI by RFC 3986 (as rfc3986-validator decides): ASCII, with a scheme."""
    if not isinstance(instance, str):
        return True
    match = _URI.fullmatch(instance)
    if match is None:
        return False
    host = match["host"]
    if host and host.startswith("["):
        literal = host[1:-1]
        if _IPV_FUTURE.fullmatch(literal):
            return True
        if "%" in literal:  # zone ids are not part of RFC 3986
            return False
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    return True


def format_checker() -> FormatChecker:
    """Return Draft 4's format checker with our own date-time and uri checks.

    jsonschema checks these two formats only when the optional rfc3339-validator and
    rfc3986-validator are installed; the reference validator requires them. Checking them here
    makes the result the same whatever is installed.
    """
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft4Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(is_date_time)
    checker.checks("uri")(is_uri)
    return checker


# --------------------------------------------------------------------------- the validator


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _canonical(item: Any) -> str:
    try:
        return json.dumps(item, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(item)


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    # As the reference: compare canonical JSON (linear) rather than jsonschema's pairwise equality.
    if unique and validator.is_type(instance, "array"):
        seen: set[str] = set()
        for item in instance:
            canonical = _canonical(item)
            if canonical in seen:
                yield ValidationError(f"{_short(item)} appears more than once; the items must be unique")
                return
            seen.add(canonical)


def _closed_codelist(codes: dict[str, frozenset[str]]) -> Any:
    def codelist(validator: Any, name: Any, instance: Any, schema: Any) -> Any:
        # Closed codelists carry an `enum` too (checked by it, with its own message): check here only
        # those that do not, like libcoveocds does from the CSV files.
        if schema.get("openCodelist") is not False or "enum" in schema:
            return
        allowed = codes[name]
        if isinstance(instance, str):
            if instance not in allowed:
                yield ValidationError(f"{instance!r} is not a code of the closed codelist {name}")
        elif isinstance(instance, list):
            items = schema.get("items")
            if isinstance(items, dict) and "enum" in items:
                return
            for i, value in enumerate(instance):
                if isinstance(value, str) and value not in allowed:
                    yield ValidationError(f"{value!r} is not a code of the closed codelist {name}", path=(i,))

    return codelist


def _closed_codelist_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        if "codelist" in node and node.get("openCodelist") is False:
            names.add(node["codelist"])
        for value in node.values():
            names |= _closed_codelist_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _closed_codelist_names(value)
    return names


def _enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Any:
    # jsonschema compares the value with each member in turn (300 for currencies): use a set for
    # strings and null, with the same meaning (a string equals only a string).
    if isinstance(instance, str) or instance is None:
        members = _ENUM_SETS.get(id(enums))
        if members is None or members[0] is not enums:
            members = (enums, frozenset(e for e in enums if isinstance(e, str) or e is None))
            _ENUM_SETS[id(enums)] = members
        if instance not in members[1]:
            yield ValidationError(f"{_short(instance)} is not one of {enums!r}")
    else:
        yield from _DRAFT4_ENUM(validator, enums, instance, schema)


_ENUM_SETS: dict[int, tuple[Any, frozenset[Any]]] = {}
_DRAFT4_ENUM = Draft4Validator.VALIDATORS["enum"]


def _inline_refs(uri: str) -> Any:
    """Return the schema at `uri` with every `$ref` replaced by its target, resolved through `registry()`.

    Draft 4 ignores the keywords beside a `$ref`, so the target alone is the same schema. This saves a
    registry lookup and a new resolver at each of the ~70 references a full release goes through.
    """
    memo: dict[int, Any] = {}

    def inline(node: Any, resolver: Any, stack: frozenset[int]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                resolved = resolver.lookup(ref)  # raises Unresolvable for anything not vendored
                key = id(resolved.contents)
                if key in stack:
                    raise ValueError(f"recursive $ref {ref} cannot be inlined")
                if key not in memo:
                    memo[key] = inline(resolved.contents, resolved.resolver, stack | {key})
                return memo[key]
            return {k: inline(v, resolver, stack) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, resolver, stack) for v in node]
        return node

    return inline(registry().contents(uri), registry().resolver(base_uri=uri), frozenset())


_DOCUMENTS = {
    "release": "release-schema.json",
    "release-package": "release-package-schema.json",
    "record-package": "record-package-schema.json",
}


@functools.cache
def validator(kind: Literal["release", "release-package", "record-package"] = "release") -> Any:
    """Return the (cached) Draft 4 validator for a release, a release package or a record package."""
    codes = codelists()
    missing = _closed_codelist_names(release_schema()) - codes.keys()
    if missing:
        raise LookupError(f"closed codelists without a CSV file: {', '.join(sorted(missing))}")
    cls = validators.extend(
        Draft4Validator,
        {"enum": _enum, "uniqueItems": _unique_items, "codelist": _closed_codelist(codes)},
    )
    schema = _inline_refs(SCHEMA_URL_PREFIXES[0] + _DOCUMENTS[kind])
    return cls(schema, registry=registry(), format_checker=format_checker())


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts) or "/"


def _describe(error: Any) -> SchemaError:
    parts = list(error.absolute_path)
    rule = str(error.validator)
    message = error.message
    if rule == "required":
        # One error per missing property: point at the property itself.
        missing = [name for name in error.validator_value if name not in error.instance]
        name = next((n for n in missing if message.startswith(repr(n))), None)
        if name is not None:
            parts.append(name)
    elif rule == "format":
        rule = str(error.validator_value)
    elif rule == "enum":
        allowed = error.validator_value
        message = f"{_short(error.instance)} is not one of {allowed!r}"
        if len(message) > _MESSAGE_LENGTH:
            source = f" of the closed codelist {error.schema['codelist']}" if "codelist" in error.schema else ""
            message = f"{_short(error.instance)} is not one of the {len(allowed)} allowed values{source}"
    if len(message) > _MESSAGE_LENGTH:
        message = message[: _MESSAGE_LENGTH - 1] + "…"
    return SchemaError(_pointer(parts), rule, message)


def _schema_errors(kind: Literal["release", "release-package", "record-package"], instance: Any) -> list[SchemaError]:
    errors = []
    for error in validator(kind).iter_errors(instance):
        # oneOf errors (record packages) are noisy: report the best match underneath, as the reference.
        errors.append(_describe(best_match([error]) if error.validator == "oneOf" else error))
    return errors


_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _text_error(text: str, path: tuple[Any, ...]) -> SchemaError | None:
    if len(text) > MAX_STRING_LENGTH:
        return SchemaError(
            _pointer(path),
            "max_length",
            f"the string has {len(text):,} characters; at most {MAX_STRING_LENGTH:,} are allowed",
        )
    bad = _BAD_CHARACTER.search(text)
    if bad is None:
        return None
    char = bad.group()
    kind = "an unpaired surrogate, which is not valid UTF-8" if "\ud800" <= char <= "\udfff" else "a control character"
    return SchemaError(_pointer(path), "text", f"the string has {kind} (U+{ord(char):04X}) at position {bad.start()}")


def _suspect(document: Any) -> bool:
    """Return whether a JSON document may break a text or JSON-type rule (a fast pass, without paths)."""
    stack = [document]
    strings: list[Any] = []
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            strings.extend(value)  # the keys
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is None or isinstance(value, int):  # bool is an int
            continue
        elif not isinstance(value, float) or not math.isfinite(value):
            return True
    if not all(isinstance(text, str) for text in strings):
        return True
    if max(map(len, strings), default=0) > MAX_STRING_LENGTH:
        return True
    # "\n" is allowed, so joining cannot hide or create a bad character.
    return _BAD_CHARACTER.search("\n".join(strings)) is not None


def _value_errors(document: Any) -> list[SchemaError]:
    """Return the errors of the strings and values of a JSON document: text, length, JSON types."""
    errors: list[SchemaError] = []
    if _suspect(document):
        _walk(document, (), errors)
    return errors


def _walk(value: Any, path: tuple[Any, ...], errors: list[SchemaError]) -> None:
    if isinstance(value, str):
        error = _text_error(value, path)
        if error is not None:
            errors.append(error)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(SchemaError(_pointer(path), "json_type", f"the key {_short(key)} is not a string"))
                continue
            error = _text_error(key, (*path, key))
            if error is not None:
                errors.append(error._replace(message="the property name: " + error.message))
            _walk(item, (*path, key), errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, (*path, i), errors)
    elif value is None or isinstance(value, int):  # bool is an int
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors.append(SchemaError(_pointer(path), "json_type", f"{value!r} is not a JSON number"))
    else:
        errors.append(SchemaError(_pointer(path), "json_type", f"a {type(value).__name__} is not a JSON value"))


def _ocid_error(ocid: Any, path: tuple[Any, ...]) -> SchemaError | None:
    if isinstance(ocid, str) and not OCID_PREFIX.match(ocid):
        return SchemaError(
            _pointer(path), "ocid_prefix", f"{_short(ocid)} does not start with an ocid prefix ({OCID_PREFIX.pattern})"
        )
    return None


def release_errors(release: Any) -> list[SchemaError]:
    """Return every reason why `release` may not be published (empty when it is valid)."""
    errors = _schema_errors("release", release)
    if isinstance(release, dict):
        error = _ocid_error(release.get("ocid"), ("ocid",))
        if error is not None:
            errors.append(error)
    errors.extend(_value_errors(release))
    return errors


def package_errors(package: Any) -> list[SchemaError]:
    """Return every reason why a release package or a record package is invalid (empty when it is valid)."""
    record = isinstance(package, dict) and "records" in package
    errors = _schema_errors("record-package" if record else "release-package", package)
    key = "records" if record else "releases"
    items = package.get(key) if isinstance(package, dict) else None
    seen: dict[Any, int] = {}
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        ocid = item.get("ocid")
        error = _ocid_error(ocid, (key, i, "ocid"))
        if error is not None:
            errors.append(error)
        ident = ocid if record else (ocid, item.get("id"))
        try:
            first = seen.setdefault(ident, i)
        except TypeError:  # an unhashable ocid or id: already a type error
            continue
        if first != i:
            what = "ocid" if record else "ocid and id"
            errors.append(SchemaError(_pointer((key, i)), "duplicate_id", f"the same {what} as {key}[{first}]"))
    errors.extend(_value_errors(package))
    return errors


def _raise(errors: list[SchemaError]) -> None:
    if errors:
        first = errors[0]
        raise InvalidRelease(
            f"{first.path}: {first.message} ({first.rule})",
            path=first.path,
            rule=first.rule,
            errors=[error.as_dict() for error in errors[:MAX_REPORTED_ERRORS]],
        )


def validate_release(release: dict[str, Any]) -> None:
    """Raise `InvalidRelease` unless `release` is a valid OCDS 1.1.5 release with the project's extensions."""
    _raise(release_errors(release))


def validate_package(package: dict[str, Any]) -> None:
    """Raise `InvalidRelease` unless `package` is a valid release package or record package."""
    _raise(package_errors(package))
