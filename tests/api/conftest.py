from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from licita.api.auth import token_create


class ApiClient:
    """A JSON client that authenticates with a per-user bearer token, as a program would."""

    def __init__(self, user: Any | None = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            _row, secret = token_create(user=user, name="tests")
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/api{path}", data, content_type="application/json", headers=self.headers)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(f"/api{path}", json.dumps(body), content_type="application/json", headers=self.headers)


@pytest.fixture
def api():
    return ApiClient
