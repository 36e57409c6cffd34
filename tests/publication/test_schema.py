"""The vendored OCDS schema, the licita_mexico extension and the release validator (no database)."""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import referencing.exceptions

from licita.publication import schema
from licita.publication.errors import InvalidRelease

SHARED = Path(os.environ.get("LICITA_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
REFERENCE = SHARED / "tools" / "ocds_validate.py"
SAMPLES = SHARED / "ocds" / "samples" / "fictional"
MEXICO = schema.EXTENSIONS_DIR / "licita_mexico"

OCID = "ocds-abc123-EXP-2026-0001"


def minimal_release() -> dict:
    return {
        "ocid": OCID,
        "id": f"{OCID}-0001",
        "date": "2026-02-01T16:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
    }


def full_release() -> dict:
    """Return a release like the platform's after the contract is signed (about 8 KB)."""
    uc = {"id": "MX-CLAVEUC-009J3F001", "name": "SCT-Dirección General de Recursos Materiales #009J3F001"}
    buyer = {"id": "MX-INSTITUCION-SCT", "name": "Secretaría de Comunicaciones y Transportes"}
    suppliers = [
        {"id": f"MX-RFC-ABC01020{i}XY{i}", "name": f"Proveedora Nacional {i}, S.A. de C.V."} for i in (1, 2, 3)
    ]
    money = {"amount": 1150000.0, "currency": "MXN"}
    return {
        **minimal_release(),
        "id": f"{OCID}-0005",
        "date": "2026-03-10T18:00:00Z",
        "publishedDate": "2026-03-10T18:00:05Z",
        "tag": ["award", "contract"],
        "language": "es",
        "buyer": buyer,
        "parties": [
            {**buyer, "additionalIdentifiers": [{"scheme": "MX-RAMO", "id": "09"}], "roles": ["buyer", "payer"]},
            {
                **uc,
                "identifier": {"scheme": "MX-CLAVEUC", "id": "009J3F001", "legalName": "Recursos Materiales"},
                "roles": ["procuringEntity"],
                "contactPoint": {"name": "Lic. Juana Pérez", "email": "juana.perez@sct.gob.mx"},
            },
            *(
                {
                    **s,
                    "identifier": {"scheme": "MX-RFC", "id": s["id"].removeprefix("MX-RFC-"), "legalName": s["name"]},
                    "roles": ["tenderer", *(["supplier", "payee"] if i == 1 else [])],
                    "address": {"locality": "Monterrey", "region": "Nuevo León", "countryName": "México"},
                }
                for i, s in enumerate(suppliers)
            ),
        ],
        "planning": {"budget": {"amount": {"amount": 1250000.0, "currency": "MXN"}, "description": "Ejercicio 2026"}},
        "tender": {
            "id": "LA-009J3F001-E22-2026",
            "title": "Adquisición de equipo de cómputo para oficinas centrales",
            "status": "complete",
            "procuringEntity": uc,
            "items": [
                {
                    "id": f"1-{i}",
                    "description": f"Computadora portátil modelo {i}, 16 GB RAM, 512 GB SSD",
                    "classification": {"scheme": "CUCOP", "id": f"5150000{i}"},
                    "quantity": 10 * i,
                    "unit": {"name": "pieza", "value": {"amount": 18500.5, "currency": "MXN"}},
                    "relatedLot": "1",
                }
                for i in range(1, 6)
            ],
            "lots": [{"id": "1", "title": "Equipo de cómputo", "value": money, "status": "complete"}],
            "value": {"amount": 1250000.0, "currency": "MXN"},
            "procurementMethod": "open",
            "procurementMethodDetails": "Licitación pública",
            "mainProcurementCategory": "goods",
            "awardCriteria": "priceOnly",
            "submissionMethod": ["electronicSubmission"],
            "tenderPeriod": {"startDate": "2026-02-01T16:00:00Z", "endDate": "2026-02-16T16:00:00Z"},
            "documents": [
                {
                    "id": f"doc-{i}",
                    "documentType": kind,
                    "title": f"Documento {i}",
                    "url": f"https://licita.example/api/documents/{i:064x}",
                    "datePublished": "2026-02-01T16:00:00Z",
                    "format": "application/pdf",
                }
                for i, kind in enumerate(["tenderNotice", "biddingDocuments", "clarifications", "awardNotice"])
            ],
            "tenderers": suppliers,
            "numberOfTenderers": 3,
            "mexico": {
                "law": "LAASSP",
                "regime": "2025",
                "procedureType": "licitacion",
                "character": "nacional",
                "form": "electronica",
                "contractType": "adquisiciones",
                "legalBasis": "art26",
                "evaluationMethod": "binaria",
                "expediente": "EXP-2026-0001",
                "provenance": "platform",
            },
        },
        "bids": {
            "details": [
                {
                    "id": f"bid-{i}",
                    "date": "2026-02-15T12:00:00Z",
                    "status": "valid" if i else "disqualified",
                    "tenderers": [s],
                    "value": {"amount": 1100000.0 + i * 50000, "currency": "MXN"},
                }
                for i, s in enumerate(suppliers)
            ]
        },
        "awards": [
            {
                "id": "A1",
                "status": "active",
                "date": "2026-02-25T12:00:00Z",
                "value": money,
                "suppliers": [suppliers[1]],
                "relatedBid": "bid-1",
            }
        ],
        "contracts": [
            {
                "id": "CT-2026-0001",
                "awardID": "A1",
                "status": "active",
                "period": {"startDate": "2026-03-10T00:00:00Z", "endDate": "2026-12-31T00:00:00Z"},
                "value": money,
                "dateSigned": "2026-03-10T18:00:00Z",
                "implementation": {
                    "transactions": [
                        {
                            "id": "p1",
                            "date": "2026-04-20T00:00:00Z",
                            "value": {"amount": 575000.0, "currency": "MXN"},
                            "payer": buyer,
                            "payee": suppliers[1],
                        }
                    ]
                },
            }
        ],
    }


def release_package(*releases: dict) -> dict:
    return {
        "uri": "https://licita.example/ocds/packages/1",
        "publishedDate": "2026-03-10T18:00:05Z",
        "publisher": {"name": "Licita"},
        "version": "1.1",
        "extensions": list(schema.EXTENSION_URLS),
        "releases": list(releases),
    }


def refusal(release: dict) -> InvalidRelease:
    with pytest.raises(InvalidRelease) as info:
        schema.validate_release(release)
    return info.value


def changed(path: str, value: object, release: dict | None = None) -> dict:
    """Return a copy of `release` (the full one by default) with the value at a /-separated path set (or removed)."""
    release = copy.deepcopy(release if release is not None else full_release())
    *parents, last = path.strip("/").split("/")
    node = release
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if value is _REMOVE:
        del node[key]
    else:
        node[key] = value
    return release


_REMOVE = object()


# --------------------------------------------------------------------------- valid releases


def test_validate_release_accepts_a_minimal_release():
    release = minimal_release()

    schema.validate_release(release)

    assert schema.release_errors(release) == []


def test_validate_release_accepts_a_full_release_with_both_extensions():
    release = full_release()

    schema.validate_release(release)

    assert len(json.dumps(release, ensure_ascii=False).encode()) > 5000


def test_validate_release_accepts_bid_details_with_values():
    release = changed("/bids/details/0/value", {"amount": 999.5, "currency": "USD"})

    schema.validate_release(release)


def test_validate_release_accepts_tabs_newlines_and_accents():
    release = changed("/tender/description", "Línea 1\n\tLínea 2\r\nAñadido: “comillas” y ñ")

    schema.validate_release(release)


def test_validate_release_accepts_a_string_of_the_maximum_length():
    release = changed("/tender/description", "x" * schema.MAX_STRING_LENGTH)

    schema.validate_release(release)


# --------------------------------------------------------------------------- each rule


@pytest.mark.parametrize("field", ["id", "date", "ocid", "tag", "initiationType"])
def test_validate_release_refuses_a_missing_required_field(field):
    release = changed(f"/{field}", _REMOVE, minimal_release())

    error = refusal(release)

    assert (error.detail["path"], error.detail["rule"]) == (f"/{field}", "required")
    assert str(error) == f"/{field}: '{field}' is a required property (required)"


def test_validate_release_refuses_a_wrong_type():
    error = refusal(changed("/tender/title", 5))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/title", "type")


def test_validate_release_refuses_a_value_outside_a_closed_codelist():
    error = refusal(changed("/tender/status", "bogus"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/status", "enum")
    assert str(error).startswith("/tender/status: 'bogus' is not one of ['planning', ")
    assert str(error).endswith("(enum)")


def test_validate_release_names_the_codelist_when_the_enum_is_long():
    error = refusal(changed("/tender/value/currency", "PESOS"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/value/currency", "enum")
    assert "closed codelist currency.csv" in error.detail["errors"][0]["message"]
    assert len(str(error)) < 400


def test_validate_release_refuses_an_unknown_release_tag():
    error = refusal(changed("/tag/1", "contractSigned"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tag/1", "enum")


def test_validate_release_refuses_an_unknown_law():
    error = refusal(changed("/tender/mexico/law", "LEY"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/mexico/law", "enum")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("regime", "2012"),
        ("procedureType", "subasta"),
        ("character", "internacional"),
        ("form", "Electrónica"),
        ("contractType", "obra"),
        ("legalBasis", "art43"),
        ("evaluationMethod", "costo_beneficio"),
        ("provenance", "import:compranet"),
    ],
)
def test_validate_release_refuses_unknown_mexican_codes(field, value):
    error = refusal(changed(f"/tender/mexico/{field}", value))

    assert (error.detail["path"], error.detail["rule"]) == (f"/tender/mexico/{field}", "enum")


def test_validate_release_refuses_a_wrongly_typed_mexican_field():
    error = refusal(changed("/tender/mexico/expediente", 2026))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/mexico/expediente", "type")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("/date", "2026-02-30T00:00:00Z"),
        ("/date", "2026-02-01"),
        ("/date", "2026-02-01 16:00:00Z"),
        ("/date", "2026-02-01T16:00:00"),
        ("/publishedDate", "yesterday"),
        ("/tender/tenderPeriod/endDate", "16/02/2026"),
        ("/bids/details/0/date", "2026-02-15T25:00:00Z"),
    ],
)
def test_validate_release_refuses_a_bad_date_time(path, value):
    error = refusal(changed(path, value))

    assert (error.detail["path"], error.detail["rule"]) == (path, "date-time")


def test_validate_release_refuses_a_relative_document_url():
    error = refusal(changed("/tender/documents/0/url", "/api/documents/abc"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/documents/0/url", "uri")


@pytest.mark.parametrize(
    "url", ["https://compranet.gob.mx/convocatoria ñ.pdf", "https://e.com/a b", "licita.example/doc"]
)
def test_validate_release_refuses_a_url_that_is_not_an_ascii_absolute_uri(url):
    error = refusal(changed("/tender/documents/0/url", url))

    assert error.detail["rule"] == "uri"


def test_validate_release_refuses_a_nul_character():
    error = refusal(changed("/tender/title", "Adquisición\x00"))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/title", "text")
    assert "U+0000" in str(error)


@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x1b", "\x7f", "\x85", "\ud800"])
def test_validate_release_refuses_control_characters_and_unpaired_surrogates(char):
    error = refusal(changed("/parties/2/address/locality", f"Monterrey{char}"))

    assert (error.detail["path"], error.detail["rule"]) == ("/parties/2/address/locality", "text")


def test_validate_release_refuses_a_control_character_in_a_property_name():
    release = changed("/tender/mexico/bad\x00name", "x")

    error = refusal(release)

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/mexico/bad\x00name", "text")


def test_validate_release_refuses_an_over_long_string():
    error = refusal(changed("/tender/description", "x" * (schema.MAX_STRING_LENGTH + 1)))

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/description", "max_length")


@pytest.mark.parametrize(
    "ocid", ["EXP-2026-0001", "OCDS-87SD3T-AD-063", "ocds-abc12-EXP", "ocds-licita0-EXP", "ocds-abc123"]
)
def test_validate_release_refuses_an_ocid_without_a_valid_prefix(ocid):
    error = refusal(changed("/ocid", ocid))

    assert (error.detail["path"], error.detail["rule"]) == ("/ocid", "ocid_prefix")


@pytest.mark.parametrize("value", [Decimal("1150000.00"), math.nan, math.inf, b"1150000"])
def test_validate_release_refuses_values_that_are_not_json(value):
    release = changed("/awards/0/value", {"amount": value, "currency": "MXN"})

    error = refusal(release)

    assert "/awards/0/value/amount" in {e["path"] for e in error.detail["errors"]}
    assert "json_type" in {e["rule"] for e in error.detail["errors"]}


def test_validate_release_refuses_duplicate_items_in_a_unique_array():
    release = changed("/tender/items/1", full_release()["tender"]["items"][0])

    error = refusal(release)

    assert (error.detail["path"], error.detail["rule"]) == ("/tender/items", "uniqueItems")


def test_validate_release_refuses_a_bid_without_id_and_a_bad_bid_status():
    release = changed("/bids/details/0/id", _REMOVE)
    release = changed("/bids/details/1/status", "accepted", release)

    error = refusal(release)

    found = {(e["path"], e["rule"]) for e in error.detail["errors"]}
    assert found == {("/bids/details/0/id", "required"), ("/bids/details/1/status", "enum")}


def test_invalid_release_detail_lists_at_most_20_errors():
    release = full_release()
    release["tender"]["items"] = [{"id": str(i), "quantity": "muchos"} for i in range(30)]  # 30 wrong types

    error = refusal(release)

    assert error.code == "invalid_release"
    assert error.status == 422
    assert set(error.detail) == {"path", "rule", "errors"}
    assert len(error.detail["errors"]) == schema.MAX_REPORTED_ERRORS
    assert error.detail["errors"][0] == {
        "path": "/tender/items/0/quantity",
        "rule": "type",
        "message": "'muchos' is not of type 'number', 'null'",
    }
    assert len(schema.release_errors(release)) == 30
    assert error.as_dict()["code"] == "invalid_release"


def test_validate_release_refuses_a_release_that_is_not_an_object():
    error = refusal([minimal_release()])

    assert (error.detail["path"], error.detail["rule"]) == ("/", "type")


# --------------------------------------------------------------------------- the schema and the extension


def test_release_schema_has_both_extensions_patched_in():
    release_schema = schema.release_schema()

    assert release_schema["properties"]["bids"]["$ref"] == "#/definitions/Bids"
    assert release_schema["definitions"]["Award"]["properties"]["relatedBid"]
    assert release_schema["definitions"]["Tender"]["properties"]["mexico"]["title"] == "Mexican procurement fields"
    assert release_schema["properties"]["publishedDate"]["format"] == "date-time"
    assert release_schema["definitions"]["Tender"]["properties"]["status"]["codelist"] == "tenderStatus.csv"


def test_merge_patch_follows_rfc_7386():
    target = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}

    patched = schema.merge_patch(target, {"a": {"b": None, "f": 3}, "d": [3], "e": {"g": 1}, "h": None})

    assert patched == {"a": {"c": 2, "f": 3}, "d": [3], "e": {"g": 1}}
    assert target == {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}


def _mexico_fields() -> dict:
    return schema.release_schema()["definitions"]["MexicanProcurement"]["properties"]


def test_mexico_fields_are_the_agreed_ones_each_with_title_and_description():
    fields = _mexico_fields()

    assert set(fields) == {
        "law",
        "regime",
        "procedureType",
        "character",
        "form",
        "contractType",
        "legalBasis",
        "exceptionFraction",
        "justification",
        "template",
        "reducedPeriodJustification",
        "evaluationMethod",
        "expediente",
        "provenance",
        "signatureDeadline",
    }
    for name, field in fields.items():
        assert field["title"], name
        assert field["description"], name


def test_every_closed_codelist_enum_matches_its_csv_file():
    codes = schema.codelists()
    closed = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("openCodelist") is False:
                closed.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema.release_schema())

    assert len(closed) >= 20  # 9 standard, 2 of the bids extension, 9 of ours
    for node in closed:
        enum = node.get("enum", node.get("items", {}).get("enum"))
        assert {e for e in enum if e is not None} == codes[node["codelist"]], node["codelist"]


def test_extension_json_lists_its_codelists_and_schema():
    extension = json.loads((MEXICO / "extension.json").read_text(encoding="utf-8"))

    on_disk = sorted(p.name for p in (MEXICO / "codelists").glob("*.csv"))
    used = sorted({f["codelist"] for f in _mexico_fields().values() if "codelist" in f})
    assert extension["codelists"] == on_disk == used
    assert extension["schemas"] == ["release-schema.json"]
    assert extension["compatibility"] == ["1.1"]
    assert set(extension["name"]) == set(extension["description"]) == {"en", "es"}
    for name in on_disk:
        with (MEXICO / "codelists" / name).open(encoding="utf-8", newline="") as f:
            assert csv.DictReader(f).fieldnames == ["Code", "Title", "Description"]


def test_extension_urls_name_the_bids_extension_and_ours():
    assert schema.EXTENSION_URLS == (
        "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
        schema.LICITA_EXTENSION_URL,
    )
    assert schema.LICITA_EXTENSION_URL.endswith("/ocds/extensions/licita_mexico/extension.json")


def test_vendored_schema_is_the_shared_copy():
    shared = SHARED / "ocds"
    if not shared.is_dir():
        _absent(shared)

    for ours, theirs in [
        (schema.SCHEMA_DIR, shared / "schema" / "1.1.5"),
        (schema.EXTENSIONS_DIR / "ocds_bid_extension", shared / "extensions" / "ocds_bid_extension"),
    ]:
        files = sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
        for name in files:
            assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def test_every_schema_reference_resolves_locally():
    resolver = schema.registry().resolver()
    refs: list[tuple[str, str]] = []

    def walk(node, base):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append((base, node["$ref"]))
            for value in node.values():
                walk(value, base)
        elif isinstance(node, list):
            for value in node:
                walk(value, base)

    for name in ("release-schema.json", "release-package-schema.json", "record-package-schema.json"):
        uri = schema.SCHEMA_URL_PREFIXES[0] + name
        walk(schema.registry().contents(uri), uri)

    assert len(refs) > 50
    for base, ref in refs:
        assert resolver.lookup(base).resolver.lookup(ref).contents
    with pytest.raises(referencing.exceptions.Unresolvable):
        resolver.lookup("https://standard.open-contracting.org/schema/1__1__4/release-schema.json")


# --------------------------------------------------------------------------- packages


def test_validate_package_accepts_a_release_package_of_ours():
    package = release_package(minimal_release(), full_release())

    schema.validate_package(package)


def test_validate_package_refuses_duplicate_release_ids():
    package = release_package(full_release(), full_release())

    with pytest.raises(InvalidRelease) as info:
        schema.validate_package(package)

    rules = {(e["path"], e["rule"]) for e in info.value.detail["errors"]}
    assert ("/releases/1", "duplicate_id") in rules


def test_validate_package_points_into_the_package():
    package = release_package(minimal_release(), changed("/tender/mexico/law", "LEY"))

    with pytest.raises(InvalidRelease) as info:
        schema.validate_package(package)

    assert (info.value.detail["path"], info.value.detail["rule"]) == ("/releases/1/tender/mexico/law", "enum")


def test_validate_package_refuses_a_record_with_a_bad_compiled_release():
    record = {"ocid": OCID, "releases": [full_release()], "compiledRelease": changed("/tender/status", "bogus")}
    package = {k: v for k, v in release_package().items() if k != "releases"} | {"records": [record]}

    with pytest.raises(InvalidRelease) as info:
        schema.validate_package(package)

    assert (info.value.detail["path"], info.value.detail["rule"]) == (
        "/records/0/compiledRelease/tender/status",
        "enum",
    )


def _absent(path: Path) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing; CI must have ../shared")
    pytest.skip(f"{path} not present (outside CI)")


@pytest.mark.parametrize("name", ["release-package.json", "record-package.json", "record-package-withversions.json"])
def test_validate_package_accepts_the_official_fictional_samples(name):
    path = SAMPLES / name
    if not path.is_file():
        _absent(path)
    package = json.loads(path.read_text(encoding="utf-8"))

    schema.validate_package(package)


# --------------------------------------------------------------------------- the reference validator agrees


CROSS_CHECKS = {
    "minimal": minimal_release,
    "full": full_release,
    "missing id": lambda: changed("/id", _REMOVE, minimal_release()),
    "wrong type": lambda: changed("/tender/title", 5),
    "tender status bogus": lambda: changed("/tender/status", "bogus"),
    "unknown law": lambda: changed("/tender/mexico/law", "LEY"),
    "bad bid value": lambda: changed("/bids/details/0/value/amount", "mucho"),
    "ocid without prefix": lambda: changed("/ocid", "EXP-2026-0001"),
}
FORMAT_CROSS_CHECKS = {
    "bad date-time": lambda: changed("/date", "2026-02-30T00:00:00Z"),
    "relative url": lambda: changed("/tender/documents/0/url", "/api/documents/abc"),
}


@pytest.fixture(scope="module")
def reference_verdicts(tmp_path_factory) -> dict[str, tuple[bool, bool]]:
    """Run shared/tools/ocds_validate.py --wrap on each cross-check release (in parallel), both extensions applied.

    Return, by case, whether it found no error and whether it checked the date-time and uri formats:
    it does only where the optional `jsonschema[format-nongpl]` packages are installed, and says so.
    """
    if not REFERENCE.is_file():
        _absent(REFERENCE)
    folder = tmp_path_factory.mktemp("reference")
    extensions = [arg for path in schema.EXTENSION_DIRS for arg in ("--extension", str(path))]
    running = {}
    for i, (case, make) in enumerate({**CROSS_CHECKS, **FORMAT_CROSS_CHECKS}.items()):
        path = folder / f"{i}.json"
        path.write_text(json.dumps(make(), ensure_ascii=False), encoding="utf-8")
        command = [sys.executable, str(REFERENCE), "--wrap", *extensions, str(path)]
        running[case] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    verdicts = {}
    for case, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr
        assert stdout.splitlines()[-1].startswith("ocds-validate: "), stdout
        verdicts[case] = (process.returncode == 0, "format not checked" not in stdout)
    return verdicts


@pytest.mark.parametrize("case", CROSS_CHECKS)
def test_reference_validator_agrees_on_valid_and_invalid(reference_verdicts, case):
    release = CROSS_CHECKS[case]()

    ours = not schema.release_errors(release)

    assert reference_verdicts[case][0] == ours
    assert ours == (case in {"minimal", "full"})


@pytest.mark.parametrize("case", FORMAT_CROSS_CHECKS)
def test_reference_validator_agrees_on_formats_where_it_checks_them(reference_verdicts, case):
    release = FORMAT_CROSS_CHECKS[case]()

    ours = not schema.release_errors(release)
    reference, checks_formats = reference_verdicts[case]

    assert not ours
    # Without jsonschema[format-nongpl] the reference skips formats (and warns); we never do.
    assert reference == ours if checks_formats else reference
