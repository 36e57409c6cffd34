"""The text a procedure is found by: one normalised column, kept current by every published act.

Names and titles of a procedure live in several tables (unit, institution, awarded suppliers,
contracts); searching them with joins and `EXISTS` on every query does not scale to hundreds of
thousands of procedures. Each act that publishes a release writes the procedure's search text once
(lower case, accents removed), and a search is then `search_text LIKE '%word%'` for each word: on
PostgreSQL a trigram (pg_trgm) GIN index answers it; on SQLite a scan of one column.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from licita.procurement.models import Procedure

MAX_WORDS = 8


def normalize(text: str) -> str:
    """Return `text` in lower case without accents and with single spaces: "Cómputo  SAT" -> "computo sat"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def query_words(text: str) -> list[str]:
    """Return the words of a search, normalised; every one of them must match."""
    return normalize(text).split()[:MAX_WORDS]


def search_document(procedure: Procedure) -> str:
    """Return the procedure's search text: its codes, title and description, buyer, suppliers and contracts."""
    unit = procedure.unit
    institution = unit.institution
    parts = [
        procedure.number,
        procedure.expediente,
        procedure.title,
        procedure.description,
        unit.key,
        unit.name,
        institution.siglas,
        institution.name,
    ]
    for name, rfc in procedure.awards.values_list("supplier__name", "supplier__rfc"):
        parts += [name, rfc]
    for title, code in procedure.contracts.values_list("title", "code"):
        parts += [title, code]
    return normalize(" ".join(p for p in parts if p))


def search_text_refresh(procedure: Procedure) -> None:
    """Write the procedure's search text (called with every published act, in its transaction)."""
    text = search_document(procedure)
    if text != procedure.search_text:
        procedure.search_text = text
        type(procedure).objects.filter(pk=procedure.pk).update(search_text=text)
