"""The benchmarks' own database: made on the server DATABASE_URL names, never the developer's."""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.core.management import call_command
from django.db import connections

from aura import embedded
from aura.env import database_config


def use_bench_database(name: str) -> str:
    """Point this process's Django settings (before `django.setup()`) at database `name` on the server
    DATABASE_URL names, the embedded one when it is unset; returns that server's own URL."""
    source_url = os.environ.get("DATABASE_URL") or embedded.database_url()
    os.environ["DATABASE_URL"] = bench_database_url(source_url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aura.settings")
    os.environ.setdefault("DEBUG", "true")  # a developer tool: no SECRET_KEY/ALLOWED_HOSTS to supply
    return source_url


def bench_database_url(url: str, name: str) -> str:
    """`url` with its database name replaced by `name` (host, port, user and options kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def server_connection(source_url: str) -> psycopg.Connection:
    """An autocommit connection to the maintenance database of the server `source_url` names."""
    config = database_config(source_url)
    return psycopg.connect(
        dbname="postgres",
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        autocommit=True,
    )


def drop_bench_database(source_url: str, name: str) -> None:
    """Drop database `name` (and only it), closing this process's connections to it first."""
    connections.close_all()
    with server_connection(source_url) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_bench_database(source_url: str, name: str) -> float:
    """Drop and create database `name`, migrate it (Django is set up pointing at it); returns the
    seconds migrations took. Refuses while another run holds connections to it."""
    if database_config(source_url)["NAME"] == name:
        print(f"note: DATABASE_URL already names {name}; it is dropped and created again")
    with server_connection(source_url) as server:
        (users,) = server.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()
    if users:
        raise SystemExit(f"{name} has {users} open connection(s), another benchmark run's? Not dropping it.")
    drop_bench_database(source_url, name)
    with server_connection(source_url) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    return time.perf_counter() - started
