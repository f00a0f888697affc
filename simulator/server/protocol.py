"""Requests, replies, HTTP errors and injected faults: what every handler of the simulator speaks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

Route = Callable[["_Request"], Any]


class HttpError(Exception):
    """Answer the request with `status` and the JSON `body`."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class Fault:
    """An injected fault for the next `remaining` requests whose path starts with `path_prefix`."""

    remaining: int
    path_prefix: str = "/"
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    malformed: bool = False

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    match: re.Match[str]

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HttpError(400, {"error": "request body is not valid JSON"}) from None


def _json_reply(status: int, body: Any) -> _Reply:
    return _Reply(status, json.dumps(body, ensure_ascii=False).encode())


def _fault_reply(fault: Fault, path: str) -> _Reply:
    status = fault.status or 500
    headers = {}
    if fault.retry_after is not None:
        seconds = fault.retry_after
        headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    if path.startswith("/v0/") and status == 429:
        body: Any = {"jsonrpc": "2.0", "error": {"code": -32005, "message": "Rate limit exceeded"}, "id": "1"}
    elif path.startswith("/defi/"):
        body = {"success": False, "message": "Too many requests" if status == 429 else "Internal server error"}
    else:
        body = {"error": "Too many requests" if status == 429 else f"HTTP {status}"}
    reply = _json_reply(status, body)
    reply.headers.update(headers)
    return reply
