"""The production settings pass Django's deployment checks; the node refuses unsafe starts."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO


def production_env(**overrides) -> dict:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production does not.
    dropped = {"TEST_DATABASE_NAME", "METRICS_TOKEN", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PUBLIC_ID_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "brobygger.kommune.example",
            "HTTPS": "true",
            "SECURE_PROXY_SSL_HEADER": "true",
            "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/postgres"),
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "DB_POOL": "false",
        }
    )
    env.update(overrides)
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_https():
    """The check above can fail: without HTTPS the deployment checks complain."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(HTTPS="false"))
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr


def test_check_deploy_warns_when_the_public_id_key_is_unset():
    """Derived from SECRET_KEY, the public ids of tasks and events change with it."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(PUBLIC_ID_KEY=""))
    assert result.returncode != 0
    assert "workflows.W001" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"DATABASE_URL": "sqlite:////tmp/brobygger-not-production.sqlite3"}, "must point to PostgreSQL"),
        ({"STATIC_ROOT": ""}, "STATIC_ROOT must be set"),
    ],
)
def test_serve_refuses_to_start_unsafely(overrides, says):
    result = manage("serve", "--bind", "127.0.0.1:1", env=production_env(**{"STATIC_ROOT": "/tmp/static", **overrides}))
    assert result.returncode != 0
    assert says in result.stderr


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 24 characters"),
        ({"DB_POOL": "true", "DB_POOL_MIN_SIZE": "9", "DB_POOL_MAX_SIZE": "4"}, "DB_POOL_MIN_SIZE"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or text"),
    ],
)
def test_bad_operations_settings_stop_start_up(overrides, says):
    result = manage("check", env=production_env(**overrides))
    assert result.returncode != 0 and says in result.stderr


def email_settings(**overrides) -> subprocess.CompletedProcess:
    code = "from django.conf import settings as s; print(s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    return manage("shell", "-c", code, env=production_env(**overrides))


@pytest.mark.parametrize(
    ("overrides", "tls_ssl"),
    [
        ({"EMAIL_HOST": "smtp.kommune.example"}, "True False"),  # another host: STARTTLS
        ({"EMAIL_HOST": "localhost"}, "False False"),  # a relay on this host
        ({"EMAIL_HOST": "smtp.kommune.example", "EMAIL_USE_TLS": "false"}, "False False"),  # said so
        ({"EMAIL_HOST": "smtp.kommune.example", "EMAIL_USE_SSL": "true"}, "False True"),
    ],
)
def test_mail_to_another_host_goes_under_tls_unless_said_otherwise(overrides, tls_ssl):
    """A password-reset mail is a key to an account; no setting could turn TLS on before."""
    result = email_settings(**overrides)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == tls_ssl.split()


def test_mail_tls_and_ssl_together_stop_start_up():
    result = email_settings(EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")
    assert result.returncode != 0 and "EMAIL_USE_TLS and EMAIL_USE_SSL" in result.stderr


@pytest.mark.parametrize("inside", ["", "archive"])
def test_the_archive_folder_inside_the_served_static_files_stops_start_up(tmp_path, inside):
    """whitenoise serves what STATIC_ROOT holds when it starts: a package there (the case
    file, with the national id) would be served to anybody after the next restart."""
    static_root = tmp_path / "static"
    result = manage(
        "check",
        env=production_env(STATIC_ROOT=str(static_root), ARCHIVE_EXPORT_DIR=str(static_root / inside)),
    )
    assert result.returncode != 0 and "ARCHIVE_EXPORT_DIR must not be inside" in result.stderr
    assert (
        manage(
            "check", env=production_env(STATIC_ROOT=str(static_root), ARCHIVE_EXPORT_DIR=str(tmp_path / "a"))
        ).returncode
        == 0
    )
