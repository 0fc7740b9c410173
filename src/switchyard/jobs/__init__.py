"""Durable jobs: the seam (``LeasedWork``, ``JobRunner``) and its two runners, the lease
runner over each kind's own rows (``lease_runner.py``, SQLite) and PgQueuer's queue
(``queue_runner.py``, PostgreSQL). Imports nothing else of Switchyard, so that engine
and retrieval can both run their work on it."""

from switchyard.jobs.lease_runner import InProcessRunner, JobRunner, LeasedWork

__all__ = ["InProcessRunner", "JobRunner", "LeasedWork"]
