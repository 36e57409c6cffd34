"""Model fields of the project's own."""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class JSONTextField(models.TextField):  # type: ignore[type-arg]  # django-stubs' generic TextField
    """A JSON document stored as its compact text, byte for byte as the platform wrote it.

    Used for published OCDS documents instead of `JSONField`: PostgreSQL's `jsonb` reorders the keys
    of every object and must turn the document back into text on every read, which made the bulk files
    cost minutes of database CPU. Text keeps the order the standard's documentation uses and is read
    as it is. There are no lookups into these documents: query the columns beside them.
    """

    description = "JSON document stored as text"
    # What django-stubs reads as the types this field takes and gives (any JSON value).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        """Decode the stored text."""
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        """Return the document itself (it is already decoded)."""
        return value

    def get_prep_value(self, value: Any) -> str | None:
        """Encode the document as compact UTF-8 JSON."""
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def value_to_string(self, obj: models.Model) -> str:
        """Serialise the field's value (fixtures, dumpdata) as its JSON text."""
        return self.get_prep_value(self.value_from_object(obj)) or ""
