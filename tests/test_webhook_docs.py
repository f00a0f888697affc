"""docs/webhooks.md and the example n8n workflow say what the code does: the Python snippet verifies
real requests, the examples are real output, every field is documented, and the workflow is whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

from alerts.messages import make_channel_test, make_digest, parse_event, webhook_request
from alerts.messages.webhook import EXAMPLE_PATH
from tests.alert_builders import ALICE, BONK, SIGNATURE, SITE, signal_data, swap_data

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDE = (DOCS / "webhooks.md").read_text()
WORKFLOW = json.loads((DOCS / "n8n-aura-alert-workflow.json").read_text())
DOCUMENTED_SWAP = swap_data(
    id="evt_01JD8X7Q2M",
    wallet={"address": ALICE, "label": "Smart Money 7"},
    token={"mint": BONK, "symbol": "BONK", "name": "Bonk"},
    token_amount="48210000.5",
    usd="1205.25",
    signature=SIGNATURE,
)


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE, flags=re.DOTALL)


def documented_request(timestamp: int):
    return webhook_request(
        parse_event(DOCUMENTED_SWAP), secret="test-secret", timestamp=timestamp, site_url=SITE, url_path=EXAMPLE_PATH
    )


def test_the_python_snippet_accepts_a_real_request_and_refuses_stale_or_tampered_ones():
    namespace: dict = {}
    exec(next(block for block in code_blocks("python") if "def verify_aura_signature" in block), namespace)
    verify = namespace["verify_aura_signature"]
    request = documented_request(1764000003)
    timestamp, signature = request.headers["X-Aura-Timestamp"], request.headers["X-Aura-Signature"]

    assert verify(b"test-secret", timestamp, signature, request.body_bytes, now=1764000003 + 300) is True
    assert verify(b"test-secret", timestamp, signature, request.body_bytes, now=1764000003 + 301) is False
    assert verify(b"test-secret", timestamp, signature, request.body_bytes + b" ", now=1764000003) is False
    assert verify(b"other-secret", timestamp, signature, request.body_bytes, now=1764000003) is False
    assert verify(b"test-secret", "", signature, request.body_bytes, now=1764000003) is False


def test_the_example_request_and_body_are_what_aura_sends():
    request = documented_request(1764000003)

    example_body = json.loads(next(block for block in code_blocks("json") if '"type": "swap"' in block))
    assert example_body == json.loads(request.body)
    assert f"X-Aura-Signature: {request.headers['X-Aura-Signature']}" in GUIDE
    assert f"X-Aura-Event-Id: {request.headers['X-Aura-Event-Id']}" in GUIDE
    assert f"POST {EXAMPLE_PATH} HTTP/1.1" in GUIDE


def field_names(value, names: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            names.add(key)
            field_names(item, names)
    elif isinstance(value, list):
        for item in value:
            field_names(item, names)
    return names


def test_every_field_of_every_body_type_is_documented():
    events = [parse_event(DOCUMENTED_SWAP), parse_event(signal_data())]
    alerts = [*events, make_digest(events), make_channel_test(1764000000, "desk")]
    names: set[str] = set()
    for alert in alerts:
        field_names(json.loads(webhook_request(alert, secret="s", timestamp=1, site_url=SITE).body), names)

    undocumented = sorted(name for name in names if f"`{name}` |" not in GUIDE and f"`{name}` /" not in GUIDE)
    assert undocumented == []
    for header in ("X-Aura-Event-Id", "X-Aura-Timestamp", "X-Aura-Signature"):
        assert f"| `{header}` |" in GUIDE


def test_the_n8n_workflow_is_whole_and_verifies_over_the_raw_body():
    nodes = {node["name"]: node for node in WORKFLOW["nodes"]}

    assert len(nodes) == len(WORKFLOW["nodes"])
    for source, outputs in WORKFLOW["connections"].items():
        assert source in nodes
        for branch in outputs["main"]:
            for target in branch:
                assert target["node"] in nodes and target["type"] == "main"
    webhook = nodes["AURA alert"]
    assert webhook["type"] == "n8n-nodes-base.webhook"
    assert webhook["parameters"]["httpMethod"] == "POST"
    assert "/webhook/" + webhook["parameters"]["path"] == EXAMPLE_PATH
    assert webhook["parameters"]["responseMode"] == "responseNode"
    assert webhook["parameters"]["options"]["rawBody"] is True
    code = nodes["Verify signature"]["parameters"]["jsCode"]
    for needle in ("x-aura-timestamp", "x-aura-signature", "getBinaryDataBuffer(0, 'data')", "timingSafeEqual", "300"):
        assert needle in code
    assert "$json.body" not in code  # never a re-serialised body
    responses = {name for name, node in nodes.items() if node["type"] == "n8n-nodes-base.respondToWebhook"}
    assert {nodes[name]["parameters"]["options"]["responseCode"] for name in responses} == {200, 401}
    assert [
        [target["node"] for target in branch] for branch in WORKFLOW["connections"]["Signature valid?"]["main"]
    ] == [
        ["Accept (200)"],
        ["Reject (401)"],
    ]
