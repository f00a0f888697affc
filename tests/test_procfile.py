"""`make run` starts its Procfile's processes under honcho, the Telegram bot only when it has a token:
honcho stops everything when one process exits, so a bot with nothing to do is not started at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aura import procfile
from tests.conftest import REPO_DIR


@pytest.mark.parametrize("name", ["Procfile.demo", "Procfile.dev"])
def test_make_runs_procfiles_start_the_bot_only_when_a_telegram_token_is_set(name):
    text = (REPO_DIR / name).read_text()
    every = list(procfile.parse_procfile(text).processes)
    assert "bot" in every

    with_token = procfile.choose(text, {"TELEGRAM_BOT_TOKEN": "100200300:aura-demo-bot"})
    without = procfile.choose(text, {})
    blank = procfile.choose(text, {"TELEGRAM_BOT_TOKEN": "  "})

    assert with_token == procfile.Processes(start=every, left_out={})
    assert without.start == [process for process in every if process != "bot"]
    assert without.left_out == {"bot": "TELEGRAM_BOT_TOKEN is not set"}
    assert blank == without


def test_a_token_in_the_env_file_counts_as_honcho_would_hand_it_over(tmp_path):
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:from-env-file\n")
    assert procfile.honcho_environment({"PATH": "/bin"}, tmp_path) == {
        "PATH": "/bin",
        "TELEGRAM_BOT_TOKEN": "123:from-env-file",
    }
    assert procfile.honcho_environment({"TELEGRAM_BOT_TOKEN": "x"}, tmp_path / "elsewhere") == {
        "TELEGRAM_BOT_TOKEN": "x"
    }


def run_launcher(directory, **env: str) -> str:
    environ = {key: value for key, value in os.environ.items() if key != "TELEGRAM_BOT_TOKEN"}
    environ.update(env, PYTHONPATH=str(REPO_DIR))
    result = subprocess.run(
        [sys.executable, "-m", "aura.procfile", "Procfile"],
        cwd=directory, env=environ, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_launcher_runs_honcho_without_the_bot_when_no_token_is_set(tmp_path):
    (tmp_path / "Procfile").write_text("web: echo web is up\nbot: echo bot is up\n")

    without = run_launcher(tmp_path)
    assert "bot: not started, TELEGRAM_BOT_TOKEN is not set" in without
    assert "web is up" in without and "bot.1" not in without and "bot is up" not in without

    assert "bot.1 started" in run_launcher(tmp_path, TELEGRAM_BOT_TOKEN="123:abc")


def test_make_run_goes_through_the_launcher():
    dry_run = subprocess.run(
        ["make", "-n", "run"], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HELIUS_API_KEY": ""},
    )
    assert "exec python -m aura.procfile Procfile.demo" in dry_run.stdout
    assert "honcho -f" not in dry_run.stdout
