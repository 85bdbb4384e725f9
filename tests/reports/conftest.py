"""Report tests that touch a database run on SQLite and on a real PostgreSQL (tests/pg.py)."""

from __future__ import annotations

from tests.store.conftest import db_url, pg_server, store

__all__ = ["db_url", "pg_server", "store"]
