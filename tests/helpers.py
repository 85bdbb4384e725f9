"""Shared helpers for tests that run the server and the simulator over real loopback TCP."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from callserver.config import Settings, parse_settings

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_settings(tmp_path: Path, *, agents: int | list[dict[str, Any]] = 4, **overrides: Any) -> Settings:
    """A small call centre with second-scale timings, listening on free loopback ports."""
    data: dict[str, Any] = {
        "site": "test",
        "data_dir": str(tmp_path / "data"),
        "ami": {
            "host": "127.0.0.1",
            "port": free_port(),
            "ping_interval": 0.5,
            "action_timeout": 1.0,
            "reconnect_min": 0.05,
            "reconnect_max": 0.3,
        },
        "agi": {"host": "127.0.0.1", "port": free_port()},
        "web": {"host": "127.0.0.1", "port": 0},
        # no wrap-up time unless a test gives one: these centres answer calls as fast as they come
        "acd": {"no_answer_resume": 0.5, "accept_timeout": 1.0, "wrapup": 0},
        "skills": ["support"],
        "agents": agents
        if isinstance(agents, list)
        else [
            {
                "id": f"agent{i}",
                "name": f"Agent {i}",
                "login": f"agent{i}",
                "interface": f"PJSIP/{1000 + i}",
                "skills": {"support": 5},
                "start_available": True,
            }
            for i in range(1, agents + 1)
        ],
        "queues": [
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 4.0,
                "ring_timeout": 1.0,
                "on_timeout": {"message": "vm-goodbye"},
            }
        ],
        "simulator": {
            "dialplan": [str(ROOT / "asterisk" / "extensions_callserver.conf")],
            "callers": {
                "rate_per_minute": 300,
                "numbers": ["+33140000001", "+33140000002", "+33199000009"],
                "dnis": ["500"],
                "patience": [1.0, 6.0],
                "talk_time": [0.3, 1.2],
                "max_calls": 50,
            },
            "phones": {"answer_delay": [0.05, 0.4], "no_answer_rate": 0.1},
            "seed": 7,
        },
    }
    for key, value in overrides.items():
        data[key] = value
    return parse_settings(data, "<test settings>", env={})
