"""`manage.py score_signals FILE`, the CLI contract, run as the acceptance checks run it: a subprocess in the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO_DIR / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
WIF = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"


def run_score_signals(path: Path) -> subprocess.CompletedProcess:
    """The command with no serving secrets and unreachable services, so touching either would fail."""
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/no_database"
    env["REDIS_URL"] = "redis://127.0.0.1:9/0"
    return subprocess.run(
        [PYTHON, "manage.py", "score_signals", str(path)],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def score_signals(tmp_path: Path, swaps: list[dict], wallets: dict | None = None) -> list[dict]:
    path = tmp_path / "swaps.json"
    path.write_text(json.dumps({"swaps": swaps} | ({} if wallets is None else {"wallets": wallets})))
    result = run_score_signals(path)
    assert (result.returncode, result.stderr) == (0, "")
    return json.loads(result.stdout)["signals"]


def swap(t, wallet, side="buy", usd=100, token=BONK) -> dict:
    return {"t": t, "wallet": wallet, "token": token, "side": side, "usd": usd}


def test_it_prints_the_contract_json_for_a_cluster_that_grew_and_a_big_trade(tmp_path):
    swaps = [
        swap(1000, "W1", usd=100),
        swap(1060, "W2", usd=250.5),
        swap(1120, "W3", usd=12000),
        swap(1300, "W4", usd=400),
    ]
    wallets = {"W1": {"win_rate": 0.8, "cycles": 10}, "W3": {"win_rate": None, "cycles": 0}}

    assert score_signals(tmp_path, swaps, wallets) == [
        {
            "kind": "whale_accumulation",
            "token": BONK,
            "fired_at": 1120,
            "wallets": ["W1", "W2", "W3", "W4"],
            "score": 56,  # wallets 40 + net $12,750.5 → 10 + quality 30 × 0.8 / 4 = 6
            "reasons": [
                {
                    "reason": "cluster",
                    "side": "buy",
                    "wallets": 4,
                    "min_wallets": 3,
                    "window_seconds": 1800,
                    "cooldown_seconds": 21600,
                    "net_usd": "12750.5",
                },
                {"reason": "wallet", "wallet": "W1", "net_usd": "100", "joined_at": 1120, "win_rate": "0.8",
                 "cycles": 10},
                {"reason": "wallet", "wallet": "W2", "net_usd": "250.5", "joined_at": 1120, "win_rate": None,
                 "cycles": None},
                {"reason": "wallet", "wallet": "W3", "net_usd": "12000", "joined_at": 1120, "win_rate": None,
                 "cycles": 0},
                {"reason": "wallet", "wallet": "W4", "net_usd": "400", "joined_at": 1300, "win_rate": None,
                 "cycles": None},
                {"reason": "score", "component": "wallets", "value": 4, "points": 40, "max_points": 50},
                {"reason": "score", "component": "net_usd", "value": "12750.5", "points": 10, "max_points": 20},
                {"reason": "score", "component": "wallet_quality", "value": "0.2", "points": 6, "max_points": 30,
                 "min_cycles": 5},
            ],
        },
        {
            "kind": "big_trade",
            "token": BONK,
            "fired_at": 1120,
            "wallets": ["W3"],
            "score": 40,
            "reasons": [
                {
                    "reason": "big_trade",
                    "side": "buy",
                    "usd": "12000",
                    "swaps": 1,
                    "threshold_usd": "10000",
                    "growth_window_seconds": 1800,
                    "last_at": 1120,
                },
                {"reason": "wallet", "wallet": "W3", "usd": "12000", "joined_at": 1120, "win_rate": None,
                 "cycles": 0},
                {"reason": "score", "component": "size", "value": "1.2", "points": 40, "max_points": 80,
                 "unit": "x_threshold"},
                {"reason": "score", "component": "wallet_quality", "value": "0", "points": 0, "max_points": 20,
                 "min_cycles": 5},
            ],
        },
    ]  # fmt: skip


def test_a_grown_signal_is_printed_once_with_its_first_firing_time_and_final_wallets(tmp_path):
    swaps = [
        swap(1000, "W1", usd=11000),
        swap(1500, "W1", usd=20000),  # grows the big trade
        swap(1600, "W2"),
        swap(1700, "W3"),  # accumulation fires (W1, W2, W3)
        swap(5000, "W4"),
        swap(5100, "W5"),
        swap(5200, "W6"),  # the rule holds again within 6 h: W4–W6 join
        swap(1000 + 6 * 3600 + 1, "W7", usd=10000, token=WIF),
    ]

    signals = score_signals(tmp_path, swaps)

    assert [(s["kind"], s["token"], s["fired_at"], s["wallets"], s["score"]) for s in signals] == [
        ("big_trade", BONK, 1000, ["W1"], 50),
        ("whale_accumulation", BONK, 1700, ["W1", "W2", "W3", "W4", "W5", "W6"], 60),
        ("big_trade", WIF, 22601, ["W7"], 40),
    ]
    assert (signals[0]["reasons"][0]["usd"], signals[0]["reasons"][0]["swaps"]) == ("31000", 2)


def test_it_takes_swaps_in_time_order_and_ties_in_file_order(tmp_path):
    swaps = [
        swap(2000, "W3", token=WIF),
        swap(1000, "W1", token=WIF),
        swap(1000, "W1"),
        swap(1010, "W2"),
        swap(1010, "W2", token=WIF),
        swap(2000, "W3", usd=50000),
    ]

    assert [(s["kind"], s["token"], s["fired_at"]) for s in score_signals(tmp_path, swaps)] == [
        ("whale_accumulation", WIF, 2000),
        ("whale_accumulation", BONK, 2000),
        ("big_trade", BONK, 2000),
    ]


def test_it_prints_an_empty_list_when_nothing_fires(tmp_path):
    assert score_signals(tmp_path, [swap(1000, "W1"), swap(1001, "W2", usd=9999.99)]) == []
    assert score_signals(tmp_path, []) == []


def test_it_reads_numbers_in_exponent_notation_exactly(tmp_path):
    path = tmp_path / "swaps.json"
    path.write_text(
        '{"swaps": [{"t": 1000, "wallet": "W1", "token": "T", "side": "buy", "usd": 1.00000000000000001E4}]}'
    )

    result = run_score_signals(path)

    assert result.returncode == 0
    (signal,) = json.loads(result.stdout)["signals"]
    assert (signal["kind"], signal["reasons"][0]["usd"]) == ("big_trade", "10000.0000000000001")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"swaps": [', "is not valid JSON"),
        ("[]", 'should hold an object with a "swaps" array'),
        ('{"swaps": {}}', 'should hold an object with a "swaps" array'),
        ('{"swaps": [1]}', "swaps[0]: expected an object, got a number"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy"}]}', "swaps[0]: missing usd"),
        ('{"swaps": [{"t": "1", "wallet": "W1", "token": "T", "side": "buy", "usd": 1}]}', "t must be an integer"),
        ('{"swaps": [{"t": true, "wallet": "W1", "token": "T", "side": "buy", "usd": 1}]}', "t must be an integer"),
        ('{"swaps": [{"t": 1.5, "wallet": "W1", "token": "T", "side": "buy", "usd": 1}]}', "t must be an integer"),
        ('{"swaps": [{"t": 1, "wallet": "", "token": "T", "side": "buy", "usd": 1}]}', "wallet must be a non-empty"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": 5, "side": "buy", "usd": 1}]}', "token must be a non-empty"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "hold", "usd": 1}]}', 'side must be "buy"'),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "BUY", "usd": 1}]}', 'side must be "buy"'),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": "1"}]}', "usd must be a number"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": true}]}', "usd must be a number"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": NaN}]}', "usd must be a finite"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": -Infinity}]}', "finite"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": 1e999}]}', "usd is out of range"),
        ('{"swaps": [{"t": 1, "wallet": "W1", "token": "T", "side": "buy", "usd": -5}]}', "usd must not be negative"),
        ('{"swaps": [], "wallets": []}', '"wallets" should be an object'),
        ('{"swaps": [], "wallets": {"W1": {"cycles": 3}}}', 'wallets["W1"]: missing win_rate'),
        ('{"swaps": [], "wallets": {"W1": {"win_rate": 1.5, "cycles": 3}}}', "win_rate must be between 0 and 1"),
        ('{"swaps": [], "wallets": {"W1": {"win_rate": 0.5, "cycles": 2.0}}}', "cycles must be an integer"),
        ('{"swaps": [], "wallets": {"W1": {"win_rate": 0.5, "cycles": false}}}', "cycles must be an integer"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, content, message):
    path = tmp_path / "swaps.json"
    path.write_text(content)

    result = run_score_signals(path)

    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_2(tmp_path):
    result = run_score_signals(tmp_path / "nowhere.json")

    assert result.returncode == 2
    assert "cannot read" in result.stderr and "No such file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_utf8_exits_2(tmp_path):
    path = tmp_path / "swaps.json"
    path.write_bytes(b'{"swaps": [\xff]}')

    result = run_score_signals(path)

    assert (result.returncode, len(result.stderr.strip().splitlines())) == (2, 1)
    assert "is not valid JSON" in result.stderr
