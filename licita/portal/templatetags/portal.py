"""Template filters for Mexican formats: amounts with comma thousands, dates day/month/year in Mexico City."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import template

register = template.Library()
MEXICO = ZoneInfo("America/Mexico_City")


@register.filter
def mx_int(value: Any) -> str:
    """Return a whole number with comma thousands: 1234567 -> 1,234,567."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@register.filter
def mx_money(value: Any, currency: str = "MXN") -> str:
    """Return an amount as Mexico writes it: $1,234,567.89 MXN."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f} {currency}".rstrip()


@register.filter
def mx_compact(value: Any) -> str:
    """Return an amount in short form for charts and figures: $1.2 mil M, $3.4 M, $560 mil."""
    try:
        amount = float(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    for size, suffix in ((1e9, " mil M"), (1e6, " M"), (1e3, " mil")):
        if abs(amount) >= size:
            return f"${amount / size:,.1f}{suffix}"
    return f"${amount:,.0f}"


@register.filter
def mx_date(value: dt.date | dt.datetime | None) -> str:
    """Return a date as day/month/year (a datetime in Mexico City's time)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(MEXICO)
    return value.strftime("%d/%m/%Y")


@register.filter
def mx_datetime(value: dt.datetime | None) -> str:
    """Return a date and time in Mexico City's time: 25/11/2026 14:30 h."""
    if value is None:
        return ""
    return value.astimezone(MEXICO).strftime("%d/%m/%Y %H:%M h")
