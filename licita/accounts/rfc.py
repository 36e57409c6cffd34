"""The RFC (Registro Federal de Contribuyentes), the SAT taxpayer key that identifies a supplier.

A company (persona moral) has a 12-character RFC: 3 letters of its name, the date of incorporation
as YYMMDD and a 3-character homoclave. A person (persona física) has 13: 4 letters of the name,
the date of birth as YYMMDD and the homoclave. Letters are A-Z, Ñ and &; the homoclave is A-Z and 0-9.

What is checked: the length, the structure and that the embedded YYMMDD is a real calendar date.
The date is read in the 2000s, so 000229 (29 February 2000) is accepted; every other YY has the same
leap-year status in both centuries.

What is NOT checked: the homoclave check digit (the last character, computed by SAT from the full
name) is not verified, nor whether SAT actually issued the RFC. A structurally valid RFC can still
be wrong; only SAT's own service can confirm it.

SAT's generic RFCs are accepted: XAXX010101000 (público en general, domestic) and XEXX010101000
(foreign residents without a Mexican RFC). They identify no one; see `rfc_is_generic`.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata

from django.utils.translation import gettext as _

from licita.accounts.models import PersonType
from licita.core.errors import ValidationError

#: SAT's generic RFCs: general public (domestic) and foreign residents.
RFC_GENERIC = frozenset({"XAXX010101000", "XEXX010101000"})

_COMPANY_LENGTH = 12
_PERSON_LENGTH = 13
_STRUCTURE = {
    _COMPANY_LENGTH: re.compile(r"^[A-ZÑ&]{3}[0-9]{6}[A-Z0-9]{3}$"),
    _PERSON_LENGTH: re.compile(r"^[A-ZÑ&]{4}[0-9]{6}[A-Z0-9]{3}$"),
}
_REMOVED = re.compile(r"[\s.\-]+")
# SAT's homoclave alphabets: no 0 or O in the first two characters (so a generic "000" cannot come out),
# 0-9 or A in the check-digit position.
_HOMOCLAVE_ALPHABET = "123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
_CHECK_ALPHABET = "0123456789A"


def rfc_normalize(value: str) -> str:
    """Return `value` stripped and uppercased, without spaces, hyphens or dots ("abc-010101-ab1" -> "ABC010101AB1")."""
    return _REMOVED.sub("", value.strip().upper())


def rfc_is_generic(value: str) -> bool:
    """Return whether `value` is one of SAT's generic RFCs, which identify no one."""
    return rfc_normalize(value) in RFC_GENERIC


def rfc_validate(value: str, *, field: str = "rfc") -> tuple[str, PersonType]:
    """Return the normalised RFC and its person type, or raise `ValidationError` naming `field` and the rule.

    The rule is "length" (not 12 or 13 characters), "structure" (letters, digits and homoclave not where
    they belong) or "date" (the YYMMDD is not a calendar date). The homoclave check digit is not checked.
    """
    rfc = rfc_normalize(value)
    if not rfc:
        raise ValidationError(_("RFC: the value is empty"), field=field, rule="length")
    if len(rfc) not in _STRUCTURE:
        raise ValidationError(
            _("RFC %(value)s: it has %(length)d characters; an RFC has 12 (company) or 13 (person)")
            % {"value": rfc, "length": len(rfc)},
            field=field,
            rule="length",
        )
    if not _STRUCTURE[len(rfc)].match(rfc):
        if len(rfc) == _COMPANY_LENGTH:
            message = _(
                "RFC %(value)s: a company RFC is 3 letters, 6 digits (YYMMDD) and a 3-character homoclave (A-Z, 0-9)"
            )
        else:
            message = _(
                "RFC %(value)s: a person RFC is 4 letters, 6 digits (YYMMDD) and a 3-character homoclave (A-Z, 0-9)"
            )
        raise ValidationError(message % {"value": rfc}, field=field, rule="structure")
    start = len(rfc) - 9
    digits = rfc[start : start + 6]
    try:
        dt.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        raise ValidationError(
            _("RFC %(value)s: the date %(date)s is not a real date") % {"value": rfc, "date": digits},
            field=field,
            rule="date",
        ) from None
    person_type = PersonType.COMPANY if len(rfc) == _COMPANY_LENGTH else PersonType.PERSON
    return rfc, person_type


def rfc_generate(*, name_letters: str, date: dt.date, person: bool, seed: int) -> str:
    """Return a structurally valid RFC for demo data, the same for the same arguments.

    `name_letters` gives the leading letters (accents are dropped, other characters ignored, missing
    letters are filled with X as SAT does); `date` is the incorporation or birth date; `person` asks
    for a 13-character RFC; `seed` picks the homoclave. The homoclave carries no valid check digit,
    which this module does not check either (the last character is drawn at random from 0-9 and A).
    Never returns a generic RFC.
    """
    count = 4 if person else 3
    letters = "".join(_rfc_letter(char) for char in name_letters.upper())
    letters = (letters + "X" * count)[:count]
    rng = random.Random(seed)
    homoclave = rng.choice(_HOMOCLAVE_ALPHABET) + rng.choice(_HOMOCLAVE_ALPHABET) + rng.choice(_CHECK_ALPHABET)
    rfc = f"{letters}{date:%y%m%d}{homoclave}"
    rfc_validate(rfc)
    return rfc


def _rfc_letter(char: str) -> str:
    """Return `char` as an RFC letter (A-Z, Ñ, &), accents dropped, or "" when it is not a letter."""
    if char in {"Ñ", "&"}:
        return char
    base = unicodedata.normalize("NFKD", char)[:1]
    return base if "A" <= base <= "Z" else ""
