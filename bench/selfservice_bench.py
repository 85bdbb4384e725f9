"""The public self-service page under load, over loopback HTTP against the real server.

Run with `python -m bench.selfservice_bench`. Each simulated customer opens the billing page with
an account number and postcode, goes through the balance and the payment-plan questions to the
callback day and finishes: 5 requests, the last one scheduling a callback (a database row) and
every move published as facts to the store. Many customers at once show what one server process
takes; latencies are per request, as the customer's browser sees them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from callserver.app import start_server
from callserver.config import parse_settings

ROOT = Path(__file__).resolve().parents[1]
SEED_HEAD = "name,phones,account,language,vip,notes,balance,postcode\n"


def _settings(folder: Path, customers: int, database: str = "") -> Any:
    seed = folder / "customers.csv"
    rows = [f"Customer {i},+3314{i:08d},{100000 + i},fr,no,,42.10,75011\n" for i in range(customers)]
    seed.write_text(SEED_HEAD + "".join(rows), encoding="utf-8")
    data = {
        "data_dir": str(folder / "data"),
        "database": {"url": database},
        "ami": {"port": 1, "reconnect_min": 5, "reconnect_max": 30},  # no PBX: the page needs none
        "agi": {"host": "127.0.0.1", "port": 0},
        "web": {"host": "127.0.0.1", "port": 0},
        "skills": ["billing"],
        "agents": [
            {"id": "a1", "name": "A", "login": "a1", "interface": "PJSIP/1001", "skills": {"billing": 5}}
        ],
        "queues": [{"name": "billing", "dnis": ["500"], "skills": ["billing"]}],
        "customers": {
            "seed_file": str(seed),
            "fields": {
                "balance": {"type": "amount"},
                "payment_plan": {"type": "text", "writable": True},
                "postcode": {},
            },
        },
        "scripts": {
            "dir": str(ROOT / "config" / "scripts"),
            "queues": {"billing": "billing"},
            "timezone": "Europe/Paris",
            "web": {
                "factor": "postcode",
                "identify": {"billing": "required"},
                "starts_per_minute": 1_000_000,
                "moves_per_minute": 1_000_000,
                "max_sessions": 1_000_000,
            },
        },
    }
    return parse_settings(data, "<bench>", env={})


async def _customer(http: aiohttp.ClientSession, base: str, i: int, day: str, samples: list[float]) -> None:
    async def timed(method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        t = time.perf_counter()
        async with http.request(method, base + path, json=body, headers=headers) as resp:
            data = await resp.json()
            assert resp.status == 200, data
        samples.append((time.perf_counter() - t) * 1000)
        return data

    opened = await timed(
        "POST", "/start", {"account": str(100000 + i), "factor": "75011"}, {"X-Callserver-Self": "1"}
    )
    token, position = opened["csrf"], opened["page"]["position"]
    for value in (None, "yes", "6", day, None):
        body: dict[str, Any] = {"op": "next", "position": position}
        if value is not None:
            body["value"] = value
        page = (await timed("POST", "/move", body, {"X-Self-Token": token}))["page"]
        position = page.get("position", position)


async def run(customers: int, concurrency: int, database: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_server(_settings(Path(tmp), customers, database))
        try:
            base = f"http://127.0.0.1:{server.web_port}/self/api/billing"
            day = (datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=3)).isoformat()
            samples: list[float] = []
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                async with gate, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                    await _customer(http, base, i, day, samples)

            began = datetime.now(UTC)
            t, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(one(i) for i in range(customers)))
            wall, used = time.perf_counter() - t, time.process_time() - cpu
            await server.writer.flush()
            samples.sort()
            print(
                f"{customers:>9} {concurrency:>11} {len(samples):>8} {len(samples) / wall:>9.0f}"
                f" {statistics.median(samples):>8.1f} {samples[int(len(samples) * 0.99) - 1]:>8.1f}"
                f" {used / len(samples) * 1000:>12.2f}"
            )
            runs = await server.store.script_runs(
                script_id="billing", status="finished", since=began, limit=customers + 1
            )
            assert len(runs) == customers, f"{len(runs)} runs stored for {customers} customers"
        finally:
            await server.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.selfservice_bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one small load")
    ap.add_argument("--database", default="", help="a database URL (default: a fresh SQLite file)")
    args = ap.parse_args(argv)
    backend = args.database.split(":", 1)[0] if args.database else "SQLite"
    print(f"self-service pages over HTTP (aiohttp {version('aiohttp')}, {backend}); times in ms")
    print("customers concurrency requests  req/sec   p50 ms   p99 ms  cpu ms/req")
    loads = [(50, 10)] if args.quick else [(50, 1), (200, 20), (500, 50)]
    for customers, concurrency in loads:
        asyncio.run(run(customers, concurrency, args.database))


if __name__ == "__main__":
    main()
