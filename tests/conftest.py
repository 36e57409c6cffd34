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
    settings.LICITA_RUNTIME_DIR = str(tmp_path / "run")  # the read-only state file, one per test
    settings.LICITA_MIN_FREE_BYTES = 0  # tests of the free-space floor set their own
    from licita.ops import state  # noqa: PLC0415

    state.reset_for_tests()


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


def pytest_configure(config: pytest.Config) -> None:
    """Let the test database's flushes empty the ledger tables, whose triggers refuse DELETE on SQLite.

    Transactional tests end with a flush (DELETE FROM every table on SQLite; TRUNCATE on PostgreSQL, which
    row triggers do not see). Drop the ledger's triggers at the start of the flush and put them back at its
    end, in the same transaction: outside flushes, the database keeps refusing deletes.
    """
    import django.db.backends.sqlite3.base  # noqa: F401, PLC0415 - first: operations imports it circularly
    from django.db.backends.sqlite3.operations import DatabaseOperations  # noqa: PLC0415

    from licita.ledger.triggers import create_sql, drop_sql  # noqa: PLC0415

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements or "ledger_leaf" not in tables:
            return statements
        return [*drop_sql("sqlite"), *statements, *create_sql("sqlite")]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Keep the serialized test data reachable for `serialized_rollback` tests, whatever the connection object.

    Django keeps it on the connection object. Once Playwright's sync API runs (tests/e2e), code runs in
    greenlets with contexts of their own, and `django.db.connections` (whose storage follows the context)
    hands out other connection objects, which lack it: transactional tests then flushed without keeping the
    content types and started from an empty database, without the legal rules the migrations seed. Put it
    on the connection's class, where every connection object of the (single) test database finds it.
    """
    from django.db import connections  # noqa: PLC0415 - Django is set up by now

    for alias in connections:
        connection = connections[alias]
        contents = connection.__dict__.get("_test_serialized_contents")
        if contents is not None and len(connections.settings) == 1:
            type(connection)._test_serialized_contents = contents
