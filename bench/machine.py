"""What every benchmark prints with its figures: the machine, its load, and the library versions.

Figures on a shared 2-CPU machine mean little without the load average at the time, and a change
of SQLAlchemy or aiohttp version can move them as much as a change of ours.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata

LIBRARIES = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "aiohttp",
    "panoramisk",
    "pydantic",
    "argon2-cffi",
    "lxml",
)


def load_average() -> float:
    """The 1-minute load average (runnable processes, on `os.cpu_count()` CPUs)."""
    return os.getloadavg()[0]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def library_versions(names: tuple[str, ...] = LIBRARIES) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def describe_machine() -> str:
    """Two lines: CPUs, model, Python and load average; then the library versions."""
    one, five, fifteen = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
        f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min)\n"
        f"libraries: {library_versions()}"
    )


if __name__ == "__main__":
    print(describe_machine())
