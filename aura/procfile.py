"""Which processes of a Procfile `make run` starts, and starting them under honcho.

Every line is started except a process that cannot work without a setting that is empty: the
Telegram bot without TELEGRAM_BOT_TOKEN. Honcho stops every process as soon as one exits, so such a
process is left out rather than started only to quit. The environment is honcho's: the process's
own, overridden by the `.env` file of the working directory when there is one.

    python -m aura.procfile Procfile.demo    # prints what is left out and why, then becomes honcho

Imports nothing from Django, so that it can run before settings exist.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from honcho.environ import parse as parse_env_file
from honcho.environ import parse_procfile

# A process that has nothing to do without a setting, and that setting.
NEEDS_SETTING = {"bot": "TELEGRAM_BOT_TOKEN"}
ENV_FILE = ".env"


@dataclass(frozen=True)
class Processes:
    """The processes to start, in the Procfile's order, and those left out with the reason."""

    start: list[str]
    left_out: dict[str, str]


def choose(procfile_text: str, environ: Mapping[str, str]) -> Processes:
    start: list[str] = []
    left_out: dict[str, str] = {}
    for name in parse_procfile(procfile_text).processes:
        setting = NEEDS_SETTING.get(name)
        if setting and not environ.get(setting, "").strip():
            left_out[name] = f"{setting} is not set"
        else:
            start.append(name)
    return Processes(start, left_out)


def honcho_environment(environ: Mapping[str, str], app_root: Path) -> dict[str, str]:
    """What honcho hands its processes: `environ` with the values of `app_root/.env` on top."""
    try:
        env_file = (app_root / ENV_FILE).read_text()
    except OSError:
        env_file = ""
    return {**environ, **parse_env_file(env_file)}


def honcho_command(procfile: Path, processes: Processes) -> list[str]:
    return [sys.executable, "-m", "honcho", "-f", str(procfile), "start", *processes.start]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aura.procfile", description=__doc__.split("\n")[0])
    parser.add_argument("procfile", type=Path)
    args = parser.parse_args(argv)
    processes = choose(args.procfile.read_text(), honcho_environment(os.environ, Path.cwd()))
    for name, reason in processes.left_out.items():
        print(f"{name}: not started, {reason}", flush=True)
    if not processes.start:
        parser.error(f"{args.procfile} leaves no process to start")
    command = honcho_command(args.procfile, processes)
    os.execv(command[0], command)
    return 0  # not reached: this process is honcho now


if __name__ == "__main__":
    sys.exit(main())
