"""Type sniffing: documents are judged by their content, never by their name."""

from __future__ import annotations

import io
import zipfile

import pytest

from licita.documents.sniff import DOCX, XLSX, sniff


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "kind", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a.pdf", "pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.png", "png", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a.jpg", "jpeg", "image/jpeg"),
        (_zip("[Content_Types].xml", "word/document.xml"), "a.docx", "docx", DOCX),
        (_zip("[Content_Types].xml", "xl/workbook.xml"), "a.xlsx", "xlsx", XLSX),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<cfdi:Comprobante/>', "a.xml", "xml", "application/xml"),
        (b"Acta de la junta de aclaraciones: preguntas y respuestas.\n", "a.txt", "text", "text/plain; charset=utf-8"),
        ("partida,descripción,importe\n1,Gasas,1200.50\n".encode(), "tabla.csv", "csv", "text/csv; charset=utf-8"),
        (b"\xef\xbb\xbfclave,importe\r\n1,2\r\n", "tabla.CSV", "csv", "text/csv; charset=utf-8"),
    ],
)
def test_sniff_accepts_document_types_by_content(data, filename, kind, content_type):
    result = sniff(data, filename)

    assert (result.kind, result.content_type, result.allowed) == (kind, content_type, True)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "exe"),
        (b"\x7fELF\x02\x01\x01\x00", "elf"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"<!DOCTYPE html><html><body>hola</body></html>", "html"),
        (b"  <html><script>alert(1)</script></html>", "html"),
        (b"Aviso\n<script>alert(document.cookie)</script>", "html"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "svg"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"></html>', "html"),
        (b"<svg onload=alert(1)>", "svg"),
        (_zip("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "office-macro"),
        (_zip("payload.exe"), "zip"),
        (b"PK\x03\x04 not really a zip", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "ole"),
        (b"{\\rtf1\\ansi hola}", "rtf"),
        (bytes(range(256)) * 4, "binary"),
        (b"texto con un NUL \x00 en medio", "binary"),
        ("texto en latin-1: año".encode("latin-1"), "binary"),
    ],
)
def test_sniff_refuses_executables_html_and_unknown_binary(data, kind):
    result = sniff(data, "documento.pdf")

    assert (result.kind, result.allowed) == (kind, False)


def test_sniff_ignores_the_file_name_for_binary_types():
    result = sniff(b"MZ\x90\x00", "convocatoria.pdf")

    assert result.kind == "exe"


def test_sniff_refuses_a_forged_zip_instead_of_failing():
    data = bytearray(_zip("[Content_Types].xml", "word/document.xml"))
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (222).to_bytes(2, "little")  # "version needed to extract": 22.2

    result = sniff(bytes(data), "bases.docx")

    assert (result.kind, result.allowed) == ("zip", False)
