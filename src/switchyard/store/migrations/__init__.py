"""Alembic migrations for the Switchyard store (package data; see store/__init__.py)."""
