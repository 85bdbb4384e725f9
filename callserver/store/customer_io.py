"""`callserver customers import|export`: CSV files in and out of the customer base, from a shell.

An import reads and checks the whole file first (a progress bar on a terminal, by bytes read),
prints every problem with its line and column and stops if there is any: nothing is half
imported. A clean file is then written in one transaction (a second bar, by rows). Without
`--update`, customers already known (same account, else same phone) are left as they are and
counted; with it they are overwritten. Exports stream the base a batch at a time.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import IO

from tqdm import tqdm

from callserver.config import Settings
from callserver.store import customer_csv
from callserver.store.customers import ImportCounts
from callserver.store.store import Store

MAX_PRINTED = 200  # problems printed before "... and N more"


def import_customers(settings: Settings, path: Path, *, update: bool, out: IO[str] | None = None) -> int:
    """Import `path`; prints what happened and returns the exit code (1: nothing imported)."""
    out = out or sys.stdout
    region = settings.customers.default_region
    try:
        size = path.stat().st_size
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        print(f"{path}: cannot read file: {err.strerror}", file=sys.stderr)
        return 1
    with (
        handle,
        tqdm(total=size, unit="B", unit_scale=True, desc="checking", disable=None, leave=False) as bar,
    ):
        read = customer_csv.read_csv(handle, region, on_line=lambda _line: _seen(bar, handle))
    if read.problems:
        messages = read.messages(str(path))
        for message in messages[:MAX_PRINTED]:
            print(message, file=sys.stderr)
        if len(messages) > MAX_PRINTED:
            print(f"... and {len(messages) - MAX_PRINTED} more", file=sys.stderr)
        print(f"{path}: nothing imported: {len(messages)} problem(s)", file=sys.stderr)
        return 1
    counts = asyncio.run(_write(settings, read.rows, update))
    known = f"{counts.updated} updated" if update else f"{counts.skipped} already known, left as they are"
    print(f"{path}: {len(read.rows)} rows: {counts.created} added, {known}", file=out)
    return 0


async def _write(settings: Settings, rows: list[customer_csv.CustomerRow], update: bool) -> ImportCounts:
    store = await Store.open(settings.database_url(), region=settings.customers.default_region)
    try:
        with tqdm(total=len(rows), unit="row", desc="importing", disable=None, leave=False) as bar:
            return await store.import_customers(rows, update=update, progress=bar.update)
    finally:
        await store.close()


def _seen(bar: tqdm[object], handle: IO[str]) -> None:
    """Move the bar to the bytes read so far (the text layer reads ahead in 8 KiB blocks)."""
    position = handle.buffer.tell() if hasattr(handle, "buffer") else 0
    if position > bar.n:
        bar.update(position - bar.n)


def export_customers(settings: Settings, path: Path | None) -> int:
    """Write every customer as CSV to `path` (None: standard output); returns the exit code."""
    try:
        sink = path.open("w", newline="", encoding="utf-8") if path is not None else sys.stdout
    except OSError as err:
        print(f"{path}: cannot write: {err.strerror}", file=sys.stderr)
        return 1
    try:
        count = asyncio.run(_export(settings, sink))
    finally:
        if path is not None:
            sink.close()
    if path is not None:
        print(f"{path}: {count} customers written")
    return 0


async def _export(settings: Settings, sink: IO[str]) -> int:
    store = await Store.open(settings.database_url(), region=settings.customers.default_region)
    count = 0
    try:
        sink.write("".join(customer_csv.csv_lines([], header=True)))
        async for batch in store.export_customers():
            sink.write("".join(customer_csv.csv_lines(batch, header=False)))
            count += len(batch)
    finally:
        await store.close()
    return count
