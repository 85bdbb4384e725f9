"""`callserver campaigns import`: a CSV list into a campaign of the running server, over its REST
API, with a progress bar. The server owns campaigns (the engines run there), so the command is a
client: it logs in, streams the file, and prints the server's report, every bad row with its line
and column; nothing is imported when any row is wrong.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import aiohttp

CSRF = {"X-Callserver": "1"}
BAR = 30


@dataclass(frozen=True, slots=True)
class ImportRequest:
    base_url: str
    login: str
    password: str
    campaign: str
    file: Path
    list_name: str
    phones: tuple[str, ...]
    id: str | None = None
    time_zone: str | None = None
    priority: str | None = None
    region: str | None = None
    fields: tuple[str, ...] = ()


def progress_bar(done: int, total: int) -> str:
    share = done / total if total else 1.0
    filled = round(BAR * share)
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%} {done}/{total} rows"


async def run_import(req: ImportRequest, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Import the file; 0 when the list went in, 1 when the server refused it (or any failure)."""
    try:
        body = req.file.read_bytes()
    except OSError as e:
        print(f"{req.file}: cannot read: {e.strerror}", file=err)
        return 1
    params: dict[str, str] = {"list": req.list_name, "phone": ",".join(req.phones), "stream": "1"}
    for key, value in (("id", req.id), ("time_zone", req.time_zone), ("priority", req.priority)):
        if value:
            params[key] = value
    if req.region:
        params["region"] = req.region
    if req.fields:
        params["fields"] = ",".join(req.fields)
    base = req.base_url.rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/login",
            json={"login": req.login, "password": req.password, "bearer": True},
            headers=CSRF,
        ) as resp:
            if resp.status != 200:
                print(
                    f"login as {req.login} refused: {(await resp.json()).get('error', resp.status)}", file=err
                )
                return 1
            token = (await resp.json())["token"]
        headers = {**CSRF, "Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        url = f"{base}/api/campaigns/{req.campaign}/lists?{urlencode(params)}"
        async with http.post(url, data=body, headers=headers) as resp:
            if resp.status != 200:
                data = await resp.json()
                print(f"import refused: {data.get('error', resp.status)}", file=err)
                return 1
            report: dict[str, Any] | None = None
            async for raw in resp.content:
                line = raw.strip()
                if not line:
                    continue
                message = json.loads(line)
                if "report" in message:
                    report = message["report"]
                else:
                    err.write("\r" + progress_bar(message["progress"], message["total"]))
                    err.flush()
    err.write("\n")
    if report is None:
        print("the server closed the import without a report", file=err)
        return 1
    return _print_report(report, req, out, err)


def _print_report(report: dict[str, Any], req: ImportRequest, out: TextIO, err: TextIO) -> int:
    if not report["ok"]:
        for e in report["errors"]:
            where = f"line {e['line']}, column {e['column']}" if e["line"] else "list"
            print(f"{req.file}: {where}: {e['message']}", file=err)
        if report["more_errors"]:
            print(f"{req.file}: ... and {report['more_errors']} more problems", file=err)
        print(f"nothing imported into {req.campaign}: fix the rows above and import again", file=err)
        return 1
    print(
        f"{report['leads']} leads imported into {req.campaign} as list {req.list_name}"
        f" ({report['rows']} rows, {len(report['duplicates'])} duplicates left out,"
        f" {len(report['dnc'])} numbers on a do-not-call list)",
        file=out,
    )
    return 0


def password_from(env: dict[str, str], ask: Callable[[str], str]) -> str:
    """CALLSERVER_PASSWORD, or asked on the terminal."""
    return env.get("CALLSERVER_PASSWORD") or ask("password: ")


def default_env() -> dict[str, str]:
    return dict(os.environ)
