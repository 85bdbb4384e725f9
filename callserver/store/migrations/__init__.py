"""Alembic migrations for the store; run them with `callserver.store.migrate.upgrade`."""
