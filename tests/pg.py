"""A throwaway PostgreSQL server for tests: find (or install) the Debian binaries, start a private
cluster on a free loopback port, hand out databases, and tear everything down afterwards.

`CALLSERVER_TEST_PG_URL` points the tests at an existing server instead (the role needs CREATEDB,
since every test gets a fresh database).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ENV_URL = "CALLSERVER_TEST_PG_URL"
USER = "callserver"
DATABASE = "callserver"


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be had here; the message says why, for a loud skip."""


@dataclass
class PgServer:
    url: str  # postgresql+asyncpg://callserver@127.0.0.1:PORT/callserver
    _cleanup: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup()

    async def create_database(self) -> str:
        """A new empty database on this server; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        await _admin(self.url, f'CREATE DATABASE "{name}"')
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    async def drop_database(self, url: str) -> None:
        name = make_url(url).database
        await _admin(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: str, sql: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin that has a server binary."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")

    def major(path: str) -> int:
        part = Path(path).parent.parent.name
        return int(part) if part.isdigit() else 0

    return Path(max(found, key=major)).parent if found else None


def install_postgres() -> Path:
    """apt-get install the server package (root only); `apt-get update` only if the first try fails."""
    if os.geteuid() != 0:
        raise PgUnavailable("no PostgreSQL server binary and not root, so cannot apt-get install")
    if shutil.which("apt-get") is None:
        raise PgUnavailable("no PostgreSQL server binary and no apt-get to install one")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise PgUnavailable(f"apt-get install postgresql failed: {done.stderr.strip()[-500:]}")
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable("postgresql installed but no /usr/lib/postgresql/*/bin/postgres")
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_postgres(tmpdir: Path | None = None) -> PgServer:
    """Start a private cluster (or use CALLSERVER_TEST_PG_URL); raise PgUnavailable with the reason.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user
    and lives in a fresh directory under the system temp dir (pytest's own temp dirs are private
    to root and the server could not enter them).
    """
    if os.environ.get(ENV_URL):
        return PgServer(url=os.environ[ENV_URL])
    bindir = find_bindir() or install_postgres()
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PgUnavailable("running as root and there is no 'postgres' user to run as") from None
        runuser = shutil.which("runuser") or shutil.which("setpriv")
        if runuser is None:
            raise PgUnavailable("running as root and neither runuser nor setpriv is available")
        if runuser.endswith("runuser"):
            prefix = [runuser, "-u", "postgres", "--"]
        else:
            prefix = [runuser, f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups"]
    base = Path(tempfile.mkdtemp(prefix="callserver-pg-", dir=None if owner else tmpdir))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(*args: str, timeout: float = 60) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=base)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()[-800:]
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            raise PgUnavailable(f"{Path(args[0]).name} failed: {detail}\n{tail}")

    def cleanup() -> None:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"],
            capture_output=True,
            timeout=60,
            cwd=base,
        )
        shutil.rmtree(base, ignore_errors=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions")  # fmt: skip
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        run(str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-o", options)
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE)
    except (PgUnavailable, OSError, subprocess.TimeoutExpired) as err:
        cleanup()
        if isinstance(err, PgUnavailable):
            raise
        raise PgUnavailable(f"could not start PostgreSQL from {bindir}: {err}") from err
    return PgServer(url=f"postgresql+asyncpg://{USER}@127.0.0.1:{port}/{DATABASE}", _cleanup=cleanup)
