"""Tell a document's type from its content (magic bytes and structure), never from its name or a client's claim.

Public documents are served to anyone, so only types that browsers and office software open as documents are
accepted: PDF, PNG, JPEG, Word and Excel (DOCX, XLSX, without macros), XML, and UTF-8 plain text or CSV.
Executables, scripts, HTML, SVG and unknown binary data are refused. The name only picks between equivalent
text types (a `.csv` file that is UTF-8 text is CSV).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: How much of the start of a text file is searched for HTML markers.
HEAD = 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Sniffed:
    """What the content is: a stable `kind`, the MIME type to serve it with, a name for people, and whether accepted."""

    kind: str
    content_type: str
    label: str | Promise
    allowed: bool


def _ok(kind: str, content_type: str, label: str | Promise) -> Sniffed:
    return Sniffed(kind, content_type, label, allowed=True)


def _no(kind: str, label: str | Promise, content_type: str = "application/octet-stream") -> Sniffed:
    return Sniffed(kind, content_type, label, allowed=False)


#: The accepted kinds and their names, in the order error messages list them.
ALLOWED: dict[str, str | Promise] = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "docx": _("Word (DOCX)"),
    "xlsx": _("Excel (XLSX)"),
    "xml": "XML",
    "text": _("plain text (UTF-8)"),
    "csv": _("CSV (UTF-8)"),
}

#: Binary signatures checked in order: (prefix, result).
_MAGIC: tuple[tuple[bytes, Sniffed], ...] = (
    (b"%PDF-", _ok("pdf", "application/pdf", "PDF")),
    (b"\x89PNG\r\n\x1a\n", _ok("png", "image/png", "PNG")),
    (b"\xff\xd8\xff", _ok("jpeg", "image/jpeg", "JPEG")),
    (b"MZ", _no("exe", _("a Windows executable (EXE/DLL)"))),
    (b"\x7fELF", _no("elf", _("an ELF executable"))),
    (b"\xfe\xed\xfa\xce", _no("macho", _("a Mach-O executable"))),
    (b"\xfe\xed\xfa\xcf", _no("macho", _("a Mach-O executable"))),
    (b"\xce\xfa\xed\xfe", _no("macho", _("a Mach-O executable"))),
    (b"\xcf\xfa\xed\xfe", _no("macho", _("a Mach-O executable"))),
    (b"\xca\xfe\xba\xbe", _no("macho", _("a Mach-O universal binary or Java class"))),
    (b"\x00asm", _no("wasm", _("a WebAssembly module"))),
    (b"dex\n", _no("dex", _("an Android executable (DEX)"))),
    (b"#!", _no("script", _("a script (#!)"))),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _no("ole", _("a legacy Office or installer file (DOC/XLS/MSI)"))),
    (b"GIF87a", _no("gif", _("a GIF image"))),
    (b"GIF89a", _no("gif", _("a GIF image"))),
    (b"Rar!\x1a\x07", _no("rar", _("a RAR archive"))),
    (b"7z\xbc\xaf\x27\x1c", _no("7z", _("a 7-Zip archive"))),
    (b"\x1f\x8b", _no("gzip", _("a gzip archive"))),
    (b"{\\rtf", _no("rtf", _("an RTF document"))),
    (b"%!PS", _no("postscript", _("a PostScript program"))),
)

_UNKNOWN = _no("binary", _("binary data of an unknown type"))
_HTML = _no("html", _("HTML"), "text/html")
_SVG = _no("svg", _("an SVG image"), "image/svg+xml")

# WHATWG MIME sniffing's HTML markers (a tag name followed by a space or ">"), checked at the start of the text;
# and tags that make a browser run or embed something, checked anywhere in its head.
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)[\s>]|<!--"
)
_HTML_ANYWHERE = re.compile(r"<(?:!doctype\s+html|html|script|iframe|object|embed|body|svg)[\s>/]")
_XML_DECL = re.compile(r"<\?xml[\s?]")
_FIRST_ELEMENT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
# Control characters that have no business in a text document (tab, line feed, form feed and carriage return
# are fine; a trailing DOS end-of-file mark is ignored).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,  # "zip file version 22.2": a header from a future or a forged archive
    UnicodeDecodeError,
    KeyError,
)


def sniff(data: bytes, filename: str = "") -> Sniffed:
    """Return what `data` is, judged by its content."""
    for prefix, result in _MAGIC:
        if data.startswith(prefix):
            return result
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip(data)
    return _text(data, filename)


def _zip(data: bytes) -> Sniffed:
    """Tell Office Open XML documents from other ZIP files, reading only the archive's directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except _ZIP_ERRORS:
        return _no("zip", _("a damaged ZIP archive"))
    if "[Content_Types].xml" not in names:
        if "mimetype" in names:
            return _no("odf", _("an OpenDocument file (ODT/ODS)"))
        return _no("zip", _("a ZIP archive"), "application/zip")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return _no("office-macro", _("an Office file with macros (DOCM/XLSM)"))
    if "word/document.xml" in names:
        return _ok("docx", DOCX, _("Word (DOCX)"))
    if "xl/workbook.xml" in names:
        return _ok("xlsx", XLSX, _("Excel (XLSX)"))
    if "ppt/presentation.xml" in names:
        return _no("pptx", _("a PowerPoint presentation (PPTX)"))
    return _no("ooxml", _("an Office Open XML package of an unknown kind"))


def _text(data: bytes, filename: str) -> Sniffed:
    """Accept UTF-8 text (plain, CSV or XML) that no browser would take for HTML or SVG."""
    body = data.removeprefix(b"\xef\xbb\xbf").removesuffix(b"\x1a")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _UNKNOWN
    if _CONTROL.search(text):
        return _UNKNOWN
    head = text[:HEAD].lstrip().lower()
    if _XML_DECL.match(head) or (_FIRST_ELEMENT.match(head) and not _HTML_START.match(head)):
        return _xml(head)
    if _HTML_START.match(head) or _HTML_ANYWHERE.search(head):
        return _HTML
    if filename.lower().endswith((".csv", ".tsv")):
        return _ok("csv", "text/csv; charset=utf-8", _("CSV (UTF-8)"))
    return _ok("text", "text/plain; charset=utf-8", _("plain text (UTF-8)"))


def _xml(head: str) -> Sniffed:
    """Accept XML unless it is (X)HTML or SVG, which browsers render and run scripts in."""
    if "<!doctype html" in head or "http://www.w3.org/1999/xhtml" in head or _HTML_ANYWHERE.search(head):
        return _SVG if "<svg" in head else _HTML
    prolog = re.sub(r"<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>", "", head, flags=re.DOTALL)
    first = _FIRST_ELEMENT.search(prolog)
    if first is not None and first.group(2) == "svg":
        return _SVG
    if first is not None and first.group(2) == "html":
        return _HTML
    return _ok("xml", "application/xml", "XML")


def allowed_names() -> str:
    """Return the accepted types as a list for people ("PDF, PNG, …")."""
    return ", ".join(str(name) for name in ALLOWED.values())
