"""Shared fixtures: the clock, the document store and a signing key in a temporary folder."""

from __future__ import annotations

import datetime as dt

import pytest

from licita.core import clock


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    settings.LICITA_DOCUMENTS_DIR = tmp_path / "documents"
    settings.LICITA_KEYS_DIR = tmp_path / "keys"
    settings.LICITA_SIGNING_KEY = ""


@pytest.fixture
def frozen_clock():
    """Freeze the platform clock; the test moves it with `frozen_clock.move(...)`."""

    class Clock:
        def __init__(self) -> None:
            self.at = dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC)
            clock.set_now(self.at)

        def move(self, **delta: float) -> dt.datetime:
            self.at += dt.timedelta(**delta)
            clock.set_now(self.at)
            return self.at

        def set(self, at: dt.datetime) -> None:
            self.at = at
            clock.set_now(at)

    c = Clock()
    yield c
    clock.set_now(None)
