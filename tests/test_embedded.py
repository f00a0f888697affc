"""The launcher starts a real PostgreSQL and Redis, keeps their data, and leaves nothing running."""

import os
import subprocess
import sys
import time

import pytest

from aura import embedded
from tests.conftest import REPO_DIR

SCRIPT = """
import os, sys
import psycopg, redis
from aura.env import database_config
cfg = database_config(os.environ["DATABASE_URL"])
with psycopg.connect(dbname=cfg["NAME"], user=cfg["USER"], host=cfg["HOST"], autocommit=True) as db:
    db.execute("CREATE TABLE IF NOT EXISTS visits (n int)")
    db.execute("INSERT INTO visits VALUES (1)")
    visits = db.execute("SELECT count(*) FROM visits").fetchone()[0]
r = redis.Redis.from_url(os.environ["REDIS_URL"])
print(visits, r.incr("runs"))
"""


def run_under_launcher(data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["AURA_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "aura.embedded", "run", "--", sys.executable, "-c", SCRIPT],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def processes_using(path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(path) in line]


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    yield path
    env = {**os.environ, "AURA_DATA_DIR": str(path)}
    subprocess.run([sys.executable, "-m", "aura.embedded", "stop"], cwd=REPO_DIR, env=env, timeout=60)


def test_it_starts_both_services_hands_over_their_urls_and_keeps_the_data(data_dir, tmp_path):
    first = run_under_launcher(data_dir, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["1", "1"]

    second = run_under_launcher(data_dir, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["2", "2"]  # the table row and the Redis counter survived


def test_it_stops_what_it_started_when_the_command_ends(data_dir, tmp_path):
    result = run_under_launcher(data_dir, tmp_path)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 5
    while processes_using(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_using(data_dir) == []


def test_it_passes_on_the_commands_exit_code(data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["AURA_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "aura.embedded", "run", "--", sys.executable, "-c", "raise SystemExit(7)"],
        cwd=REPO_DIR, env=env, timeout=120,
    )
    assert result.returncode == 7


def test_a_long_data_path_still_gets_a_usable_redis_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("AURA_DATA_DIR", str(tmp_path / ("x" * 120)))
    assert len(str(embedded.redis_socket())) <= embedded.MAX_SOCKET_PATH + 20
