"""bench/live's WebSocket clients: a minimal RFC 6455 client over asyncio, many of them in a child
process of their own, driven over a pipe.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import multiprocessing
import os
import re
import resource
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from django.conf import settings

from bench.live_servers import raise_open_file_limit

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING = 0x0, 0x1, 0x2, 0x8, 0x9
# What a client recognises in a message: our synthetic pushes, and swap rows.
MESSAGE_KEYS = re.compile(rb'data-(bench-push|swap-id)="(\d+)"')


class HandshakeRefused(Exception):
    pass


@dataclass(frozen=True)
class ClientSpec:
    host: str
    ports: tuple[int, ...]  # clients are spread over these Daphne processes, as a load balancer would
    path: str
    origin: str
    session_cookie: str
    clients: int
    concurrency: int


class Arrivals:
    """When each client first saw each key; wakes whoever waits for a key to reach every client."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.waiting: tuple[str, int, asyncio.Event] | None = None

    def record(self, seen: set[str], received_at: float, message: bytes) -> None:
        for kind, number in MESSAGE_KEYS.findall(message):
            key = f"{kind.decode()}:{number.decode()}"
            if key in seen:
                continue
            seen.add(key)
            arrivals = self.times[key]
            arrivals.append(received_at)
            if self.waiting is not None and self.waiting[0] == key and len(arrivals) >= self.waiting[1]:
                self.waiting[2].set()

    async def wait_for(self, key: str, clients: int, timeout_s: float) -> int:
        if len(self.times[key]) < clients:
            event = asyncio.Event()
            self.waiting = (key, clients, event)
            try:
                await asyncio.wait_for(event.wait(), timeout_s)
            except TimeoutError:
                pass
            finally:
                self.waiting = None
        return len(self.times[key])


class LiveSocket(asyncio.Protocol):
    """A minimal RFC 6455 client: handshake, unmasked server frames, masked pong and close frames.

    `received_at` is time.time() when the event loop handed over the bytes that completed a message:
    it includes this process's own queueing, as a browser's would."""

    def __init__(self, spec: ClientSpec, port: int, arrivals: Arrivals) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {spec.path} HTTP/1.1\r\nHost: {spec.host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {spec.origin}\r\nCookie: {settings.SESSION_COOKIE_NAME}={spec.session_cookie}\r\n\r\n"
        ).encode()
        self.expected_accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        self.arrivals = arrivals
        self.seen: set[str] = set()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.upgraded = False
        self.closing = False
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        received_at = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line, *header_lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            headers = {
                name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)
            }
            if status_line.split(" ")[1:2] != ["101"] or headers.get("sec-websocket-accept") != self.expected_accept:
                self.opened.set_exception(HandshakeRefused(status_line))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
        self.read_frames(received_at)

    def read_frames(self, received_at: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            if second & 0x80:
                raise ConnectionError("a server frame was masked (RFC 6455 5.1)")
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            opcode = first & 0x0F
            if opcode in (OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY):
                self.fragments.append(payload)
                if first & 0x80:
                    message, self.fragments = b"".join(self.fragments), []
                    self.arrivals.record(self.seen, received_at, message)
            elif opcode == OPCODE_PING:  # Daphne pings every 20 s and drops clients that do not answer
                self.send_frame(0xA, payload)
            elif opcode == OPCODE_CLOSE:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closing:
                    self.closing = True
                    self.send_frame(OPCODE_CLOSE, payload[:2])
                assert self.transport is not None
                self.transport.close()
                return

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """A masked frame with a payload under 126 bytes (control frames only here)."""
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        assert self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.closing:
            self.closing = True
            self.send_frame(OPCODE_CLOSE, code.to_bytes(2, "big"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)


async def serve_clients(pipe: Connection, spec: ClientSpec) -> None:
    """The client process: connect, report, then answer the parent's commands until "close"."""
    loop = asyncio.get_running_loop()
    arrivals = Arrivals()
    gate = asyncio.Semaphore(spec.concurrency)
    sockets: list[LiveSocket] = []
    connect_ms: list[float] = []
    failures: Counter[str] = Counter()

    async def connect_one(port: int) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                _transport, socket = await asyncio.wait_for(
                    loop.create_connection(lambda: LiveSocket(spec, port, arrivals), spec.host, port), 30
                )
                await asyncio.wait_for(socket.opened, 30)
            except (OSError, TimeoutError, HandshakeRefused) as error:
                failures[f"{type(error).__name__}: {error}"[:120]] += 1
                return
            connect_ms.append((time.perf_counter() - started) * 1000)
            sockets.append(socket)

    started = time.perf_counter()
    await asyncio.gather(*(connect_one(spec.ports[n % len(spec.ports)]) for n in range(spec.clients)))
    pipe.send(("connected", len(sockets), connect_ms, dict(failures), time.perf_counter() - started))
    while True:
        command, *args = await loop.run_in_executor(None, pipe.recv)
        if command == "expect":
            key, timeout_s = args
            pipe.send(await arrivals.wait_for(key, len(sockets), timeout_s))
        elif command == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            pipe.send(usage.ru_utime + usage.ru_stime)
        elif command == "report":
            dropped = Counter(str(s.close_code) for s in sockets if s.closed.done())
            pipe.send(({key: arrivals.times.get(key, []) for key in args[0]}, dict(dropped)))
        elif command == "close":
            for socket in sockets:
                socket.close()
            if sockets:
                await asyncio.wait([s.closed for s in sockets], timeout=10)
            pipe.send(sum(1 for s in sockets if s.closed.done()))
            return


def run_client_process(pipe: Connection, spec: ClientSpec) -> None:
    raise_open_file_limit(spec.clients + 256)
    asyncio.run(serve_clients(pipe, spec))


class ClientProcess:
    """`spec.clients` WebSocket clients in a child process of their own, driven over a pipe."""

    def __init__(self, spec: ClientSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=run_client_process, args=(child_end, spec), daemon=True)
        self.process.start()

    def receive(self, timeout_s: float) -> Any:
        if not self.pipe.poll(timeout_s):
            raise RuntimeError(f"the client process did not answer within {timeout_s:.0f} s")
        return self.pipe.recv()

    def connected(self, timeout_s: float) -> tuple[int, list[float], dict[str, int], float]:
        _, count, connect_ms, failures, seconds = self.receive(timeout_s)
        return count, connect_ms, failures, seconds

    def expect(self, key: str, timeout_s: float = 15) -> int:
        """Wait until every client has `key` (or timeout_s); how many have it."""
        self.pipe.send(("expect", key, timeout_s))
        return self.receive(timeout_s + 30)

    def cpu_seconds(self) -> float:
        """CPU time the client process has used so far."""
        self.pipe.send(("cpu",))
        return self.receive(30)

    def report(self, keys: list[str]) -> tuple[dict[str, list[float]], dict[str, int]]:
        self.pipe.send(("report", keys))
        return self.receive(60)

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.pipe.send(("close",))
                self.receive(30)
            except (RuntimeError, OSError):
                pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
