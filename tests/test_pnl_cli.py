"""`manage.py pnl FILE`, the CLI contract, run as the acceptance checks run it: a subprocess in the repo."""

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


def run_pnl(path: Path) -> subprocess.CompletedProcess:
    """The command with no serving secrets and unreachable services, so touching either would fail."""
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/no_database"
    env["REDIS_URL"] = "redis://127.0.0.1:9/0"
    return subprocess.run(
        [PYTHON, "manage.py", "pnl", str(path)], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def pnl(tmp_path: Path, trades: list[dict]) -> dict:
    path = tmp_path / "trades.json"
    path.write_text(json.dumps({"trades": trades}))
    result = run_pnl(path)
    assert (result.returncode, result.stderr) == (0, "")
    return json.loads(result.stdout)


def trade(t, side, amount, price, fee=0, token="AAA") -> dict:
    return {"t": t, "side": side, "token": token, "amount": amount, "price": price, "fee": fee}


def test_it_prints_the_contract_json_for_buys_and_an_oversell(tmp_path):
    trades = [trade(1, "buy", 10, 1), trade(2, "buy", 10, 2), trade(3, "sell", 15, 3), trade(4, "sell", 10, 3)]

    assert pnl(tmp_path, trades) == {
        "realized_pnl": "30",
        "tokens": {
            "AAA": {"realized_pnl": "30", "remaining_amount": "0", "remaining_cost_basis": "0", "missing_amount": "5"}
        },
        "sells": [
            {
                "index": 2,
                "token": "AAA",
                "amount": "15",
                "proceeds": "45",
                "cost_basis": "20",
                "realized_pnl": "25",
                "missing_amount": "0",
                "matched": [[0, "10"], [1, "5"]],
            },
            {
                "index": 3,
                "token": "AAA",
                "amount": "10",
                "proceeds": "15",
                "cost_basis": "10",
                "realized_pnl": "5",
                "missing_amount": "5",
                "matched": [[1, "5"]],
            },
        ],
        "cycles": [{"token": "AAA", "opened_index": 0, "closed_index": 3, "realized_pnl": "30", "complete": False}],
        "win_rate": {"cycles": None, "sells": "1"},
    }


def test_it_keeps_decimals_exact_and_prints_them_without_exponents(tmp_path):
    path = tmp_path / "trades.json"
    path.write_text(
        '{"trades": ['
        '{"t": 1, "side": "buy", "token": "AAA", "amount": 0.1, "price": 3, "fee": 0},'
        '{"t": 2, "side": "buy", "token": "AAA", "amount": 0.2, "price": 3, "fee": 0},'
        '{"t": 3, "side": "sell", "token": "AAA", "amount": 0.3, "price": 4, "fee": 0},'
        '{"t": 4, "side": "buy", "token": "BBB", "amount": 1, "price": 1e-6, "fee": 0},'
        '{"t": 5, "side": "sell", "token": "BBB", "amount": 0.5, "price": 0.000004, "fee": 0.0000005}]}'
    )
    result = run_pnl(path)

    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert out["realized_pnl"] == "0.300001"
    assert out["tokens"] == {
        "AAA": {"realized_pnl": "0.3", "remaining_amount": "0", "remaining_cost_basis": "0", "missing_amount": "0"},
        "BBB": {
            "realized_pnl": "0.000001",
            "remaining_amount": "0.5",
            "remaining_cost_basis": "0.0000005",
            "missing_amount": "0",
        },
    }
    assert (out["sells"][1]["proceeds"], out["sells"][1]["cost_basis"]) == ("0.0000015", "0.0000005")


def test_it_applies_trades_in_the_given_order_without_sorting(tmp_path):
    out = pnl(tmp_path, [trade(1, "sell", 5, 2), trade(1, "buy", 5, 1)])

    assert out["sells"][0]["missing_amount"] == "5"
    assert out["tokens"]["AAA"]["remaining_amount"] == "5"
    assert out["cycles"] == [
        {"token": "AAA", "opened_index": 1, "closed_index": None, "realized_pnl": "0", "complete": True}
    ]
    assert out["win_rate"] == {"cycles": None, "sells": None}


def test_it_rates_closed_cycles_and_sells(tmp_path):
    trades = [
        trade(1, "buy", 10, 1),
        trade(2, "sell", 4, 2),
        trade(3, "sell", 6, 0.5),
        trade(4, "buy", 10, 1, fee=0.5, token="BBB"),
        trade(5, "sell", 10, 2, token="BBB"),
    ]
    out = pnl(tmp_path, trades)

    assert [(cycle["token"], cycle["realized_pnl"]) for cycle in out["cycles"]] == [("AAA", "1"), ("BBB", "9.5")]
    assert out["win_rate"] == {"cycles": "1", "sells": "0.6666666666666666666666666667"}
    assert out["realized_pnl"] == "10.5"


def test_it_prints_open_and_closed_cycles_by_opening_index(tmp_path):
    trades = [trade(1, "buy", 10, 1, token="OPEN"), trade(2, "buy", 1, 1), trade(3, "sell", 1, 1)]
    out = pnl(tmp_path, trades)

    assert [(cycle["opened_index"], cycle["closed_index"]) for cycle in out["cycles"]] == [(0, None), (1, 2)]
    assert out["win_rate"]["cycles"] == "0"


def test_it_prints_empty_results_for_no_trades(tmp_path):
    assert pnl(tmp_path, []) == {
        "realized_pnl": "0",
        "tokens": {},
        "sells": [],
        "cycles": [],
        "win_rate": {"cycles": None, "sells": None},
    }


GOOD = '{"t": 1, "side": "buy", "token": "AAA", "amount": 1, "price": 1, "fee": 0}'


def one_trade(old: str, new: str) -> str:
    """A file with one trade: GOOD with `old` replaced by `new`."""
    assert old in GOOD
    return '{"trades": [' + GOOD.replace(old, new) + "]}"


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"trades": [{"side": "buy"}]}', "trades[0]: missing t, token, amount, price, fee"),
        (one_trade('"fee": 0', '"gas": 0'), "trades[0]: missing fee"),
        (one_trade('"amount": 1', '"amount": "1"'), 'amount must be a number, got "1"'),
        (one_trade('"amount": 1', '"amount": true'), "amount must be a number, got true"),
        (one_trade('"t": 1', '"t": null'), "t must be a number, got null"),
        (one_trade('"token": "AAA"', '"token": 7'), "token must be a non-empty string, got 7"),
        (one_trade('"amount": 1', '"amount": -1'), "amount must be positive, got -1"),
        (one_trade('"amount": 1', '"amount": 0'), "amount must be positive, got 0"),
        (one_trade('"price": 1', '"price": -0.5'), "price must not be negative, got -0.5"),
        (one_trade('"fee": 0', '"fee": -1'), "fee must not be negative, got -1"),
        (one_trade('"price": 1', '"price": NaN'), "price must be a finite number, got NaN"),
        (one_trade('"amount": 1', '"amount": Infinity'), "amount must be a finite number, got Infinity"),
        (one_trade('"amount": 1', '"amount": 1e999'), "amount is out of range"),
        (one_trade('"side": "buy"', '"side": "short"'), 'side must be "buy" or "sell", got "short"'),
        (one_trade('"side": "buy"', '"side": "transfer_in"'), 'side must be "buy" or "sell"'),
        ("[" + GOOD + "]", 'should hold an object with a "trades" array'),
        ('{"trades": {}}', 'should hold an object with a "trades" array'),
        ('{"trades": [[1, "buy"]]}', "trades[0]: expected an object, got an array"),
        ('{"trades": [' + GOOD + ", 5]}", "trades[1]: expected an object, got a number"),
        ('{"trades": [', "is not valid JSON"),
    ],
)
def test_it_refuses_bad_input_with_exit_code_2_and_one_line(tmp_path, content, message):
    path = tmp_path / "trades.json"
    path.write_text(content)
    result = run_pnl(path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_it_refuses_a_missing_file_with_exit_code_2_and_one_line(tmp_path):
    result = run_pnl(tmp_path / "absent.json")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"CommandError: cannot read {tmp_path / 'absent.json'}: No such file or directory"
    ]


def test_it_refuses_bytes_that_are_not_utf8_with_exit_code_2_and_one_line(tmp_path):
    path = tmp_path / "trades.json"
    path.write_bytes(b'{"trades": [{"token": "\xff"}]}')
    result = run_pnl(path)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not valid JSON" in result.stderr
