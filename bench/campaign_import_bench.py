"""A list import end to end: a CSV of N rows posted to a running server (REST, parsing in a worker
thread, one `LeadsImported` fact, one transaction of N lead rows in SQLite), timed until the server
answers and until the rows are in the database.

`python -m bench.campaign_import_bench --rows 100000`
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.campaign_bench import import_rows
from callserver.app import start_server
from callserver.config import parse_settings
from callserver.sim import PbxSimulator
from callserver.store.campaigns import CampaignStore

CSRF = {"X-Callserver": "1"}
DIALPLAN = str(Path(__file__).resolve().parents[1] / "asterisk" / "extensions_callserver.conf")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(rows: int) -> None:
    body = "".join(import_rows(rows)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        settings = parse_settings(
            {
                "data_dir": tmp,
                "ami": {"port": _port(), "reconnect_min": 0.05},
                "agi": {"port": _port()},
                "web": {"port": 0},
                "web_users": [{"login": "boss", "name": "Boss", "password": "pw"}],
                "simulator": {"dialplan": [DIALPLAN]},
            },
            "<bench>",
            env={},
        )
        sim = PbxSimulator(settings)
        await sim.start()
        server = await start_server(settings)
        try:
            base = f"http://127.0.0.1:{server.web_port}"
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    base + "/api/login",
                    json={"login": "boss", "password": "pw", "bearer": True},
                    headers=CSRF,
                ) as resp:
                    token = (await resp.json())["token"]
                headers = {**CSRF, "Authorization": f"Bearer {token}"}
                campaign = {"name": "bench", "rule_set": "none", "caller_id": "+12025550100"}
                async with http.post(base + "/api/campaigns", json=campaign, headers=headers) as resp:
                    assert resp.status == 201, await resp.text()
                query = "list=bench&phone=phone,mobile&id=ref&priority=priority&stream=1"
                t = time.perf_counter()
                async with http.post(
                    f"{base}/api/campaigns/bench/lists?{query}",
                    data=body,
                    headers={**headers, "Content-Type": "text/csv"},
                ) as resp:
                    lines = [line async for line in resp.content]
                answered = time.perf_counter() - t
                await server.writer.flush()
                stored = time.perf_counter() - t
            leads = len((await CampaignStore(server.store).load(time.time())).campaigns["bench"].leads)
            print(
                f"import end to end: {rows:,} rows ({len(body) / 1e6:.1f} MB) answered in {answered:.2f} s,"
                f" {leads:,} leads stored after {stored:.2f} s ({len(lines)} progress/report lines)"
            )
        finally:
            await server.stop()
            await sim.stop()


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.campaign_import_bench", description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args(argv)
    asyncio.run(run(args.rows))


if __name__ == "__main__":
    main()
