"""Spanish first, English second: API errors follow Accept-Language, and the Spanish catalog is complete and compiled."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db

AUTH_EN = "Authentication required: send a bearer token or sign in"
AUTH_ES = "Se requiere autenticación: envíe un token de tipo Bearer o inicie sesión"

PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _catalog_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text.strip()[1:-1])


def _read_po(path: Path) -> list[Entry]:
    """A small PO reader: enough for a catalog written by makemessages (no obsolete `#~` entries kept)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()

    def flush() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith(("msgctxt ", "msgid ")) and (current is None or current.msgstr):
            flush()
            current = Entry(flags=pending_flags, line=number)
            pending_flags = set()
        assert current is not None, f"{path}:{number}: text outside an entry"
        keyword, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            keyword, rest = target[0], line
        else:
            target = (keyword, 0)
        value = _unquote(rest)
        if keyword == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        elif keyword == "msgid":
            current.msgid += value
        elif keyword == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            current.msgstr[index] = current.msgstr.get(index, "") + value
        else:
            pytest.fail(f"{path}:{number}: unexpected line {raw!r}")
    flush()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    entries = _read_po(_catalog_dir() / "django.po")
    assert entries, "the Spanish catalog is empty"
    assert entries[0].msgid == "", "the catalog has no header"
    return entries[1:]


# --- The API speaks Spanish by default and English on request -----------------------------------------


def _unauthenticated(**headers: str):
    response = Client().post("/api/procedures", "{}", content_type="application/json", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    return response, body["message"]


def test_api_error_is_spanish_by_default():
    response, message = _unauthenticated()
    assert message == AUTH_ES
    assert message != AUTH_EN
    assert response["Content-Language"] == "es"


def test_api_error_is_spanish_for_mexican_spanish():
    response, message = _unauthenticated(accept_language="es-MX,es;q=0.9,en;q=0.5")
    assert message == AUTH_ES
    assert response["Content-Language"] == "es"


def test_api_error_is_english_on_request():
    response, message = _unauthenticated(accept_language="en")
    assert message == AUTH_EN
    assert response["Content-Language"] == "en"


def test_api_error_for_unsupported_language_falls_back_to_spanish():
    _response, message = _unauthenticated(accept_language="fr")
    assert message == AUTH_ES


def test_api_error_language_does_not_leak_between_requests():
    assert _unauthenticated(accept_language="en")[1] == AUTH_EN
    assert _unauthenticated()[1] == AUTH_ES


# --- The catalog: complete, consistent, compiled --------------------------------------------------------


def test_every_message_is_translated(po_entries):
    untranslated = [e.msgid for e in po_entries if not e.msgstr or not all(e.msgstr.values())]
    assert untranslated == []


def test_no_message_is_fuzzy(po_entries):
    assert [e.msgid for e in po_entries if "fuzzy" in e.flags] == []


def test_plural_forms_are_all_filled(po_entries):
    header = _read_po(_catalog_dir() / "django.po")[0].msgstr[0]
    nplurals = int(re.search(r"nplurals=(\d+)", header).group(1))
    incomplete = [e.msgid for e in po_entries if e.msgid_plural and sorted(e.msgstr) != list(range(nplurals))]
    assert incomplete == []


def test_placeholders_are_kept(po_entries):
    mismatched = []
    for e in po_entries:
        expected = sorted(PLACEHOLDER.findall(e.msgid_plural or e.msgid))
        for text in e.msgstr.values():
            if sorted(PLACEHOLDER.findall(text)) != expected:
                mismatched.append((e.msgid, text))
        if "python-format" not in e.flags and "%(" in e.msgid:
            mismatched.append((e.msgid, "missing python-format flag"))
    assert mismatched == []


def test_compiled_catalog_matches_the_po(po_entries):
    """The committed django.mo holds exactly the translations of django.po: nothing stale, nothing missing."""
    with (_catalog_dir() / "django.mo").open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog
    stale = []
    for e in po_entries:
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            if catalog.get(key) != e.msgstr[0]:
                stale.append(e.msgid)
        elif any(catalog.get((key, i)) != text for i, text in e.msgstr.items()):
            stale.append(e.msgid)
    assert stale == [], "django.mo is out of date: run `python -m licita compilemessages --ignore '.venv/*'`"
    translated = {k if isinstance(k, str) else k[0] for k in catalog} - {""}
    assert len(translated) == len(po_entries)


def test_msgfmt_accepts_the_catalog(tmp_path):
    if shutil.which("msgfmt") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and GNU gettext (msgfmt) is not installed: the catalog must be checked in CI")
        pytest.skip("GNU gettext (msgfmt) is not installed")
    result = subprocess.run(
        [
            "msgfmt",
            "--check-format",
            "--check-domain",
            "--statistics",
            "-o",
            str(tmp_path / "django.mo"),
            str(_catalog_dir() / "django.po"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("purchasing unit", "unidad compradora"),
        ("supplier", "proveedor"),
        ("procedure", "procedimiento"),
        ("public tender (licitación pública)", "licitación pública"),
        ("Bid not found", "Proposición no encontrada"),
        ("bids accepted until", "fecha límite de presentación de proposiciones"),
        ("convenio modificatorio", "convenio modificatorio"),
        ("No key shares were given", "No se proporcionó ningún fragmento de la clave"),
    ],
)
def test_known_terms(english, spanish):
    with translation.override("es"):
        assert translation.gettext(english) == spanish
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_interpolated_messages_translate_with_their_values():
    with translation.override("es"):
        message = translation.gettext("%(name)s is sanctioned (inhabilitado) until %(end)s and cannot be awarded") % {
            "name": "Constructora Ejemplo SA de CV",
            "end": "2027-01-31",
        }
        assert message == (
            "Constructora Ejemplo SA de CV está sancionado (inhabilitado) hasta el 2027-01-31 y no puede resultar adjudicado"
        )
        cap = translation.gettext(
            "Amendments may add at most %(pct)s%% of the original amount (%(limit)s) under %(law)s; "
            "with this one they would add %(total)s"
        ) % {"pct": "20", "limit": "200,000.00", "law": "LAASSP", "total": "250,000.00"}
        assert "20% del monto original (200,000.00)" in cap
        assert cap.startswith("Conforme a la LAASSP,")
