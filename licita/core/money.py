"""Money as Decimal with a currency; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from licita.core.errors import ValidationError

CURRENCIES = frozenset({"MXN", "USD", "EUR"})
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999999.99")


def parse_amount(value: Any, *, field: str, allow_zero: bool = False) -> Decimal:
    """Return `value` as a positive amount rounded to cents, or refuse it naming `field`."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(
            _("%(field)s must be a number") % {"field": field}, field=field, rule="decimal"
        ) from None
    if not amount.is_finite():
        raise ValidationError(_("%(field)s must be a finite number") % {"field": field}, field=field, rule="decimal")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(
            _("%(field)s must be greater than zero") % {"field": field}, field=field, rule="positive"
        )
    if amount > MAX_AMOUNT:
        raise ValidationError(_("%(field)s is too large") % {"field": field}, field=field, rule="max")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_currency(value: str, *, field: str = "currency") -> str:
    """Return an accepted ISO 4217 currency code, or refuse it."""
    code = (value or "").strip().upper()
    if code not in CURRENCIES:
        raise ValidationError(
            _("%(field)s must be one of %(choices)s") % {"field": field, "choices": ", ".join(sorted(CURRENCIES))},
            field=field,
            rule="choice",
        )
    return code
