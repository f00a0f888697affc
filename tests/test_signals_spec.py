"""SIGNALS.md and the signal tests: every worked example the document names is a test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent


def signal_test_names() -> set[str]:
    names = set()
    for path in TESTS_DIR.glob("test_signals_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        }
    return names


def test_every_worked_example_in_signals_md_is_a_test():
    document = (REPO_DIR / "SIGNALS.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", document))

    assert len(named) >= 15
    assert named <= signal_test_names()
    assert "v1" in document.splitlines()[0]
