"""Settings are read at import: each case runs a fresh interpreter with its own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PORTAL_ENV", "DATABASE_URL"}
    }
    clean.update(PORTAL_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="portal.settings", **env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = load_settings(tmp_path, PORTAL_ENV="production")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_is_the_default_environment(tmp_path):
    assert load_settings(tmp_path).returncode != 0


def test_production_starts_with_a_secret_key_and_debug_off(tmp_path):
    result = load_settings(tmp_path, PORTAL_ENV="production", SECRET_KEY="x" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_the_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("y" * 50)

    result = load_settings(tmp_path, PORTAL_ENV="production", SECRET_KEY_FILE=str(secret))

    assert result.returncode == 0, result.stderr


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    first = load_settings(tmp_path, PORTAL_ENV="development")
    key = (tmp_path / "secret_key").read_text()
    second = load_settings(tmp_path, PORTAL_ENV="development")

    assert first.returncode == 0 and second.returncode == 0
    assert len(key) > 40
    assert (tmp_path / "secret_key").read_text() == key


def test_postgres_variables_of_the_seed_stack_select_postgresql(tmp_path):
    result = load_settings(
        tmp_path,
        PORTAL_ENV="development",
        POSTGRES_HOST="db",
        POSTGRES_DB="portal",
        POSTGRES_USER="portal",
        POSTGRES_PASSWORD="pw",
    )

    assert result.stdout.split()[0] == "django.db.backends.postgresql"


def test_manage_py_defaults_to_development_and_the_wsgi_app_to_production(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PORTAL_ENV", "DATABASE_URL"}
    }
    env["PORTAL_VAR_DIR"] = str(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    manage = run("manage.py", "check")
    wsgi = run("-c", "import portal.wsgi")

    assert manage.returncode == 0, manage.stderr
    assert wsgi.returncode != 0
    assert "SECRET_KEY is not set" in wsgi.stderr
