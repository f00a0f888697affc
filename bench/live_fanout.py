"""bench/live's second measurement: pushes fanned out to many WebSocket clients, through
`aura.realtime.send_html` and through the app's whole webhook path.

Imported by bench/live.py after it has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aura import realtime
from bench.live_servers import DaphneServer, Webhook
from bench.live_stats import Distribution
from bench.live_websocket import ClientProcess, ClientSpec
from bench.live_world import WARMUP_PUSHES, BenchWorld


@dataclass
class Delivery:
    """One way of pushing, to every connected client."""

    pushes: int
    expected: int
    delivered: int
    latency: Distribution  # every (client, push)
    slowest_client: Distribution  # per push: its last client
    call: Distribution  # send_html call, or the webhook's HTTP response
    daphne_cpu_ms: float = math.nan  # per push, warm-ups excluded
    clients_cpu_ms: float = math.nan
    wall_ms: float = math.nan


@dataclass
class FanoutResult:
    clients: int
    connected: int
    connect: Distribution
    connect_s: float
    failures: dict[str, int]
    dropped: dict[str, int]
    synthetic: Delivery
    webhook: Delivery


def delivery(
    pushed_ms: dict[str, float], arrivals: dict[str, list[float]], clients: int, call: Distribution
) -> Delivery:
    result = Delivery(len(pushed_ms), len(pushed_ms) * clients, 0, Distribution(), Distribution(), call)
    for key, started_ms in pushed_ms.items():
        latencies = [at * 1000 - started_ms for at in arrivals.get(key, [])]
        result.delivered += len(latencies)
        result.latency.samples += latencies
        if latencies:
            result.slowest_client.samples.append(max(latencies))
    return result


class DaphneFleet:
    """Several Daphne processes serving the same app: what `web` scaled to N processes looks like."""

    def __init__(self, servers: Sequence[DaphneServer]) -> None:
        self.servers = list(servers)
        self.url = self.servers[0].url

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)


def cpu_used_since(
    start: tuple[float, float, float], server: DaphneServer | DaphneFleet, holder: ClientProcess
) -> tuple[float, float, float]:
    daphne_s, clients_s, wall_s = start
    return (
        server.cpu_seconds() - daphne_s,
        holder.cpu_seconds() - clients_s,
        time.perf_counter() - wall_s,
    )


def measure_fanout(
    server: DaphneFleet,
    webhook: Webhook,
    world: BenchWorld,
    session_cookie: str,
    clients: int,
    pushes: int,
    gap_s: float,
    concurrency: int,
) -> FanoutResult:
    group = realtime.wallet_group(world.fanout_wallet.address)
    spec = ClientSpec(
        host="127.0.0.1",
        ports=tuple(daphne.port for daphne in server.servers),
        path=f"/ws/live/?groups={group}",
        origin=server.url,
        session_cookie=session_cookie,
        clients=clients,
        concurrency=concurrency,
    )
    holder = ClientProcess(spec)
    try:
        connected, connect_ms, failures, connect_s = holder.connected(timeout_s=60 + clients * 0.5)
        if connected == 0:
            raise RuntimeError(f"no WebSocket client could connect: {failures}")
        sent_ms: dict[str, float] = {}
        send_call = Distribution()
        cpu: dict[str, tuple[float, float, float]] = {}  # phase: (Daphne s, clients s, wall s) over the measured pushes
        for n in range(WARMUP_PUSHES + pushes):
            if n == WARMUP_PUSHES:
                cpu["synthetic"] = (server.cpu_seconds(), holder.cpu_seconds(), time.perf_counter())
            started_ms = time.time() * 1000
            html = f'<div id="bench-push" hx-swap-oob="true" data-bench-push="{n}" data-sent="{started_ms:.3f}"></div>'
            realtime.send_html(group, html)
            call_ms = time.time() * 1000 - started_ms
            holder.expect(f"bench-push:{n}")
            if n >= WARMUP_PUSHES:
                sent_ms[f"bench-push:{n}"] = started_ms
                send_call.samples.append(call_ms)
            time.sleep(gap_s)
        cpu["synthetic"] = cpu_used_since(cpu["synthetic"], server, holder)
        posted: dict[str, float] = {}
        response = Distribution()
        for n in range(WARMUP_PUSHES + pushes):
            if n == WARMUP_PUSHES:
                cpu["webhook"] = (server.cpu_seconds(), holder.cpu_seconds(), time.perf_counter())
            posted_ms, answered_ms, swap_id = webhook.post_swap(
                world.maker.swap(world.fanout_wallet.address, int(time.time()))
            )
            holder.expect(f"swap-id:{swap_id}")
            if n >= WARMUP_PUSHES:
                posted[f"swap-id:{swap_id}"] = posted_ms
                response.samples.append(answered_ms - posted_ms)
            time.sleep(gap_s)
        cpu["webhook"] = cpu_used_since(cpu["webhook"], server, holder)
        arrivals, dropped = holder.report([*sent_ms, *posted])
    finally:
        holder.close()
    synthetic = delivery(sent_ms, arrivals, connected, send_call)
    webhook_delivery = delivery(posted, arrivals, connected, response)
    for phase, result in (("synthetic", synthetic), ("webhook", webhook_delivery)):
        daphne_s, clients_s, wall_s = cpu[phase]
        result.daphne_cpu_ms, result.clients_cpu_ms = daphne_s * 1000 / pushes, clients_s * 1000 / pushes
        result.wall_ms = wall_s * 1000 / pushes
    return FanoutResult(
        clients=clients,
        connected=connected,
        connect=Distribution(connect_ms),
        connect_s=connect_s,
        failures=failures,
        dropped=dropped,
        synthetic=synthetic,
        webhook=webhook_delivery,
    )
