"""Free text taken from users: trimmed, without control characters, within its length (one rule everywhere)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from licita.core.errors import ValidationError

#: C0 controls but tab, newline and carriage return, and DEL: refused in any text field (PostgreSQL refuses NUL).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_field(value: Any, field: str, *, min_length: int = 1, max_length: int = 10_000) -> str:
    """Return `value` trimmed, or raise `ValidationError` naming `field` and the rule it breaks.

    Rules: `text` (control characters), `required` / `min_length`, `max_length`. A value that is not a string
    counts as empty.
    """
    text = value.strip() if isinstance(value, str) else ""
    if CONTROL_CHARACTERS.search(text):
        raise ValidationError(_("%(field)s contains control characters") % {"field": field}, field=field, rule="text")
    if len(text) < min_length:
        if min_length <= 1:
            raise ValidationError(_("%(field)s is required") % {"field": field}, field=field, rule="required")
        raise ValidationError(
            _("%(field)s must have at least %(n)d characters") % {"field": field, "n": min_length},
            field=field,
            rule="min_length",
        )
    if len(text) > max_length:
        raise ValidationError(
            _("%(field)s must have at most %(n)d characters") % {"field": field, "n": max_length},
            field=field,
            rule="max_length",
        )
    return text
