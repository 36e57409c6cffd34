"""document_attach: size and type rules, the sniffed type stored, and safe download headers."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from django.urls import reverse

from licita.api.auth import token_create
from licita.core.errors import ValidationError
from licita.documents.models import Blob, Document
from licita.documents.services import document_attach
from licita.documents.sniff import DOCX
from licita.documents.store import blob_path
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% convocatoria\n%%EOF\n"


@pytest.fixture
def office():
    return factories.make_office()


@pytest.fixture
def tender(frozen_clock, office):
    return factories.publish(office, factories.make_procedure(office))


def _attach(office, procedure, data: bytes, filename: str = "convocatoria.pdf") -> Document:
    return document_attach(
        actor=office.operator,
        procedure=procedure,
        kind="tenderNotice",
        title="Convocatoria",
        filename=filename,
        content_b64=base64.b64encode(data).decode(),
    )


def _nothing_written() -> bool:
    return not Document.objects.exists() and not Blob.objects.exists()


def test_document_attach_stores_the_sniffed_content_type(office, tender):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")

    document = _attach(office, tender, buffer.getvalue(), "bases.docx")

    assert document.content_type == DOCX
    assert blob_path(document.sha256).read_bytes() == buffer.getvalue()


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("filename", "acta\x00.pdf", "text"),
        ("filename", "../acta.pdf", "filename"),
        ("filename", "   ", "required"),
        ("title", "Acta\x07 de fallo", "text"),
        ("title", "x" * 301, "max_length"),
    ],
)
def test_document_attach_refuses_a_bad_title_or_file_name(office, tender, field, value, rule):
    names = {"title": "Convocatoria", "filename": "convocatoria.pdf"} | {field: value}

    with pytest.raises(ValidationError) as refused:
        document_attach(
            actor=office.operator,
            procedure=tender,
            kind="tenderNotice",
            content_b64=base64.b64encode(PDF).decode(),
            **names,
        )

    assert (refused.value.detail["field"], refused.value.detail["rule"]) == (field, rule)
    assert _nothing_written()


def test_document_attach_refuses_an_executable_renamed_pdf(office, tender):
    with pytest.raises(ValidationError) as caught:
        _attach(office, tender, b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "convocatoria.pdf")

    error = caught.value
    assert (error.detail["field"], error.detail["rule"], error.detail["detected"]) == ("content_b64", "type", "exe")
    assert "EXE" in str(error.message)  # "Windows executable (EXE/DLL)", in Spanish or English
    assert "PDF" in str(error.message)
    assert "pdf" in error.detail["allowed"]
    assert _nothing_written()


def test_document_attach_refuses_html(office, tender):
    with pytest.raises(ValidationError) as caught:
        _attach(office, tender, b"<!doctype html><html><script>alert(1)</script></html>", "aviso.txt")

    assert (caught.value.detail["field"], caught.value.detail["rule"]) == ("content_b64", "type")
    assert caught.value.detail["detected"] == "html"
    assert _nothing_written()


def test_document_attach_refuses_a_document_over_the_size_limit(settings, office, tender):
    settings.LICITA_MAX_DOCUMENT_BYTES = 1000

    with pytest.raises(ValidationError) as caught:
        _attach(office, tender, PDF + bytes(1000))

    assert (caught.value.detail["field"], caught.value.detail["rule"]) == ("content_b64", "max_size")
    assert _nothing_written()


def test_document_attach_refuses_a_huge_payload_before_decoding_it(settings, office, tender):
    settings.LICITA_MAX_DOCUMENT_BYTES = 1000

    with pytest.raises(ValidationError) as caught:
        document_attach(
            actor=office.operator,
            procedure=tender,
            kind="tenderNotice",
            title="Convocatoria",
            filename="c.pdf",
            content_b64="!" * 5000,  # not even base64: the size is checked first
        )

    assert caught.value.detail["rule"] == "max_size"


def test_api_refuses_a_bad_type_with_422_naming_field_and_rule(client, office, tender):
    _row, secret = token_create(user=office.operator, name="tests")

    response = client.post(
        f"/api/procedures/{tender.number}/documents",
        {
            "kind": "tenderNotice",
            "title": "Convocatoria",
            "filename": "convocatoria.pdf",
            "content_b64": base64.b64encode(b"\x7fELF\x02\x01\x01" + bytes(64)).decode(),
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["detail"]["field"], body["detail"]["rule"]) == ("invalid", "content_b64", "type")
    assert _nothing_written()


def test_download_sends_the_sniffed_type_as_an_attachment_with_safe_headers(client, office, tender):
    document = _attach(office, tender, PDF, 'Convocatoria año 2026 "final".pdf')

    response = client.get(reverse("api:document_download", kwargs={"sha256": document.sha256}))

    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''Convocatoria%20a%C3%B1o%202026%20%22final%22.pdf" in response["Content-Disposition"]
    assert 'filename="Convocatoria ano 2026 _final_.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("sha", ["nothex", "ab" * 32, "../../etc/passwd", "A" * 64])
def test_download_of_an_unknown_or_malformed_hash_is_404(client, sha):
    response = client.get(f"/api/documents/{sha}")

    assert response.status_code == 404


def test_download_of_a_damaged_document_without_a_replica_is_503(client, office, tender):
    document = _attach(office, tender, PDF)
    blob_path(document.sha256).write_bytes(b"%PDF-1.4 tampered")

    response = client.get(reverse("api:document_download", kwargs={"sha256": document.sha256}))

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
