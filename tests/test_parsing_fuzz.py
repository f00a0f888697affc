"""whales.ingestion.parsing over random edits of the real payloads (hypothesis): whatever arrives, it
returns swaps or raises MalformedTransaction, nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.payloads import CAROL, FIXTURES, fixture
from whales.ingestion.parsing import MalformedTransaction, ParsedSwap, accounts_involved, parse_swaps

GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, -(2**63), 2**64, 10**40, 10**400, -(10**5000)]),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["", "-1", "1e9", "NaN", "١٢٣", "\u2028", "💸", "0" * 50]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.none(), max_size=2),
)


def nodes(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths to every value inside `value`, itself included (as the empty path)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def value_at(tx: Any, path: tuple) -> Any:
    for step in path:
        tx = tx[step]
    return tx


def mutated(tx: Any, data: st.DataObject) -> Any:
    """`tx` with one value replaced by garbage, deleted, turned from a list into a dict, or stretched.

    Half the time the value is a scalar: amounts (numbers, or strings of digits) are where the parser
    does arithmetic, and a pick among all paths mostly lands on addresses deep in `instructions`.
    """
    paths = list(nodes(tx))
    scalars = [path for path in paths if path and isinstance(value_at(tx, path), int | float | str)]
    path = data.draw(st.sampled_from(scalars if scalars and data.draw(st.booleans()) else paths))
    if not path:
        return data.draw(GARBAGE)
    parent = tx
    for step in path[:-1]:
        parent = parent[step]
    key, value = path[-1], parent[path[-1]]
    kinds = ["replace", "delete"]
    if isinstance(value, list):
        kinds.append("dictify")
    if isinstance(value, int | float) and not isinstance(value, bool):
        kinds += ["negate", "enlarge", "explode"]
        if isinstance(value, float) or abs(value) < 10**1000:  # str() of a longer int raises by design
            kinds.append("stringify")
    kind = data.draw(st.sampled_from(kinds))
    if kind == "delete":
        del parent[key]
    elif kind == "dictify":
        parent[key] = {str(index): item for index, item in enumerate(value)}
    elif kind == "negate":
        parent[key] = -value
    elif kind == "enlarge":
        parent[key] = value * 10**30
    elif kind == "explode":
        parent[key] = -(10**5000) if value < 0 else 10**5000  # past Python's int-to-text limit
    elif kind == "stringify":
        parent[key] = str(value)
    else:
        parent[key] = data.draw(GARBAGE)
    return tx


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_mutated_payload_gives_swaps_or_malformed_transaction_and_nothing_else(data: st.DataObject) -> None:
    tx: Any = fixture(data.draw(st.sampled_from(sorted(path.name for path in FIXTURES.glob("*.json")))))
    wallet = data.draw(st.sampled_from(sorted(accounts_involved(tx)) + [CAROL, ""]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        tx = mutated(tx, data)
    assert all(isinstance(address, str) for address in accounts_involved(tx))
    try:
        swaps = parse_swaps(tx, wallet)
    except MalformedTransaction as error:
        assert "\n" not in str(error)
        return
    assert isinstance(swaps, list)
    for swap in swaps:
        assert isinstance(swap, ParsedSwap)
        assert swap.side in ("buy", "sell") and swap.token_amount > 0 and swap.quote_amount > 0
        json.dumps(swap.as_json())
