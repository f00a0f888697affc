"""bench/api's load: the logged-in user, Daphne, wrk's runs and the CPU of Daphne and PostgreSQL.

Imported by bench/api.py after bench/pnl.py has pointed Django at the benchmark database and set it up.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from dataclasses import dataclass

import httpx
import psutil
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token as ApiToken

from bench.api_targets import Target
from bench.pnl import BENCH_DATABASE
from bench.pnl_market import MB
from tests.conftest import LiveServer

USERNAME = "bench-api"


# wrk's Lua hooks: count every response that is not a 200 (wrk itself flags only statuses > 399, so
# a redirect to the login page would pass), and print the figures as one JSON line.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_200 = 0
  first_not_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
    if first_not_200 == 0 then first_not_200 = status end
  end
end

function done(summary, latency, requests)
  local others, first = 0, 0
  for _, thread in ipairs(threads) do
    others = others + thread:get("not_200")
    if first == 0 then first = thread:get("first_not_200") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "p50_us": %.0f, "p95_us": %.0f,'
    .. ' "p99_us": %.0f, "max_us": %.0f, "connect_errors": %.0f, "read_errors": %.0f, "write_errors": %.0f,'
    .. ' "status_errors": %.0f, "timeouts": %.0f, "not_200": %.0f, "first_not_200": %.0f}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout, others, first))
end
"""


@dataclass(frozen=True)
class Credentials:
    session_cookie: str
    api_token: str


def log_in() -> Credentials:
    """A normal user's session (stored in the bench database) and DRF token."""
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    client = Client()
    client.force_login(user)
    token, _ = ApiToken.objects.get_or_create(user=user)
    return Credentials(client.cookies[settings.SESSION_COOKIE_NAME].value, token.key)


def headers_for(target: Target, credentials: Credentials) -> dict[str, str]:
    if target.auth == "session":
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={credentials.session_cookie}"}
    if target.auth == "token":
        return {"Authorization": f"Token {credentials.api_token}", "Accept": "application/json"}
    return {}


def daphne_env(debug: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="bench.api_settings",  # the app's settings, API throttle out of the load's reach
        DEBUG="true" if debug else "false",
        # Sessions made here are checked there: the same SECRET_KEY. Plain http on 127.0.0.1.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
    )
    env.setdefault("DATABASE_POOL_SIZE", "10")  # as the Procfile runs the web process
    return env


def check_targets(server: LiveServer, targets: list[Target], credentials: Credentials) -> dict[str, str]:
    """GET each URL a few times (this also warms it up); returns key → why it cannot be measured."""
    problems = {}
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as client:
        for target in targets:
            for _ in range(3):
                response = client.get(target.path, headers=headers_for(target, credentials))
                if response.status_code != 200:
                    where = f" to {response.headers['location']}" if response.is_redirect else ""
                    problems[target.key] = f"answered {response.status_code}{where}"
                    break
                problem = target.check(response)
                if problem:
                    problems[target.key] = problem
                    break
                target.size = len(response.content)
    return problems


def postgres_backends() -> list[psutil.Process]:
    """The PostgreSQL server processes serving the bench database, when they run on this machine."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {BENCH_DATABASE} " in f"{title} ":
            found.append(process)
    return found


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


@dataclass
class Run:
    """One URL loaded once. Latencies in ms; CPU in seconds over the whole run."""

    key: str
    round: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    not_200: int
    first_not_200: int
    socket_errors: int
    timeouts: int
    daphne_cpu_s: float
    postgres_cpu_s: float | None
    load_average: float
    received_mb: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def valid(self) -> bool:
        return self.requests > 0 and self.not_200 == 0 and self.socket_errors == 0 and self.timeouts == 0

    @property
    def daphne_ms_per_request(self) -> float:
        return self.daphne_cpu_s / self.requests * 1000 if self.requests else math.nan

    @property
    def postgres_ms_per_request(self) -> float | None:
        if self.postgres_cpu_s is None or not self.requests:
            return None
        return self.postgres_cpu_s / self.requests * 1000

    def problem(self) -> str:
        parts = []
        if self.not_200:
            parts.append(f"{self.not_200:,} answers not 200 (first: {self.first_not_200})")
        if self.socket_errors:
            parts.append(f"{self.socket_errors:,} socket errors")
        if self.timeouts:
            parts.append(f"{self.timeouts:,} timeouts")
        if not self.requests:
            parts.append("no request completed")
        return "; ".join(parts)


def load(
    server: LiveServer,
    daphne: psutil.Process,
    target: Target,
    credentials: Credentials,
    config: LoadConfig,
    round_: int,
) -> Run:
    """`wrk` on one URL for `config.seconds`, with the CPU Daphne and PostgreSQL spent meanwhile."""
    command = ["wrk", "-t1", f"-c{config.connections}", f"-d{config.seconds}s", "--timeout", "30s"]
    command += ["-s", config.script]
    for name, value in headers_for(target, credentials).items():
        command += ["-H", f"{name}: {value}"]
    command.append(server.url + target.path)
    backends = postgres_backends()
    load_average = os.getloadavg()[0]
    daphne_before, postgres_before = daphne.cpu_times(), cpu_of(backends)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=config.seconds + 120)
    daphne_after = daphne.cpu_times()
    postgres_after = cpu_of(postgres_backends())
    drain(server, daphne)
    line = next((line for line in finished.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip() or finished.stdout.strip()}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    postgres_cpu = (
        sum(seconds - postgres_before.get(pid, 0.0) for pid, seconds in postgres_after.items())
        if postgres_after
        else None
    )
    return Run(
        key=target.key,
        round=round_,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        not_200=int(figures["not_200"]),
        first_not_200=int(figures["first_not_200"]),
        socket_errors=int(figures["connect_errors"] + figures["read_errors"] + figures["write_errors"]),
        timeouts=int(figures["timeouts"]),
        daphne_cpu_s=(daphne_after.user + daphne_after.system) - (daphne_before.user + daphne_before.system),
        postgres_cpu_s=postgres_cpu,
        load_average=load_average,
        received_mb=figures["bytes"] / MB,
    )


def drain(server: LiveServer, daphne: psutil.Process, timeout_s: float = 120) -> None:
    """Wait until Daphne has finished the requests wrk left in flight when it stopped: Django's views
    run one at a time in one thread, so a slow page's leftovers (up to one per connection) would
    otherwise run into the next URL's time and CPU."""
    deadline = time.monotonic() + timeout_s
    httpx.get(f"{server.url}/healthz", timeout=timeout_s)  # served after whatever is queued before it
    while time.monotonic() < deadline:
        before = daphne.cpu_times()
        time.sleep(0.2)
        after = daphne.cpu_times()
        if (after.user + after.system) - (before.user + before.system) < 0.02:
            return


@dataclass(frozen=True)
class LoadConfig:
    seconds: int
    rounds: int
    connections: int
    script: str  # path of the Lua script
