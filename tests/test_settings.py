"""Settings come from the environment and refuse nonsense loudly, naming the variable."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from aura.env import Env, celery_broker_url, database_config
from tests.conftest import REPO_DIR, free_port


def settings_import(**overrides: str) -> subprocess.CompletedProcess:
    """Import aura.settings in a fresh interpreter with the given environment."""
    env = {k: v for k, v in os.environ.items() if k not in overrides}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": "mysql://root@localhost/aura"}, "DATABASE_URL"),
        ({"REDIS_URL": "memcached://localhost"}, "REDIS_URL"),
        ({"HELIUS_BASE_URL": "not a url"}, "HELIUS_BASE_URL"),
        ({"BIRDEYE_BASE_URL": "ftp://example.com"}, "BIRDEYE_BASE_URL"),
        ({"BIRDEYE_TIMEOUT_SECONDS": "0"}, "BIRDEYE_TIMEOUT_SECONDS"),
        ({"DEXSCREENER_RATE_PER_SECOND": "fast"}, "DEXSCREENER_RATE_PER_SECOND"),
        ({"DEXSCREENER_TIMEOUT_SECONDS": "soon"}, "DEXSCREENER_TIMEOUT_SECONDS"),
        ({"JUPITER_RATE_PER_SECOND": "-1"}, "JUPITER_RATE_PER_SECOND"),
        ({"JUPITER_TIMEOUT_SECONDS": "ten"}, "JUPITER_TIMEOUT_SECONDS"),
        ({"SENTRY_DSN": "nonsense"}, "SENTRY_DSN"),
        ({"LOGIN_FAILURES_PER_IP": "lots"}, "LOGIN_FAILURES_PER_IP"),
        ({"LOGIN_FAILURES_PER_USERNAME": "5 per minute"}, "LOGIN_FAILURES_PER_USERNAME"),
    ],
)
def test_it_refuses_bad_settings_with_one_line_naming_the_variable(overrides, named):
    result = settings_import(**overrides)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]


def test_it_gives_one_line_when_the_database_url_points_nowhere():
    port = free_port()  # nothing listens there once the probe socket is closed
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate"],
        cwd=REPO_DIR,
        env={**os.environ, "DATABASE_URL": f"postgres://aura:s3cret@127.0.0.1:{port}/aura"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot connect to the database at postgres://aura:***@127.0.0.1:")
    assert "DATABASE_URL" in line
    assert "s3cret" not in line


@pytest.mark.parametrize("word", ["true", "True", "1", "yes", "on"])
def test_it_reads_true_words(word):
    assert Env({"DEBUG": word}).bool("DEBUG", default=False) is True


@pytest.mark.parametrize("word", ["false", "0", "no", "off", ""])
def test_it_reads_false_words(word):
    assert Env({"DEBUG": word}).bool("DEBUG", default=True) is False


def test_it_refuses_a_negative_number():
    with pytest.raises(ImproperlyConfigured, match="HELIUS_RATE_PER_SECOND"):
        Env({"HELIUS_RATE_PER_SECOND": "-1"}).float("HELIUS_RATE_PER_SECOND", default=2.0)


def test_it_reads_a_socket_database_url():
    config = database_config("postgresql://postgres@/aura?host=/srv/data/postgres")
    assert config["NAME"] == "aura"
    assert config["USER"] == "postgres"
    assert (config["HOST"], config["PORT"]) == ("/srv/data/postgres", "")


def test_it_reads_a_tcp_database_url_with_an_escaped_password():
    config = database_config("postgres://app:p%40ss@db.internal:6432/aura_prod?sslmode=require")
    assert config["PASSWORD"] == "p@ss"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", "6432", "aura_prod")
    assert config["OPTIONS"]["sslmode"] == "require"


def test_it_refuses_a_database_url_without_a_database_name():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_config("postgres://app@db.internal:5432/")


def test_celery_gets_kombus_spelling_of_a_unix_socket():
    assert celery_broker_url("unix:///srv/redis.sock?db=3") == "redis+socket:///srv/redis.sock?virtual_host=3"
    assert celery_broker_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_cli_contract_commands_run_without_any_serving_settings():
    bare = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    fixture = REPO_DIR / "tests" / "fixtures" / "helius" / "helius_transfer_SYSTEM_PROGRAM_sol.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "parse_swaps", str(fixture)],
        cwd=REPO_DIR, env=bare, capture_output=True, text=True, timeout=60,
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "[]", "")
    serving = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO_DIR, env=bare, capture_output=True, text=True, timeout=60
    )
    assert "SECRET_KEY must be set" in serving.stderr
