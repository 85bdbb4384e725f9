"""The call centre a soak runs: many agents on office phones, two queues, callers at a fixed rate,
second-scale talk times so that a few minutes hold tens of thousands of calls."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any

import yaml

from callserver.checks import load_checked
from callserver.config import Settings
from callserver.web import hash_password

ROOT = Path(__file__).resolve().parents[2]
SUPERVISOR = ("soak", "soak-supervisor-password")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def centre(out: Path, *, rate: float, agents: int, ami_port: int) -> dict[str, Any]:
    """The settings as YAML data; callserver reaches AMI at `ami_port` (the relay)."""
    return {
        "site": "soak",
        "data_dir": str(out / "data"),
        "ami": {
            "host": "127.0.0.1",
            "port": ami_port,
            "username": "callserver",
            "secret": "soak-" + secrets.token_hex(8),
            "ping_interval": 1.0,
            "action_timeout": 3.0,
            "reconnect_min": 0.1,
            "reconnect_max": 1.0,
        },
        "agi": {"host": "127.0.0.1", "port": free_port()},
        "web": {"host": "127.0.0.1", "port": free_port()},
        "database": {"url": f"sqlite+aiosqlite:///{out / 'calls.db'}"},
        "acd": {"no_answer_resume": 0.5, "accept_timeout": 1.0, "wrapup": 0},
        "skills": ["support", "sales"],
        "agents": [
            {
                "id": f"agent{i:03d}",
                "name": f"Agent {i}",
                "login": f"agent{i:03d}",
                "interface": f"PJSIP/{2000 + i}",
                "skills": {"support": 5, "sales": 3 + i % 5},
                "start_available": True,
            }
            for i in range(1, agents + 1)
        ],
        # hashed here: a plain password is hashed at every start (argon2, slow on purpose)
        "web_users": [
            {
                "login": SUPERVISOR[0],
                "name": "Soak",
                "role": "supervisor",
                "password": hash_password(SUPERVISOR[1]),
            }
        ],
        "queues": [
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 8.0,
                "ring_timeout": 2.0,
                "on_timeout": {"message": "vm-goodbye"},
            },
            {
                "name": "sales",
                "dnis": ["501"],
                "skills": ["sales"],
                "max_wait": 8.0,
                "ring_timeout": 2.0,
                "on_timeout": {"message": "vm-goodbye"},
            },
        ],
        "simulator": {
            "dialplan": [str(ROOT / "asterisk" / "extensions_callserver.conf")],
            "callers": {
                "rate_per_minute": rate * 60,
                "numbers": ["+33140000001", "+33140000002", "+33199000009", "+447700900123"],
                "dnis": ["500", "501"],
                "patience": [3.0, 12.0],
                "talk_time": [0.5, 3.0],
            },
            "phones": {"answer_delay": [0.05, 0.3], "no_answer_rate": 0.02},
            "desks": {"enabled": False},
            "seed": 11,
        },
    }


def write_centre(out: Path, data: dict[str, Any]) -> tuple[Path, Settings]:
    """Write the configuration file and read it back checked, as `callserver run` will."""
    path = out / "callcentre.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, load_checked(path).settings
