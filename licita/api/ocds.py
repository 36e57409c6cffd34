"""Public OCDS endpoints: packages per ocid, the list of records and the change feed."""

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from licita.core.errors import NotFound
from licita.publication import bulk, selectors
from licita.publication.schema import EXTENSIONS_DIR

router = Router(tags=["open data (OCDS)"])


class RecordSummaryOut(Schema):
    ocid: str
    procedure: str
    title: str
    status: str
    procedure_type: str
    buyer: str
    release_count: int
    updated_at: dt.datetime
    record_url: str

    @staticmethod
    def resolve_procedure(obj: Any) -> str:
        """Return the procedure number (tender id)."""
        return str(obj.procedure.number)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        """Return the procedure title."""
        return str(obj.procedure.title)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        """Return the procedure status."""
        return str(obj.procedure.status)

    @staticmethod
    def resolve_procedure_type(obj: Any) -> str:
        """Return the procedure type."""
        return str(obj.procedure.procedure_type)

    @staticmethod
    def resolve_buyer(obj: Any) -> str:
        """Return the buyer's siglas."""
        return str(obj.procedure.unit.institution.siglas)

    @staticmethod
    def resolve_record_url(obj: Any) -> str:
        """Return where the record package is."""
        return f"/api/ocds/records/{obj.ocid}"


class RecordFilters(Schema):
    buyer: str | None = None
    supplier: str | None = None
    status: str | None = None
    procedure_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class FeedOut(Schema):
    releases: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


@router.get("/ocds/releases/{ocid}", response=dict[str, Any])
def release_package(request: HttpRequest, ocid: str) -> dict[str, Any]:
    """Return the release package of one procedure (ocid)."""
    return selectors.release_package(ocid=ocid, uri=request.build_absolute_uri())


@router.get("/ocds/records/{ocid}", response=dict[str, Any])
def record_package(request: HttpRequest, ocid: str) -> dict[str, Any]:
    """Return the record package of one procedure: releases, compiled and versioned release."""
    return selectors.record_package(ocid=ocid, uri=request.build_absolute_uri())


@router.get("/ocds/records", response=list[RecordSummaryOut])
@paginate(PageNumberPagination, page_size=50)
def record_list(request: HttpRequest, filters: Query[RecordFilters]) -> Any:
    """List records, filtered by buyer (siglas or UC key), supplier RFC, status, type and update dates."""
    return selectors.record_list(**filters.dict())


@router.get("/ocds/feed", response=FeedOut)
def feed(request: HttpRequest, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    """Return releases in commit order after `cursor`; follow `next_cursor` to never miss or repeat one."""
    return selectors.feed_page(cursor=cursor, limit=limit)


@router.get("/ocds/bulk", response=list[dict[str, Any]])
def bulk_list(request: HttpRequest) -> list[dict[str, Any]]:
    """List the bulk dumps kept (never deleted), each with its files' sizes and SHA-256."""
    return [
        m | {"files": [f | {"url": f"/api/ocds/bulk/{m['name']}/{f['name']}"} for f in m["files"]]}
        for m in bulk.dumps_list()
    ]


@router.get("/ocds/bulk/{name}/{filename}", response={200: None, 404: dict[str, Any]})
def bulk_file(request: HttpRequest, name: str, filename: str) -> FileResponse:
    """Download one bulk file."""
    manifest = next((m for m in bulk.dumps_list() if m["name"] == name), None)
    if manifest is None or filename not in {f["name"] for f in manifest["files"]} | {"manifest.json"}:
        raise NotFound(_("Bulk file not found"))
    return FileResponse((bulk.bulk_root() / name / filename).open("rb"), as_attachment=True, filename=filename)


@router.get("/ocds/extensions/licita_mexico/{path:path}", response={200: None, 404: dict[str, Any]})
def extension_file(request: HttpRequest, path: str) -> FileResponse:
    """Serve the files of the project's own OCDS extension (extension.json, release-schema.json, codelists)."""
    root = (EXTENSIONS_DIR / "licita_mexico").resolve()
    target = (root / path).resolve()
    if not target.is_file() or root not in target.parents:
        raise NotFound(_("Extension file not found"))
    return FileResponse(
        target.open("rb"), content_type="application/json" if target.suffix == ".json" else "text/plain"
    )


@router.get("/ocds/policy", response=dict[str, Any])
def publication_policy(request: HttpRequest) -> dict[str, Any]:
    """Describe what is published, when, and how to get it."""
    return {
        "timeliness": "Every act is published as an OCDS release in the same database transaction as the act itself.",
        "sealedBids": "Bid prices and documents are published only after the opening act.",
        "feed": "/api/ocds/feed?cursor=…: releases in commit order; follow next_cursor.",
        "bulk": "/api/ocds/bulk: daily gzipped JSON Lines packages and CSV tables, kept forever, with SHA-256 manifests.",
        "ocidPrefixRegistered": False,
        "license": selectors.LICENSE,
    }
