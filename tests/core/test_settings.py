"""Settings come from the environment; SQLite is durable (WAL, synchronous=FULL)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from licita import settings as licita_settings


def test_sqlite_default_uses_wal_and_full_sync(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LICITA_DATABASE_URL"} | {"LICITA_VAR_DIR": str(tmp_path)}
    script = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA synchronous').fetchone()[0])"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env | {"DJANGO_SETTINGS_MODULE": "licita.settings"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "2"]  # 2 = FULL
    assert (tmp_path / "licita.sqlite3").exists()


def test_database_url_selects_postgresql(monkeypatch):
    monkeypatch.setenv("LICITA_DATABASE_URL", "postgres://licita@db.example:5433/licita")

    config = licita_settings._database()

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "licita")


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICITA_")} | {"LICITA_ENV": "production"}

    result = subprocess.run(
        [sys.executable, "-c", "import licita.settings"], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "LICITA_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_licita_command_is_manage_py():
    result = subprocess.run([sys.executable, "-m", "licita", "check"], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
