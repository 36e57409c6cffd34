"""API authentication: per-user bearer tokens for programs, the session for the browser."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, django_auth

from licita.accounts.models import ApiToken, User
from licita.core import clock
from licita.core.errors import ValidationError

if TYPE_CHECKING:
    from django.http import HttpRequest

TOKEN_PREFIX = "lct_"  # noqa: S105 - a public prefix, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; return the row and the secret, shown only this once."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(_("name is required (at most 100 characters)"), field="name", rule="required")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, prefix=secret[:12], token_hash=_hash(secret))
    return row, secret


@transaction.atomic
def token_revoke(*, user: User, prefix: str) -> int:
    """Revoke the caller's tokens starting with `prefix`; return how many were revoked."""
    return ApiToken.objects.filter(user=user, prefix=prefix, revoked_at__isnull=True).update(revoked_at=clock.now())


def token_user(token: str) -> User | None:
    """Return the active user of a valid, unrevoked token."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = clock.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


class TokenAuth(HttpBearer):
    """Authenticate with `Authorization: Bearer lct_...`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        """Return the token's user."""
        return token_user(token)


AUTH = [TokenAuth(), django_auth]


def optional_actor(request: HttpRequest) -> Any:
    """Return the caller for public reads: a token's user, the session's user, or None (anonymous)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        user = token_user(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise AuthenticationError(401, _("Invalid or revoked API token"))
        return user
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
